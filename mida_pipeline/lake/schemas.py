"""One explicit Arrow schema per lake table.

Every partition of a table is written with the same schema, so DuckDB can read
all of them together and a type change in the API shows up as an error at
write time instead of as a broken view later.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

# Columns every row carries, whatever the table.
_LINEAGE = [("captured_at", UTC_TS), ("raw", pa.string())]
_MIDA_KEY = [("project_key", pa.string()), ("date", pa.date32())]

BSS_METRICS: tuple[tuple[str, pa.DataType], ...] = (
    ("total_visitors", pa.int64()),
    ("total_sessions", pa.int64()),
    ("total_pageviews", pa.int64()),
    ("product_views", pa.int64()),
    ("add_to_cart", pa.int64()),
    ("checkout_started", pa.int64()),
    ("successful_orders", pa.int64()),
    ("abandoned_carts", pa.int64()),
    ("revenue", pa.float64()),
    ("currency", pa.string()),
    ("traffic_sources_organic", pa.int64()),
    ("traffic_sources_paid", pa.int64()),
    ("traffic_sources_referral", pa.int64()),
    ("traffic_sources_direct", pa.int64()),
    ("devices_desktop", pa.int64()),
    ("devices_mobile", pa.int64()),
    ("devices_tablet", pa.int64()),
    ("rage_clicks", pa.int64()),
    ("error_clicks", pa.int64()),
)


@dataclass(frozen=True)
class Table:
    """A lake table: its name, key columns and Arrow schema."""

    name: str
    key: tuple[str, ...]
    schema: pa.Schema
    has_project: bool = True

    @property
    def partition_columns(self) -> tuple[str, ...]:
        return ("project_key", "date") if self.has_project else ("date",)


def _table(name: str, key: tuple[str, ...], columns: list[tuple[str, pa.DataType]], *, has_project: bool = True) -> Table:
    prefix = _MIDA_KEY if has_project else [("date", pa.date32())]
    return Table(name, key, pa.schema(prefix + columns + _LINEAGE), has_project)


_BSS_COLUMNS = [
    ("frequency", pa.string()),
    ("period_start", pa.date32()),
    ("period_end", pa.date32()),
    ("period_stated", pa.bool_()),
    *BSS_METRICS,
]

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "mida_experiments",
            ("project_key", "date", "test_id"),
            [
                ("test_id", pa.int64()),
                ("test_name", pa.string()),
                ("url", pa.string()),
                ("status_code", pa.int32()),
                ("status", pa.string()),
                ("is_completed", pa.bool_()),
                ("created_at", UTC_TS),
                ("updated_at", UTC_TS),
                ("goal_profile_id", pa.string()),
                ("traffic_allocation", pa.float64()),
                ("confidence_interval", pa.float64()),
                ("serving_variant_id", pa.string()),
                ("is_deploy", pa.bool_()),
                ("variant_count", pa.int32()),
                ("primary_goal_name", pa.string()),
                ("primary_goal_type", pa.string()),
                ("is_late_capture", pa.bool_()),
            ],
        ),
        _table(
            "mida_experiment_variants",
            ("project_key", "date", "test_id", "variant_id"),
            [
                ("test_id", pa.int64()),
                ("variant_id", pa.string()),
                ("name", pa.string()),
                ("nickname", pa.string()),
                ("is_control", pa.bool_()),
                ("is_late_capture", pa.bool_()),
            ],
        ),
        _table(
            "mida_experiment_results",
            ("project_key", "date", "test_id", "variant_id", "window"),
            [
                ("test_id", pa.int64()),
                ("variant_id", pa.string()),
                ("window", pa.string()),
                ("window_start", pa.date32()),
                ("window_end", pa.date32()),
                ("test_name", pa.string()),
                ("status", pa.string()),
                ("status_code", pa.int32()),
                ("name", pa.string()),
                ("nickname", pa.string()),
                ("is_control", pa.bool_()),
                ("visitors", pa.int64()),
                ("conversions", pa.int64()),
                ("conversion_rate", pa.float64()),
                ("improvement", pa.float64()),
                ("revenue", pa.float64()),
                ("orders", pa.int64()),
                ("rpv", pa.float64()),
                ("aov", pa.float64()),
                ("currency", pa.string()),
                ("revenue_per_visitor_improvement", pa.float64()),
                ("traffic_weight", pa.float64()),
                ("variant_status", pa.string()),
                ("stats_engine", pa.string()),
                ("confidence_threshold_percent", pa.float64()),
                ("goal_profile_id", pa.string()),
                ("report_phase", pa.string()),
                ("distribution_mode", pa.string()),
                ("is_mab", pa.bool_()),
                ("days_running", pa.int32()),
                ("serving_variant_id", pa.string()),
                ("is_serving", pa.bool_()),
                ("traffic_allocation", pa.float64()),
                ("primary_goal_name", pa.string()),
                ("primary_goal_type", pa.string()),
                ("total_visitors", pa.int64()),
                ("total_conversions", pa.int64()),
                ("has_revenue", pa.bool_()),
                ("total_revenue", pa.float64()),
                ("total_orders", pa.int64()),
                ("total_rpv", pa.float64()),
                ("total_aov", pa.float64()),
            ],
        ),
        _table(
            "mida_goals",
            ("project_key", "date", "goal_profile_id"),
            [
                ("goal_profile_id", pa.string()),
                ("goal_key", pa.string()),
                ("goal_name", pa.string()),
                ("goal_type", pa.string()),
                ("goal_value", pa.float64()),
                ("goal_purpose", pa.string()),
                ("element_url", pa.string()),
                ("status", pa.string()),
                ("created_at", UTC_TS),
                ("is_late_capture", pa.bool_()),
            ],
        ),
        _table(
            "mida_events",
            ("project_key", "date", "event_id"),
            [
                ("event_id", pa.string()),
                ("event_text", pa.string()),
                ("event_property", pa.string()),
                ("created_at", UTC_TS),
                ("event_type", pa.string()),
                ("url", pa.string()),
                ("event_path", pa.string()),
                ("status", pa.int32()),
                ("is_late_capture", pa.bool_()),
            ],
        ),
        _table("bss_analytics_daily", ("date",), _BSS_COLUMNS, has_project=False),
        _table("bss_analytics_weekly", ("date",), _BSS_COLUMNS, has_project=False),
    )
}
