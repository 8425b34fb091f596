"""Mida's own example bodies (public V2 docs, repository mida-so/api-docs, revision of 2026-08), transcribed, and the
check that a sandbox body has their shape: every key the example has, with a value of the same kind."""

from __future__ import annotations

# docs/v2/get-experiment-result.md, "Success response"
RESULT = {
    "success": True,
    "test_id": 1234,
    "test_name": "Homepage CTA Button Color Test",
    "status": "live",
    "status_code": 1,
    "start_date": "2024-01-15T10:30:00.000Z",
    "end_date": None,
    "days_running": 15,
    "primary_goal": {"goal_name": "CTA Button Click", "goal_type": "clickOnElement", "goal_value": ".cta-button"},
    "stats_engine": "bayesian",
    "confidence_threshold_percent": 95,
    "serving_variant_id": "1",
    "is_serving": True,
    "report_phase": "pre_deploy",
    "traffic_allocation": 100,
    "distribution_mode": "equal",
    "is_mab": False,
    "total_visitors": 2980,
    "total_conversions": 268,
    "has_revenue": True,
    "total_revenue": 12450.00,
    "total_orders": 312,
    "rpv": 4.18,
    "aov": 39.90,
    "currency": "USD",
    "variants": [
        {
            "variant_id": "0",
            "name": "Control",
            "visitors": 1500,
            "conversions": 120,
            "conversion_rate": 8.0,
            "revenue": 5800.00,
            "orders": 145,
            "rpv": 3.87,
            "aov": 40.00,
            "currency": "USD",
            "traffic_weight": 50,
            "variant_status": "active",
            "is_control": True,
        },
        {
            "variant_id": "1",
            "name": "Red CTA Button",
            "visitors": 1480,
            "conversions": 148,
            "conversion_rate": 10.0,
            "improvement": 25.0,
            "revenue": 6650.00,
            "orders": 167,
            "rpv": 4.49,
            "aov": 39.82,
            "currency": "USD",
            "revenue_per_visitor_improvement": 16.02,
            "traffic_weight": 50,
            "variant_status": "active",
            "is_control": False,
        },
    ],
}
# docs/v2/get-experiment-result.md, "Supported breakdowns"
BREAKDOWN_DIMENSIONS = [
    "device",
    "browser",
    "os",
    "country",
    "region",
    "city",
    "user_type",
    "ref_page",
    "landing_page",
    "utm_campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
]

# docs/v2/get-experiment-metrics.md, "Success response"
METRICS = {
    "success": True,
    "test_id": 1234,
    "test_name": "Homepage CTA Button Color Test",
    "count": 2,
    "metric_count": 1,
    "metric_definitions": [
        {
            "metric_key": "purchase",
            "metric_text": "goal_purchase",
            "name": "Purchase",
            "type": 2,
            "goal": {"goal_key": "purchase", "goal_name": "Purchase", "goal_type": "revenue", "goal_value": "Purchase"},
        },
    ],
    "metrics": [{"variant_id": "0", "total": 1500, "result_1": 40}, {"variant_id": "1", "total": 1480, "result_1": 52}],
}

# docs/v2/get-project-configuration.md, "Success response"
CONFIGURATION = {
    "success": True,
    "configuration": {
        "analysis_method": "1",
        "frequentist_type": "0",
        "confidence_level": "95",
        "stats_engine": "bayesian",
        "confidence_threshold_percent": 95,
        "weekly_ai_summary_enabled": False,
        "primary_goal_id": 3003,
        "primary_goal": {
            "goal_profile_id": 3003,
            "goal_key": "cta_button_click",
            "goal_name": "CTA Button Click",
            "goal_type": "clickOnElement",
            "goal_value": ".cta-button",
        },
        "secondary_goals": [
            {
                "type": 2,
                "text": "goal_3004",
                "name": "Add to Cart",
                "goal_profile_id": 3004,
                "goal_key": "add_to_cart",
                "goal_type": "event",
                "goal_value": "AddToCart",
            },
            {"type": 2, "text": "Purchase", "name": "Purchase", "event_name": "Purchase"},
        ],
    },
}

