{{ config(meta={'synced_day': 'snapshot_date'}) }}
with latest as (
    {{ latest_capture(source('raw', 'mida_experiments'), ['project_key', 'date', 'test_id']) }}
)
select
    project_key,
    date as snapshot_date,
    test_id,
    test_name,
    url,
    status_code,
    status,
    is_completed,
    created_at,
    updated_at,
    goal_profile_id,
    traffic_allocation,
    confidence_interval,
    variant_count,
    primary_goal_name,
    primary_goal_type,
    is_late_capture,
    captured_at
from latest
