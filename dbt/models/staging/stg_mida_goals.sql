{{ config(event_time='snapshot_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_goals'), ['project_key', 'date', 'goal_profile_id']) }}
)
select
    project_key,
    date as snapshot_date,
    goal_profile_id,
    goal_key,
    goal_name,
    goal_type,
    goal_value,
    goal_purpose,
    element_url,
    created_at,
    is_late_capture,
    captured_at
from latest
