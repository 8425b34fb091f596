"""Every lake table, declared once: its columns, their types, where each comes from, and what it means.

Everything else derives from these declarations: the Arrow schema each
partition is written with (so a type change in the API shows up at write time,
not as a broken view later), the mapping of a source record onto a row
(extract/rows.py), the raw views (lake/catalog.py), the column schema the
Dagster UI shows, and the dbt source YAML with its tests and freshness (written by lake/dbt_sources.py).
Adding an endpoint's table is one declaration here.
"""

from __future__ import annotations

import pyarrow as pa

from mida_pipeline.lake.table import (
    BOOL,
    DATE,
    FLOAT64,
    INT32,
    INT64,
    STRING,
    UTC_TS,
    AtMost,
    Freshness,
    NonNegative,
    Table,
    c,
)

_EXPERIMENT = (
    c("test_id", INT64, "Experiment id in Mida."),
    c("test_name", STRING, "Experiment name."),
    c("url", STRING, "Page the experiment runs on."),
    c("status_code", INT32, "Mida's status number: 9 draft, 1 live, 0 inactive (paused or ended)."),
    c("status", STRING, "Status as a word: draft, live or inactive."),
    c("is_completed", BOOL, "True once the experiment was marked completed."),
    c("created_at", UTC_TS, "When the experiment was created (UTC)."),
    c("updated_at", UTC_TS, "When the experiment was last changed (UTC)."),
)

_RESULT_TOTALS = (
    c("test_name", STRING, "Experiment name.", "result.test_name"),
    c("status", STRING, "Experiment status as a word (draft, live, inactive).", "result.status"),
    c("status_code", INT32, "Mida's status number (9 draft, 1 live, 0 inactive).", "result.status_code"),
    c("stats_engine", STRING, "The experiment's statistics engine: bayesian or frequentist.", "result.stats_engine"),
    c(
        "confidence_threshold_percent",
        FLOAT64,
        "Significance threshold the experiment uses, in percent.",
        "result.confidence_threshold_percent",
    ),
    c("goal_profile_id", STRING, "Goal profile id of the goal these numbers are for.", "result.goal_profile_id"),
    c(
        "report_phase",
        STRING,
        "Report phase the numbers cover: pre_deploy, post_deploy or all_time.",
        "result.report_phase",
    ),
    c("distribution_mode", STRING, "How traffic is split: equal, custom or mab.", "result.distribution_mode"),
    c("is_mab", BOOL, "True under multi-armed-bandit allocation (no fixed weights).", "result.is_mab"),
    c("days_running", INT32, "Days the experiment had run by the window's end.", "result.days_running"),
    c(
        "serving_variant_id",
        STRING,
        "Variant served to everyone after a winner was deployed, if any.",
        "result.serving_variant_id",
    ),
    c("is_serving", BOOL, "True while the experiment serves traffic.", "result.is_serving"),
    c("traffic_allocation", FLOAT64, "Share of visitors in the experiment, in percent.", "result.traffic_allocation"),
    c(
        "primary_goal_name",
        STRING,
        "Name of the experiment's primary goal, as the result names it.",
        "result.primary_goal.goal_name",
    ),
    c("primary_goal_type", STRING, "Type of the experiment's primary goal.", "result.primary_goal.goal_type"),
    c("total_visitors", INT64, "Visitors of all variants in the window.", "result.total_visitors"),
    c("total_conversions", INT64, "Conversions of all variants in the window.", "result.total_conversions"),
    c("has_revenue", BOOL, "True when the goal tracks revenue.", "result.has_revenue"),
    c("total_revenue", FLOAT64, "Revenue of all variants in the window.", "result.total_revenue"),
    c("total_orders", INT64, "Orders of all variants in the window.", "result.total_orders"),
    c("total_rpv", FLOAT64, "Revenue per visitor of all variants.", "result.rpv"),
    c("total_aov", FLOAT64, "Average order value of all variants.", "result.aov"),
)

