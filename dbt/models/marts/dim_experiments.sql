{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'test_id']) }}
-- Latest state of each experiment, with the days it was first seen live and first seen ended.
-- Status history comes from on-time snapshots only: a late capture records today's status,
-- and counting it would pass today's state off as the past.
--
-- Incremental by experiment, from the per-day table of states (stg_mida_experiments). A run with a window
-- (macros/run_window.sql) reads the window's snapshots. An experiment whose held history ends before the window (a
-- daily run) is brought forward from its held row and the window's snapshots alone: every summary here is a first
-- or a last day, so the days before the window add nothing the held row does not say. One whose held history reaches
-- into the window (a backfill, a day synced again), or that is new, is summarised again from all its snapshots.
-- Without a window, every experiment from every snapshot.
{%- set window = run_window() %}
{%- set forward = is_incremental() and window is not none %}
with states as (
    select * from {{ ref('stg_mida_experiments') }}
),
{%- if forward %}

    window_states as (
        select * from states where snapshot_date between date '{{ window[0] }}' and date '{{ window[1] }}'
    ),

    held as (
        select * from {{ this }}
        where last_seen_on < date '{{ window[0] }}'
    ),

    snapshots as (
        select s.*
        from states as s
        where
            exists (select 1 from window_states as w where w.project_key = s.project_key and w.test_id = s.test_id)
            and not exists (select 1 from held as h where h.project_key = s.project_key and h.test_id = s.test_id)
    ),

    -- The experiments brought forward: the held row, then what the window saw.
    seen as (
        select
            w.project_key,
            w.test_id,
            any_value(h.first_seen_on) as first_seen_on,
            max(w.snapshot_date) as last_seen_on,
            coalesce(
                any_value(h.started_on),
                min(w.snapshot_date) filter (where w.status = 'live' and not coalesce(w.is_late_capture, false))
            ) as started_on,
            any_value(h.ended_on) as held_ended_on,
            -- bool_or over the held days and the window's, nulls ignored as bool_or ignores them.
            coalesce(
                any_value(h.has_late_captures) or bool_or(w.is_late_capture),
                any_value(h.has_late_captures),
                bool_or(w.is_late_capture)
            ) as has_late_captures
        from window_states as w
        inner join held as h using (project_key, test_id)
        group by w.project_key, w.test_id
    ),

    -- Used by `history` below, in the same branch (the linter renders the two branches apart).
    brought_forward as (  -- noqa: ST03
        select
            seen.project_key,
            seen.test_id,
            seen.first_seen_on,
            seen.last_seen_on,
            seen.started_on,
            coalesce(
                seen.held_ended_on,
                min(w.snapshot_date) filter (
                    where
                    not coalesce(w.is_late_capture, false)
                    and (w.status = 'inactive' or w.is_completed)
                    and w.snapshot_date > seen.started_on
                )
            ) as ended_on,
            seen.has_late_captures
        from seen
        inner join window_states as w using (project_key, test_id)
        group by
            seen.project_key,
            seen.test_id,
            seen.first_seen_on,
            seen.last_seen_on,
            seen.started_on,
            seen.held_ended_on,
            seen.has_late_captures
    ),
{%- else %}

    snapshots as (
        select * from states
    ),
{%- endif %}

on_time as (
    select * from snapshots where not coalesce(is_late_capture, false)
),

summarised as (
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
    from on_time as s
    inner join summarised as h using (project_key, test_id)
    where (s.status = 'inactive' or s.is_completed) and s.snapshot_date > h.started_on
    group by s.project_key, s.test_id
),

history as (
    select
        summarised.project_key,
        summarised.test_id,
        summarised.first_seen_on,
        summarised.last_seen_on,
        summarised.started_on,
        ended.ended_on,
        summarised.has_late_captures
    from summarised
    left join ended using (project_key, test_id)
    {%- if forward %}
        union all
        select * from brought_forward
    {%- endif %}
),

latest as (
    select *
    from {% if forward %}(
        select * from snapshots
        union all
        select * from window_states
    ) as candidates{% else %}snapshots{% endif %}
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
    history.ended_on,
    history.has_late_captures
from latest
inner join history using (project_key, test_id)