# docs/v2/list-projects.md, "Success response"
PROJECTS = {
    "success": True,
    "company_id": 1001,
    "count": 2,
    "projects": [
        {
            "project_key": "PROJECT_KEY_AAAAAAAAAA",
            "name": "www.example.com",
            "website_name": "www.example.com",
            "widget_name": "www.example.com",
            "allowed_website": "www.example.com",
            "monthly_average_traffic": 50000,
            "shopify_id": None,
            "status": 1,
            "company_id": 1001,
            "created_at": "2025-12-04T10:05:52.000Z",
            "updated_at": "2026-04-21T08:30:00.000Z",
        },
    ],
}

# docs/v2/get-experiment-distribution.md, "Success response"
DISTRIBUTION = {
    "success": True,
    "test_id": 1234,
    "test_name": "Homepage CTA Button Color Test",
    "status": "live",
    "traffic_allocation": 100,
    "distribution_mode": "custom",
    "is_mab": False,
    "variants": [
        {"variant_id": "0", "name": "Control", "traffic_weight": 50, "variant_status": "active"},
        {"variant_id": "1", "name": "Red CTA Button", "traffic_weight": 50, "variant_status": "active"},
    ],
}

# docs/v2/get-experiment-timeseries.md, "Success response" (the goal the rows are for)
TIMESERIES_GOAL = {
    "goal_profile_id": 5678,
    "goal_key": "purchase",
    "goal_name": "Purchase",
    "goal_type": "revenue",
    "goal_value": "Purchase",
    "is_primary": True,
}

# docs/v2/get-experiment-timeseries.md, "Success response", whole
TIMESERIES = {
    "success": True,
    "test_id": 1234,
    "test_name": "Homepage CTA Button Color Test",
    "goal": TIMESERIES_GOAL,
    "count": 2,
    "timeseries": [
        {
            "variant_id": "0",
            "converted": 12,
            "conversion": 8,
            "visitors": 150,
            "revenue": 1200,
            "currency": "USD",
            "created_at": "2024-01-15T00:00:00.000Z",
            "updated_at": "2024-01-15T00:00:00.000Z",
        },
        {
            "variant_id": "1",
            "converted": 18,
            "conversion": 12,
            "visitors": 150,
            "revenue": 1620,
            "currency": "USD",
            "created_at": "2024-01-15T00:00:00.000Z",
            "updated_at": "2024-01-15T00:00:00.000Z",
        },
    ],
}
# Its "Timeseries row fields": the common ones, and those revenue goals may add.
TIMESERIES_ROW_FIELDS = (
    "variant_id converted conversion visitors revenue quantity no_of_order currency start_date end_date duration "
    "created_at updated_at"
).split()
TIMESERIES_REVENUE_FIELDS = "sum_sq_revenue sum_sq_orders sum_revenue_orders_cross gross_profit total_cogs".split()

# Values the examples show as text that the sandbox's goals hold as numbers or null (a goal's value is free-form).
FREE_FORM = {"goal_value"}


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_mismatches(ours, example, path: str = "$") -> list[str]:
    """Where `ours` lacks a key of `example` or holds another kind of value (either side null matches anything)."""
    if ours is None or example is None:
        return []
    if isinstance(example, dict):
        if not isinstance(ours, dict):
            return [f"{path}: {_kind(ours)}, not an object"]
        out = []
        for key, value in example.items():
            if key not in ours:
                out.append(f"{path}.{key}: missing")
            elif key not in FREE_FORM:
                out += shape_mismatches(ours[key], value, f"{path}.{key}")
        return out
    if isinstance(example, list):
        if not isinstance(ours, list):
            return [f"{path}: {_kind(ours)}, not an array"]
        return shape_mismatches(ours[0], example[0], f"{path}[0]") if ours and example else []
    return [] if _kind(ours) == _kind(example) else [f"{path}: {_kind(ours)}, documented as {_kind(example)}"]
