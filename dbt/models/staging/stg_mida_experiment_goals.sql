{{ config(event_time='snapshot_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_experiment_goals'), ['project_key', 'date', 'test_id', 'goal_key']) }}
)
select
    project_key,
    date as snapshot_date,
    test_id,
    goal_key,
    goal_name,
    goal_type,
    goal_profile_id,
    goal_value,
    is_primary_goal,
    is_late_capture,
    captured_at
from latest
