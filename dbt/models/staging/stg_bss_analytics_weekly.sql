{{ config(event_time='period_date', meta={'window_lead_days': 6}) }}
with latest as (
    {{ latest_capture(source('raw', 'bss_analytics_weekly'), ['date']) }}
)
select
    date as period_date,
    period_start,
    period_end,
    period_stated,
    total_visitors,
    total_sessions,
    total_pageviews,
    product_views,
    add_to_cart,
    checkout_started,
    successful_orders,
    abandoned_carts,
    revenue,
    currency,
    traffic_sources_organic,
    traffic_sources_paid,
    traffic_sources_referral,
    traffic_sources_direct,
    devices_desktop,
    devices_mobile,
    devices_tablet,
    rage_clicks,
    error_clicks,
    captured_at
from latest
