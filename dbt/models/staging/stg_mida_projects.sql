{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='snapshot_date',
          event_time='snapshot_date') }}
-- A table that grows by the day, not a view: the dimensions and the scorecards read every day of it, which costs
-- milliseconds here and a file per project per day in the lake. A run replaces the days of its
-- window (macros/run_window.sql).
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
where {{ in_run_window('date') }}
