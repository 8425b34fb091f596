{{ config(event_time='result_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_experiment_result_segments'),
                      ['project_key', 'date', 'test_id', 'goal_key', 'dimension', 'segment', 'variant_id']) }}
)
select
    project_key,
    date as result_date,
    test_id,
    goal_key,
    dimension,
    segment,
    variant_id,
    is_control,
    visitors,
    conversions,
    conversion_rate / 100.0 as api_conversion_rate,
    improvement / 100.0 as api_improvement,
    revenue,
    orders,
    window_start,
    window_end,
    captured_at
from latest
