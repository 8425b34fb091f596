"""Source records as lake rows: every documented result field has a column, and every row fits its table's schema."""

from datetime import date, datetime, timezone

import pytest

from mida_pipeline.extract import rows
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.writer import to_arrow
from mida_pipeline.sandbox.data import SandboxConfig, SandboxData
from mida_pipeline.sandbox.mida_api import result
from mida_pipeline.sources.result_records import parse_result

NOW = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)
DAY = date(2026, 3, 1)

# The result fields api-reference.md documents, and the lake column each lands in.
DOCUMENTED_TOP = {
    "test_id": "test_id",
    "test_name": "test_name",
    "status": "status",
    "status_code": "status_code",
    "start_date": "window_start",
    "end_date": "window_end",
    "days_running": "days_running",
    "primary_goal": "goal_profile_id",
    "stats_engine": "stats_engine",
    "confidence_threshold_percent": "confidence_threshold_percent",
    "serving_variant_id": "serving_variant_id",
    "is_serving": "is_serving",
    "report_phase": "report_phase",
    "traffic_allocation": "traffic_allocation",
    "distribution_mode": "distribution_mode",
    "is_mab": "is_mab",
    "total_visitors": "total_visitors",
    "total_conversions": "total_conversions",
    "has_revenue": "has_revenue",
    "total_revenue": "total_revenue",
    "total_orders": "total_orders",
    "rpv": "total_rpv",
    "aov": "total_aov",
    "currency": "currency",
}
DOCUMENTED_VARIANT = [
    "variant_id",
    "name",
    "nickname",
    "visitors",
    "conversions",
    "conversion_rate",
    "improvement",
    "revenue",
    "orders",
    "rpv",
    "aov",
    "currency",
    "revenue_per_visitor_improvement",
    "traffic_weight",
    "variant_status",
    "is_control",
]


@pytest.fixture(scope="module")
def revenue_result():
    data = SandboxData(SandboxConfig(seed=3, projects=1, experiments_per_project=4, today=date(2026, 3, 10)))
    experiment = next(
        e
        for e in data.experiment_records(data.project_keys[0])
        if e.revenue_goal and e.status != 9 and e.created <= DAY
    )
    return experiment, result(data, experiment, None, DAY)


def test_every_documented_result_field_has_a_lake_column():
    columns = set(TABLES["mida_experiment_results"].schema.names)
    assert set(DOCUMENTED_TOP.values()) <= columns
    assert set(DOCUMENTED_VARIANT) <= columns
    assert {"window", "project_key", "date", "captured_at", "raw"} <= columns


def test_a_result_becomes_one_row_per_variant_with_every_field_filled(revenue_result):
    experiment, body = revenue_result
    goal = rows.GoalOfResult("purchase", "Purchase", "revenue", True)
    items = rows.result_items(parse_result(body), window="cumulative", goal=goal)
    out = rows.make_rows("mida_experiment_results", items, project_key="p", day=DAY, captured_at=NOW)
    assert [r["variant_id"] for r in out] == list(experiment.variant_ids)
    for row, variant in zip(out, body["variants"], strict=True):
        for field in (
            "visitors",
            "conversions",
            "conversion_rate",
            "revenue",
            "orders",
            "rpv",
            "aov",
            "traffic_weight",
            "is_control",
        ):
            assert row[field] == variant[field], field
        assert row["total_visitors"] == body["total_visitors"] and row["total_revenue"] == body["total_revenue"]
        assert row["total_rpv"] == body["rpv"] and row["total_aov"] == body["aov"]
        assert (row["window"], row["window_end"], row["is_mab"]) == ("cumulative", DAY, body["is_mab"])
        assert (row["goal_key"], row["is_primary_goal"]) == ("purchase", True)
    # Every row fits the table's explicit schema, so every partition has the same column types.
    assert to_arrow("mida_experiment_results", out).num_rows == len(out)
