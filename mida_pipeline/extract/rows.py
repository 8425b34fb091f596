"""Source records as lake rows.

The lake's column names are the contract BI tools and dbt rely on; this is the
one place that maps the clients' typed records onto them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from mida_pipeline.sources.coerce import to_float


def raw_json(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, default=str)


def _lineage(day: date, project_key: str | None, captured_at: datetime, raw: dict) -> dict[str, Any]:
    row: dict[str, Any] = {"date": day, "captured_at": captured_at, "raw": raw_json(raw)}
    if project_key is not None:
        row["project_key"] = project_key
    return row


def experiment_row(detail, *, project_key: str, day: date, captured_at: datetime, late: bool) -> dict[str, Any]:
    goal = detail.primary_goal or {}
    return {
        **_lineage(day, project_key, captured_at, detail.raw),
        "test_id": detail.test_id,
        "test_name": detail.test_name,
        "url": detail.url,
        "status_code": detail.status_code,
        "status": detail.status,
        "is_completed": detail.is_completed,
        "created_at": detail.created_at,
        "updated_at": detail.updated_at,
        "goal_profile_id": detail.goal_profile_id,
        "traffic_allocation": detail.traffic_allocation,
        "confidence_interval": detail.confidence_interval,
        "serving_variant_id": detail.serving_variant_id,
        "is_deploy": detail.is_deploy,
        "variant_count": len(detail.variants),
        "primary_goal_name": goal.get("goal_name"),
        "primary_goal_type": goal.get("goal_type"),
        "is_late_capture": late,
    }


def variant_rows(detail, *, project_key: str, day: date, captured_at: datetime, late: bool) -> list[dict[str, Any]]:
    return [
        {
            **_lineage(day, project_key, captured_at, v.raw),
            "test_id": detail.test_id,
            "variant_id": v.variant_id,
            "name": v.name,
            "nickname": v.nickname,
            "is_control": v.variant_id == "0",
            "is_late_capture": late,
        }
        for v in detail.variants
    ]


def result_rows(result, *, window: str, project_key: str, day: date, captured_at: datetime) -> list[dict[str, Any]]:
    """One row per variant of a result, for the `day` or the `cumulative` window, with every documented field."""
    goal = result.primary_goal or {}
    shared = {
        "test_id": result.test_id,
        "window": window,
        "window_start": result.start_date,
        "window_end": result.end_date,
        "test_name": result.test_name,
        "status": result.status,
        "status_code": result.status_code,
        "stats_engine": result.stats_engine,
        "confidence_threshold_percent": result.confidence_threshold_percent,
        "goal_profile_id": result.goal_profile_id,
        "report_phase": result.report_phase,
        "distribution_mode": result.distribution_mode,
        "is_mab": result.is_mab,
        "days_running": result.days_running,
        "serving_variant_id": result.serving_variant_id,
        "is_serving": result.is_serving,
        "traffic_allocation": result.traffic_allocation,
        "primary_goal_name": goal.get("goal_name"),
        "primary_goal_type": goal.get("goal_type"),
        "total_visitors": result.total_visitors,
        "total_conversions": result.total_conversions,
        "has_revenue": result.has_revenue,
        "total_revenue": result.total_revenue,
        "total_orders": result.total_orders,
        # The record keeps the experiment-level rpv and aov only in `raw`; the variant's own sit below.
        "total_rpv": to_float(result.raw.get("rpv")),
        "total_aov": to_float(result.raw.get("aov")),
    }
    return [
        {
            **_lineage(day, project_key, captured_at, v.raw),
            **shared,
            "variant_id": v.variant_id,
            "name": v.name,
            "nickname": v.nickname,
            "is_control": v.is_control,
            "visitors": v.visitors,
            "conversions": v.conversions,
            "conversion_rate": v.conversion_rate,
            "improvement": v.improvement,
            "revenue": v.revenue,
            "orders": v.orders,
            "rpv": v.rpv,
            "aov": v.aov,
            "currency": v.currency or result.currency,
            "revenue_per_visitor_improvement": v.revenue_per_visitor_improvement,
            "traffic_weight": v.traffic_weight,
            "variant_status": v.variant_status,
        }
        for v in result.variants
    ]


def goal_row(goal, *, project_key: str, day: date, captured_at: datetime, late: bool) -> dict[str, Any]:
    return {
        **_lineage(day, project_key, captured_at, goal.raw),
        "goal_profile_id": goal.goal_profile_id,
        "goal_key": goal.goal_key,
        "goal_name": goal.goal_name,
        "goal_type": goal.goal_type,
        "goal_value": goal.goal_value,
        "goal_purpose": goal.goal_purpose,
        "element_url": goal.element_url,
        "status": None if goal.status is None else str(goal.status),
        "created_at": goal.created_at,
        "is_late_capture": late,
    }


def event_row(event, *, project_key: str, day: date, captured_at: datetime, late: bool) -> dict[str, Any]:
    return {
        **_lineage(day, project_key, captured_at, event.raw),
        "event_id": event.event_id,
        "event_text": event.event_text,
        "event_property": event.event_property,
        "created_at": event.created_at,
        "event_type": event.event_type,
        "url": event.url,
        "event_path": event.event_path,
        "status": event.status,
        "is_late_capture": late,
    }


def bss_row(sync, *, day: date, captured_at: datetime, metric_columns: list[str]) -> dict[str, Any]:
    """`day` is the partition (the week's Monday for weekly); unknown metrics stay in `raw` only."""
    return {
        **_lineage(day, None, captured_at, sync.raw),
        "frequency": sync.frequency,
        "period_start": sync.start_date,
        "period_end": sync.end_date,
        "period_stated": sync.period_stated,
        **{name: sync.metrics.get(name) for name in metric_columns},
    }
