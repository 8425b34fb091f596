{{ config(event_time='result_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_experiment_timeseries'),
                      ['project_key', 'date', 'test_id', 'goal_key', 'variant_id']) }}
)
select
    project_key,
    date as result_date,
    test_id,
    goal_key,
    goal_name,
    goal_type,
    is_primary_goal,
    variant_id,
    visitors,
    conversions,
    converted as conversion_events,
    revenue,
    orders,
    quantity,
    currency,
    sum_sq_revenue,
    sum_sq_orders,
    sum_revenue_orders_cross,
    gross_profit,
    total_cogs,
    captured_at
from latest
