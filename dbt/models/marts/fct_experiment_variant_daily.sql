{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='result_date',
          event_time='result_date') }}
-- One row per project, experiment, goal, variant and day, from the day-alone window; a run replaces the days of
-- its window (macros/run_window.sql).
select
    project_key,
    test_id,
    goal_key,
    goal_name,
    is_primary_goal,
    variant_id,
    result_date,
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
where result_window = 'day' and {{ in_run_window('result_date') }}
