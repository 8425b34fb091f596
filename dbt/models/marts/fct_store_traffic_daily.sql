{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_date',
          event_time='period_date') }}
-- The store's daily analytics with the rates a funnel review needs; a zero denominator gives null. A run replaces
-- the days of its window (macros/run_window.sql).
select
    period_date,
    period_start,
    period_end,
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
    {{ safe_divide('successful_orders', 'total_sessions') }} as orders_per_session,
    {{ safe_divide('abandoned_carts', 'add_to_cart') }} as cart_abandonment_rate,
    {{ safe_divide('product_views', 'total_visitors') }} as product_view_rate,
    {{ safe_divide('add_to_cart', 'product_views') }} as add_to_cart_rate,
    {{ safe_divide('checkout_started', 'add_to_cart') }} as checkout_rate,
    {{ safe_divide('successful_orders', 'checkout_started') }} as order_rate,
    {{ safe_divide('revenue', 'successful_orders') }} as average_order_value
from {{ ref('stg_bss_analytics_daily') }}
where {{ in_run_window('period_date') }}
