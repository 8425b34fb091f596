{{ config(meta={'synced_day': 'config_date'}) }}
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
