{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='snapshot_date',
          event_time='snapshot_date') }}
-- A table that grows by the day, not a view: the dimensions and the scorecards read every day of it, which costs
-- milliseconds here and a file per project per day in the lake. A run replaces the days of its
-- window (macros/run_window.sql).
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
where {{ in_run_window('date') }}
