-- Latest state of each experiment, with the days it was first seen live and first seen ended.
-- Status history comes from on-time snapshots only: a late capture records today's status,
-- and counting it would pass today's state off as the past.
with snapshots as (
    select * from {{ ref('stg_mida_experiments') }}
),

on_time as (
    select * from snapshots where not coalesce(is_late_capture, false)
),

history as (
    select
        project_key,
        test_id,
        min(snapshot_date) as first_seen_on,
        max(snapshot_date) as last_seen_on,
        min(snapshot_date) filter (where status = 'live' and not coalesce(is_late_capture, false)) as started_on,
        bool_or(is_late_capture) as has_late_captures
    from snapshots
    group by project_key, test_id
),

ended as (
    select s.project_key, s.test_id, min(s.snapshot_date) as ended_on
    from on_time s
    join history h using (project_key, test_id)
    where (s.status = 'inactive' or s.is_completed) and s.snapshot_date > h.started_on
    group by s.project_key, s.test_id
),

latest as (
    select * from snapshots
    qualify row_number() over (partition by project_key, test_id order by snapshot_date desc, captured_at desc) = 1
)

select
    latest.project_key,
    latest.test_id,
    latest.test_name,
    latest.url,
    latest.status,
    latest.status_code,
    latest.is_completed,
    latest.variant_count,
    latest.goal_profile_id as primary_goal_profile_id,
    latest.primary_goal_name,
    latest.primary_goal_type,
    latest.traffic_allocation,
    latest.confidence_interval as confidence_threshold_percent,
    latest.created_at,
    latest.updated_at,
    history.first_seen_on,
    history.last_seen_on,
    history.started_on,
    ended.ended_on,
    history.has_late_captures
from latest
join history using (project_key, test_id)
left join ended using (project_key, test_id)
