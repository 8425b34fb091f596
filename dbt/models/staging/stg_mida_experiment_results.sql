with latest as (
    {{ latest_capture(source('raw', 'mida_experiment_results'), ['project_key', 'date', 'test_id', 'variant_id', '"window"']) }}
)
select
    project_key,
    date as result_date,
    "window" as result_window,
    window_start,
    window_end,
    test_id,
    test_name,
    status,
    variant_id,
    coalesce(nickname, name) as variant_name,
    is_control,
    visitors,
    conversions,
    conversion_rate / 100.0 as api_conversion_rate,
    improvement / 100.0 as api_improvement,
    coalesce(revenue, 0) as revenue,
    coalesce(orders, 0) as orders,
    currency,
    traffic_weight / 100.0 as traffic_weight,
    variant_status,
    stats_engine,
    confidence_threshold_percent,
    goal_profile_id,
    distribution_mode,
    is_mab,
    days_running,
    captured_at
from latest
