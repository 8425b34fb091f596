{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='date',
          full_refresh=rebuild_unless_synced_days(), meta={'synced_day': 'date'}) }}
-- One row per project, experiment, goal, variant and day, from the day-alone window; a run replaces the days it
-- synced (macros/synced_days.sql).
select
    project_key,
    test_id,
    goal_key,
    goal_name,
    is_primary_goal,
    variant_id,
    result_date as date,
    test_name,
    variant_name,
    is_control,
    visitors,
    conversions,
    {{ safe_divide('conversions', 'visitors') }} as conversion_rate,
    revenue,
    orders,
    {{ safe_divide('revenue', 'visitors') }} as revenue_per_visitor
from {{ ref('stg_mida_experiment_results') }}
where result_window = 'day' and {{ in_synced_days('result_date') }}