_VARIANT_NUMBERS = (
    c("variant_id", STRING, "Variant id as text; '0' is control.", "variant.variant_id"),
    c(
        "name",
        STRING,
        "Variant name as the API gives it (sometimes its nickname, sometimes 'Variant N').",
        "variant.name",
    ),
    c("nickname", STRING, "Variant nickname, when the API gives one apart from the name.", "variant.nickname"),
    c("is_control", BOOL, "True for the control variant (the API's flag, else variant '0').", "variant.is_control"),
    c("visitors", INT64, "Visitors of the variant in the window.", "variant.visitors"),
    c("conversions", INT64, "Visitors of the variant who converted on the goal in the window.", "variant.conversions"),
    c(
        "conversion_rate",
        FLOAT64,
        "Conversion rate as the API gives it, in percent (10.0 is 10 %).",
        "variant.conversion_rate",
    ),
    c(
        "improvement",
        FLOAT64,
        "Lift against control as the API gives it, in percent; null on control.",
        "variant.improvement",
    ),
    c("revenue", FLOAT64, "Revenue of the variant in the window; null when the goal tracks none.", "variant.revenue"),
    c("orders", INT64, "Orders of the variant in the window.", "variant.orders"),
    c("rpv", FLOAT64, "Revenue per visitor of the variant.", "variant.rpv"),
    c("aov", FLOAT64, "Average order value of the variant.", "variant.aov"),
    c("currency", STRING, "Currency of revenue.", lambda item: item.variant.currency or item.result.currency),
    c(
        "revenue_per_visitor_improvement",
        FLOAT64,
        "Revenue-per-visitor lift against control, in percent.",
        "variant.revenue_per_visitor_improvement",
    ),
    c("traffic_weight", FLOAT64, "Configured share of traffic, in percent; null under MAB.", "variant.traffic_weight"),
    c("variant_status", STRING, "active or paused.", "variant.variant_status"),
)

_GOAL_OF_RESULT = (
    c(
        "goal_key",
        STRING,
        "Key of the goal these numbers are for; null only when the API names none for the primary goal.",
        "goal.goal_key",
    ),
    c("goal_name", STRING, "Name of the goal these numbers are for.", "goal.goal_name"),
    c(
        "goal_type",
        STRING,
        "Type of the goal these numbers are for (pageview, clickOnElement, revenue, ...).",
        "goal.goal_type",
    ),
    c(
        "is_primary_goal",
        BOOL,
        "True for the experiment's primary goal, false for a secondary goal.",
        "goal.is_primary",
    ),
)

BSS_METRICS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("total_visitors", INT64, "Visitors of the store in the period."),
    ("total_sessions", INT64, "Sessions in the period."),
    ("total_pageviews", INT64, "Page views in the period."),
    ("product_views", INT64, "Funnel step 1: sessions that viewed a product."),
    ("add_to_cart", INT64, "Funnel step 2: sessions that added to cart."),
    ("checkout_started", INT64, "Funnel step 3: sessions that started checkout."),
    ("successful_orders", INT64, "Funnel step 4: orders placed."),
    ("abandoned_carts", INT64, "Carts abandoned in the period."),
    ("revenue", FLOAT64, "Revenue in the period."),
    ("currency", STRING, "Currency of revenue."),
    ("traffic_sources_organic", INT64, "Visitors from organic search."),
    ("traffic_sources_paid", INT64, "Visitors from paid campaigns."),
    ("traffic_sources_referral", INT64, "Visitors from referring sites."),
    ("traffic_sources_direct", INT64, "Visitors who came directly."),
    ("devices_desktop", INT64, "Visitors on desktop."),
    ("devices_mobile", INT64, "Visitors on mobile."),
    ("devices_tablet", INT64, "Visitors on tablet."),
    ("rage_clicks", INT64, "Rage clicks recorded."),
    ("error_clicks", INT64, "Clicks that hit an error."),
)

_BSS = (
    c("frequency", STRING, "daily or weekly."),
    c("period_start", DATE, "First day of the period the numbers cover.", "start_date"),
    c("period_end", DATE, "Last day of the period the numbers cover.", "end_date"),
    c("period_stated", BOOL, "True when the response itself stated its period (else it was the latest closed one)."),
    *(c(name, type_, text, f"metrics.{name}") for name, type_, text in BSS_METRICS),
)


def _store_counts(table: str) -> NonNegative:
    return NonNegative(
        f"{table}_counts_non_negative",
        "Store counts are never negative.",
        (
            "total_visitors",
            "total_sessions",
            "successful_orders",
            "abandoned_carts",
            "product_views",
            "add_to_cart",
            "checkout_started",
        ),
    )


