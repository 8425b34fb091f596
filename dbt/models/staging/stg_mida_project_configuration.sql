{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='config_date',
          event_time='config_date') }}
-- A table that grows by the day, not a view: the dimensions and the scorecards read every day of it, which costs
-- milliseconds here and a file per project per day in the lake. A run replaces the days of its
-- window (macros/run_window.sql).
with latest as (
    {{ latest_capture(source('raw', 'mida_project_configuration'), ['project_key', 'date']) }}
)
select
    project_key,
    date as config_date,
    lower(stats_engine) as stats_engine,
    tails,
    confidence_threshold_percent,
    primary_goal_id as primary_goal_profile_id,
    primary_goal_key,
    secondary_goal_count,
    is_late_capture,
    captured_at
from latest
where {{ in_run_window('date') }}
