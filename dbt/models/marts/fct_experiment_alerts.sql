{{ config(materialized='table') }}
-- One row per alert: a condition of the scorecard's history that a person should act on, from the first synced day
-- it held (raised_on) to the first synced day it no longer did (cleared_on, null while it holds). Derived from the
-- history alone, so a backfill raises the same alerts as the days lived through; the same condition on the next
-- day is the same alert. Its identity (alert_id) is what delivery records as sent (defs/alerts.py).
--
-- A day counts as live while the experiment is live, or up to the day it ended: after that its results stop
-- moving, and no alert about a running experiment may hold.
{%- set year = 365 %}

with experiments as (
    select
        project_key,
        test_id,
        test_name,
        case when status = 'live' then date '9999-12-31' else coalesce(ended_on, updated_at::date) end as live_until
    from {{ ref('dim_experiments') }}
),

history as (
    select
        h.*,
        h.as_of_date::date as day,
        e.test_name as experiment_name,
        h.as_of_date::date <= coalesce(e.live_until, date '0001-01-01') as is_live
    from {{ ref('fct_experiment_scorecard_daily') }} as h
    inner join experiments as e using (project_key, test_id)
),

primary_goal as (
    select * from history where is_primary_goal
),

-- Every synced day of each experiment: the days on which an alert is seen to hold, or to have stopped holding.
days as (
    select distinct project_key, test_id, day from primary_goal
),

traffic as (
    select
        project_key,
        test_id,
        day,
        any_value(is_live) as is_live,
        any_value(experiment_name) as experiment_name,
        sum(visitors) as visitors,
        max(srm_p_value) filter (where srm_flag) as srm_p_value,
        lag(sum(visitors), 2) over (partition by project_key, test_id order by day) as visitors_two_days_before
    from primary_goal
    group by project_key, test_id, day
),

conditions as (
    select
        project_key,
        test_id,
        null::varchar as goal_key,
        null::varchar as variant_id,
        'srm' as alert_kind,
        day,
        format(
            '{}: visitors are not split as configured (sample-ratio p = {:.2g}); check targeting, redirects and bot '
            || 'filtering before reading any result',
            experiment_name, srm_p_value
        ) as message
    from traffic
    where is_live and srm_p_value is not null

    union all

    select
        project_key,
        test_id,
        null as goal_key,
        null as variant_id,
        'no_traffic' as alert_kind,
        day,
        format(
            '{}: no new visitors for two synced days (still {:,} in all); check that it still runs on the site',
            experiment_name, visitors
        ) as message
    from traffic
    where is_live and visitors = visitors_two_days_before

    union all

    select
        project_key,
        test_id,
        goal_key,
        variant_id,
        'ready_to_call' as alert_kind,
        day,
        format(
            '{}: {} is a safe {} on {} ({:+.1f} % relative, sequential p {:.2g}); ready to call',
            experiment_name, variant_name, safe_verdict, coalesce(goal_name, goal_key, 'the primary goal'),
            100 * rel_lift, sequential_p_value_holm
        ) as message
    from primary_goal
    where is_live and not is_control and safe_verdict in ('winner', 'loser')

    union all

    select
        s.project_key,
        s.test_id,
        s.goal_key,
        s.variant_id,
        'secondary_goal_harm' as alert_kind,
        s.day,
        format(
            '{}: {} wins on {} but safely loses on {} ({:+.1f} % relative); weigh the trade-off before shipping it',
            s.experiment_name, s.variant_name, coalesce(p.goal_name, p.goal_key, 'the primary goal'),
            coalesce(s.goal_name, s.goal_key), 100 * s.rel_lift
        ) as message
    from history as s
    inner join primary_goal as p
        on s.project_key = p.project_key and s.test_id = p.test_id and s.variant_id = p.variant_id and s.day = p.day
    where
        s.is_live and not s.is_primary_goal and not s.is_control
        and p.safe_verdict = 'winner' and s.safe_verdict = 'loser'

    union all

    select
        project_key,
        test_id,
        goal_key,
        variant_id,
        'underpowered' as alert_kind,
        day,
        format(
            '{}: {} needs about {:,} more days to decide at this traffic; stop it, or test a bolder change',
            experiment_name, variant_name, days_remaining
        ) as message
    from primary_goal
    where
        is_live and not is_control and days_remaining > {{ year }}
        and coalesce(safe_verdict, 'inconclusive') not in ('winner', 'loser', 'srm_warning')
),

alert_keys as (
    select distinct project_key, test_id, goal_key, variant_id, alert_kind from conditions
),

timeline as (
    select
        k.project_key,
        k.test_id,
        k.goal_key,
        k.variant_id,
        k.alert_kind,
        d.day,
        c.message,
        c.day is not null as holds
    from alert_keys as k
    inner join days as d using (project_key, test_id)
    left join conditions as c
        on
            k.project_key = c.project_key and k.test_id = c.test_id and k.alert_kind = c.alert_kind
            and k.goal_key is not distinct from c.goal_key and k.variant_id is not distinct from c.variant_id
            and d.day = c.day
),

-- Each run of days on which it holds starts an episode; the days after it, until the next start, belong to it.
episodes as (
    select
        *,
        sum(case when holds and not coalesce(previous_holds, false) then 1 else 0 end) over (
            partition by project_key, test_id, goal_key, variant_id, alert_kind order by day
            rows between unbounded preceding and current row
        ) as episode
    from (
        select
            *,
            lag(holds) over (partition by project_key, test_id, goal_key, variant_id, alert_kind order by day)
                as previous_holds
        from timeline
    ) as marked
),

alerts as (
    select
        project_key,
        test_id,
        goal_key,
        variant_id,
        alert_kind,
        min(day) filter (where holds) as raised_on,
        min(day) filter (where not holds) as cleared_on,
        arg_min(message, day) filter (where holds) as message
    from episodes
    where episode > 0
    group by project_key, test_id, goal_key, variant_id, alert_kind, episode
)

select
    md5(concat_ws('|', project_key, test_id, coalesce(goal_key, ''), coalesce(variant_id, ''), alert_kind, raised_on))
        as alert_id,
    project_key,
    test_id,
    goal_key,
    variant_id,
    alert_kind,
    raised_on,
    cleared_on,
    cleared_on is null as is_open,
    message
from alerts
