{{ config(meta={'synced_day': 'snapshot_date'}) }}
with latest as (
    {{ latest_capture(source('raw', 'mida_projects'), ['date', 'project_key']) }}
)
select
    project_key,
    date as snapshot_date,
    name as project_name,
    website_name,
    allowed_website as domain,
    monthly_average_traffic,
    status as status_code,
    is_active,
    company_id,
    created_at,
    updated_at,
    is_late_capture,
    captured_at
from latest
