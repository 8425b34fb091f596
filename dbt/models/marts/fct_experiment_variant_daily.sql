-- One row per project, experiment, goal, variant and day, from the day-alone window.
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
where result_window = 'day'