_DECLARED = (
    Table(
        "mida_experiments",
        ("project_key", "date", "test_id"),
        "Every experiment of each project as the API described it when the day was synced.",
        (
            *_EXPERIMENT,
            c("goal_profile_id", STRING, "Goal profile id of the experiment's primary goal."),
            c("traffic_allocation", FLOAT64, "Share of visitors in the experiment, in percent."),
            c("confidence_interval", FLOAT64, "Confidence level configured on the experiment, in percent."),
            c("serving_variant_id", STRING, "Variant served to everyone after a winner was deployed, if any."),
            c("is_deploy", BOOL, "True when a winner is deployed."),
            c("variant_count", INT32, "Number of variants, control included.", lambda d: len(d.variants)),
            c("primary_goal_name", STRING, "Name of the primary goal.", "primary_goal.goal_name"),
            c("primary_goal_type", STRING, "Type of the primary goal.", "primary_goal.goal_type"),
        ),
        snapshot=True,
    ),
    Table(
        "mida_experiment_variants",
        ("project_key", "date", "test_id", "variant_id"),
        "The variants of each experiment, from the same snapshot.",
        (
            c("test_id", INT64, "Experiment id in Mida.", "experiment.test_id"),
            c("variant_id", STRING, "Variant id as text; '0' is control.", "variant.variant_id"),
            c("name", STRING, "Variant name.", "variant.name"),
            c("nickname", STRING, "Variant nickname.", "variant.nickname"),
            c("is_control", BOOL, "True for the control variant.", "variant.is_control"),
        ),
        snapshot=True,
        raw_source="variant.raw",
    ),
    Table(
        "mida_experiment_results",
        ("project_key", "date", "test_id", "is_primary_goal", "goal_key", "variant_id", "window"),
        "Per-variant results of every goal of each experiment, for the day alone and cumulative to the day.",
        (
            c("test_id", INT64, "Experiment id in Mida.", "result.test_id"),
            c("variant_id", STRING, "Variant id as text; '0' is control.", "variant.variant_id"),
            c("window", STRING, "'day': the partition day alone; 'cumulative': from the start to the day.", "window"),
            c("window_start", DATE, "First day the numbers cover, as the API states it.", "result.start_date"),
            c("window_end", DATE, "Last day the numbers cover, as the API states it.", "result.end_date"),
            *_GOAL_OF_RESULT,
            *[col for col in _VARIANT_NUMBERS if col.name != "variant_id"],
            *_RESULT_TOTALS,
        ),
        raw_source="variant.raw",
        checks=(
            NonNegative(
                "results_counts_non_negative",
                "Visitors, conversions, orders and revenue are never negative.",
                ("visitors", "conversions", "orders", "revenue"),
            ),
            AtMost(
                "results_conversions_within_visitors",
                "No variant converts more visitors than it had.",
                "conversions",
                "visitors",
            ),
        ),
    ),
    Table(
        "mida_experiment_timeseries",
        ("project_key", "date", "test_id", "goal_key", "variant_id"),
        "Each experiment's daily rows per goal and variant, as the dashboard's chart has them, with the per-visitor "
        "second moments revenue goals carry (what a revenue-per-visitor test needs).",
        (
            c("test_id", INT64, "Experiment id in Mida.", "series.test_id"),
            c("goal_key", STRING, "Key of the goal the row is for.", "series.goal_key"),
            c("goal_name", STRING, "Name of the goal the row is for.", "series.goal_name"),
            c("goal_type", STRING, "Type of the goal the row is for (pageview, revenue, ...).", "series.goal_type"),
            c("is_primary_goal", BOOL, "True for the experiment's primary goal.", "is_primary"),
            c("variant_id", STRING, "Variant id as text; '0' is control.", "row.variant_id"),
            c("visitors", INT64, "Visitors of the variant on the day.", "row.visitors"),
            c(
                "conversions",
                INT64,
                "Visitors who converted on the day: the API's `conversion`, what its result counts as conversions.",
                "row.conversion",
            ),
            c(
                "converted",
                INT64,
                "The API's `converted`: conversion events, a visitor converting twice counted twice.",
                "row.converted",
            ),
            c("revenue", FLOAT64, "Revenue of the variant on the day.", "row.revenue"),
            c("orders", INT64, "Orders placed on the day (the API's `no_of_order`).", "row.no_of_order"),
            c("quantity", INT64, "Items ordered on the day.", "row.quantity"),
            c("currency", STRING, "Currency of revenue.", "row.currency"),
            c(
                "sum_sq_revenue",
                FLOAT64,
                "Sum over the day's visitors of their revenue squared; null when the API omits it.",
                "row.sum_sq_revenue",
            ),
            c(
                "sum_sq_orders",
                FLOAT64,
                "Sum over the day's visitors of their order count squared; null when the API omits it.",
                "row.sum_sq_orders",
            ),
            c(
                "sum_revenue_orders_cross",
                FLOAT64,
                "Sum over the day's visitors of revenue times orders; null when the API omits it.",
                "row.sum_revenue_orders_cross",
            ),
            c("gross_profit", FLOAT64, "Gross profit on the day, when the API gives it.", "row.gross_profit"),
            c("total_cogs", FLOAT64, "Cost of goods sold on the day, when the API gives it.", "row.total_cogs"),
            c("duration", FLOAT64, "The row's `duration` as the API gives it.", "row.duration"),
            c("created_at", UTC_TS, "The row's `created_at` (UTC).", "row.created_at"),
            c("updated_at", UTC_TS, "The row's `updated_at` (UTC).", "row.updated_at"),
        ),
        raw_source="row.raw",
        checks=(
            NonNegative(
                "timeseries_counts_non_negative",
                "Visitors, conversions, orders, revenue and the sums of squares are never negative.",
                ("visitors", "conversions", "orders", "revenue", "sum_sq_revenue", "sum_sq_orders"),
            ),
            AtMost(
                "timeseries_conversions_within_visitors",
                "No variant converts more visitors on a day than it had.",
                "conversions",
                "visitors",
            ),
        ),
    ),
    Table(
        "mida_experiment_goals",
        ("project_key", "date", "test_id", "goal_key"),
        "Every goal each experiment measures: its primary goal and its secondary goals.",
        (
            c("test_id", INT64, "Experiment id in Mida.", "test_id"),
            c("goal_key", STRING, "Goal key (null only when the API names none for the primary goal)."),
            c("goal_name", STRING, "Goal name."),
            c("goal_type", STRING, "Goal type (pageview, clickOnElement, revenue, ...)."),
            c("goal_profile_id", STRING, "Goal profile id, when the API gives it."),
            c(
                "goal_value",
                STRING,
                "What the goal watches or is worth, as text (a selector, an event name, a number).",
                lambda g: None if g.goal_value is None else str(g.goal_value),
            ),
            c("is_primary_goal", BOOL, "True for the experiment's primary goal.", "is_primary"),
        ),
        snapshot=True,
    ),
    Table(
        "mida_goals",
        ("project_key", "date", "goal_profile_id"),
        "The goals defined in each project, as a snapshot of the synced day.",
        (
            c("goal_profile_id", STRING, "Goal profile id."),
            c("goal_key", STRING, "Goal key."),
            c("goal_name", STRING, "Goal name."),
            c("goal_type", STRING, "Goal type (pageview, clickOnElement, revenue, ...)."),
            c("goal_value", FLOAT64, "Value Mida assigns to one conversion."),
            c("goal_purpose", STRING, "sell, engage or generate."),
            c("element_url", STRING, "URL or element the goal watches."),
            c(
                "status",
                STRING,
                "Goal status as the API gives it.",
                lambda g: None if g.status is None else str(g.status),
            ),
            c("created_at", UTC_TS, "When the goal was created (UTC)."),
        ),
        snapshot=True,
    ),
    Table(
        "mida_events",
        ("project_key", "date", "event_id"),
        "The custom events defined in each project, as a snapshot of the synced day.",
        (
            c("event_id", STRING, "Event id."),
            c("event_text", STRING, "Event name as sent by the site."),
            c("event_property", STRING, "Event properties as JSON text."),
            c("created_at", UTC_TS, "When the event was first defined (UTC)."),
            c("event_type", STRING, "Event type."),
            c("url", STRING, "URL the event was defined on."),
            c("event_path", STRING, "Path the event was defined on."),
            c("status", INT32, "1 active, 2 deleted."),
        ),
        snapshot=True,
    ),
    Table(
        "mida_project_configuration",
        ("project_key", "date"),
        "Each project's statistics settings: the engine, one or two tails, the threshold and its goals.",
        (
            c("stats_engine", STRING, "bayesian or frequentist."),
            c("tails", INT32, "1 for a one-tailed, 2 for a two-tailed frequentist test."),
            c("confidence_threshold_percent", FLOAT64, "Threshold a winner must pass, in percent."),
            c("confidence_level", FLOAT64, "Confidence level as the API gives it."),
            c("analysis_method", STRING, "Mida's code for the engine: '1' Bayesian, '0' frequentist."),
            c("frequentist_type", STRING, "Mida's code for the tails: '0' one-tailed, '2' two-tailed."),
            c("primary_goal_id", STRING, "Goal profile id of the project's primary goal."),
            c("primary_goal_key", STRING, "Key of the project's primary goal."),
            c("secondary_goal_count", INT32, "Number of the project's secondary goals (listed in raw)."),
        ),
        snapshot=True,
    ),
    Table(
        "mida_projects",
        ("date", "project_key"),
        "Every project of the company the API key belongs to, active or paused.",
        (
            c("project_key", STRING, "Project key."),
            c("name", STRING, "Project name."),
            c("website_name", STRING, "Website name."),
            c("allowed_website", STRING, "Domain the project runs on."),
            c("monthly_average_traffic", INT64, "Monthly average traffic Mida reports."),
            c("shopify_id", STRING, "Shopify store id, when the site is a Shopify store."),
            c("status", INT32, "1 active, 0 paused."),
            c("is_active", BOOL, "True when the project is active (only active projects are synced by discovery)."),
            c("company_id", STRING, "Company the projects belong to."),
            c("created_at", UTC_TS, "When the project was created (UTC)."),
            c("updated_at", UTC_TS, "When the project was last changed (UTC)."),
        ),
        has_project=False,
        snapshot=True,
    ),
    Table(
        "mida_experiment_result_segments",
        ("project_key", "date", "test_id", "goal_key", "dimension", "segment", "variant_id"),
        "Each experiment's cumulative primary-goal result broken down by a dimension (device, country, ...).",
        (
            c("test_id", INT64, "Experiment id in Mida.", "test_id"),
            c("goal_key", STRING, "Key of the goal (the primary goal).", "goal_key"),
            c("dimension", STRING, "What the breakdown is by (device, country, user_type, ...).", "dimension"),
            c("segment", STRING, "The segment's value (mobile, FR, new, ...).", "segment.criteria"),
            c("variant_id", STRING, "Variant id as text; '0' is control.", "variant.variant_id"),
            c("is_control", BOOL, "True for the control variant.", "variant.is_control"),
            c("visitors", INT64, "Visitors of the variant in the segment.", "variant.visitors"),
            c("conversions", INT64, "Conversions of the variant in the segment.", "variant.conversions"),
            c(
                "conversion_rate",
                FLOAT64,
                "Conversion rate as the API gives it, in percent.",
                "variant.conversion_rate",
            ),
            c(
                "improvement",
                FLOAT64,
                "Lift against control within the segment, in percent, as the API gives it.",
                "variant.improvement",
            ),
            c("revenue", FLOAT64, "Revenue of the variant in the segment.", "variant.revenue"),
            c("orders", INT64, "Orders of the variant in the segment.", "variant.orders"),
            c("window_start", DATE, "First day the numbers cover.", "window_start"),
            c("window_end", DATE, "Last day the numbers cover.", "window_end"),
        ),
        raw_source="variant.raw",
        checks=(
            NonNegative(
                "segments_counts_non_negative",
                "Visitors, conversions, orders and revenue are never negative.",
                ("visitors", "conversions", "orders", "revenue"),
            ),
            AtMost(
                "segments_conversions_within_visitors",
                "No segment of a variant converts more visitors than it had.",
                "conversions",
                "visitors",
            ),
        ),
    ),
    Table(
        "bss_analytics_daily",
        ("date",),
        "The store's analytics for one day.",
        _BSS,
        has_project=False,
        checks=(_store_counts("bss_analytics_daily"),),
        freshness=Freshness((36, "hour"), (84, "hour")),
    ),
    Table(
        "bss_analytics_weekly",
        ("date",),
        "The store's analytics for one Monday-to-Sunday week.",
        _BSS,
        has_project=False,
        checks=(_store_counts("bss_analytics_weekly"),),
        freshness=Freshness((8, "day"), (15, "day")),
        window_lead_days=6,
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in _DECLARED}
