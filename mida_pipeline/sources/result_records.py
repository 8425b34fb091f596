"""Typed records of an experiment's numbers from the Mida V2 API: its results (per goal, window and segment), its
metric definitions and its timeseries, parsed tolerantly from every documented form.

As in records.py, each keeps `raw`; a count the statistics rest on is never read as 0 from a value that is not a
whole number (coerce.count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mida_pipeline.sources.coerce import (
    ShapeError,
    count,
    required_int,
    required_str,
    status_pair,
    to_bool,
    to_date,
    to_datetime,
    to_float,
    to_int,
    to_str,
)
from mida_pipeline.sources.records import control_flag


@dataclass(frozen=True)
class ResultVariant:
    variant_id: str
    name: str | None
    nickname: str | None
    visitors: int
    conversions: int
    conversion_rate: float | None
    improvement: float | None
    revenue: float | None
    orders: int | None
    rpv: float | None
    aov: float | None
    currency: str | None
    revenue_per_visitor_improvement: float | None
    traffic_weight: float | None
    variant_status: str | None
    is_control: bool
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Result:
    test_id: int
    test_name: str | None
    status: str | None
    status_code: int | None
    start_date: date | None
    end_date: date | None
    days_running: int | None
    stats_engine: str | None
    confidence_threshold_percent: float | None
    serving_variant_id: str | None
    is_serving: bool | None
    report_phase: str | None
    traffic_allocation: float | None
    distribution_mode: str | None
    is_mab: bool | None
    total_visitors: int | None
    total_conversions: int | None
    has_revenue: bool | None
    total_revenue: float | None
    total_orders: int | None
    currency: str | None
    goal_profile_id: str | None
    primary_goal: dict | None
    variants: list[ResultVariant]
    raw: dict = field(repr=False)
    rpv: float | None = None  # the experiment's own; each variant's sits on the variant
    aov: float | None = None
    goal_key: str | None = None  # of the goal the numbers are for: `selected_goal`, else `primary_goal`
    goal_name: str | None = None
    goal_type: str | None = None
    breakdown_by: str | None = None
    breakdowns: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class Segment:
    """One item of a result's `breakdowns`: the segment's value and its variants' numbers."""

    criteria: str
    variants: list[ResultVariant]
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class MetricDefinition:
    metric_key: str | None
    name: str | None
    goal_key: str | None
    goal_name: str | None
    goal_type: str | None
    goal_value: Any
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Metrics:
    """`/metrics`: the experiment's secondary metrics; its coarse `metrics` rows stay in `raw`."""

    test_id: int | None
    definitions: list[MetricDefinition]
    warnings: list
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class TimeseriesRow:
    """One variant's local day of a goal. `conversion` is read as the day's converting visitors (what `/result` calls
    `conversions`), `converted` as its conversion events; the second moments come only with revenue goals."""

    variant_id: str
    day: date
    visitors: int
    conversion: int
    converted: int | None
    revenue: float | None
    no_of_order: int | None
    quantity: int | None
    currency: str | None
    sum_sq_revenue: float | None
    sum_sq_orders: float | None
    sum_revenue_orders_cross: float | None
    gross_profit: float | None
    total_cogs: float | None
    duration: float | None
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Timeseries:
    test_id: int
    test_name: str | None
    goal_key: str | None  # of the goal the rows are for: `goal`, else `selected_goal`, else `primary_goal`
    goal_name: str | None
    goal_type: str | None
    is_primary_goal: bool | None
    rows: list[TimeseriesRow]
    raw: dict = field(repr=False)


def _result_variant(v: dict) -> ResultVariant:
    variant_id = required_str(v, "variant_id")
    nickname = to_str(v.get("nickname"))
    return ResultVariant(
        variant_id=variant_id,
        name=to_str(v.get("name")),
        nickname=nickname,
        visitors=count(v, "visitors"),
        conversions=count(v, "conversions"),
        conversion_rate=to_float(v.get("conversion_rate")),
        improvement=to_float(v.get("improvement")),
        revenue=to_float(v.get("revenue")),
        orders=to_int(v.get("orders")),
        rpv=to_float(v.get("rpv")),
        aov=to_float(v.get("aov")),
        currency=to_str(v.get("currency")),
        revenue_per_visitor_improvement=to_float(v.get("revenue_per_visitor_improvement")),
        traffic_weight=to_float(v.get("traffic_weight")),
        variant_status=to_str(v.get("variant_status")),
        is_control=control_flag(v, variant_id),
        raw=v,
    )


def _variants(items: Any, where: str) -> list[ResultVariant]:
    if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
        raise ShapeError(f"{where} is not a list of objects")
    try:
        return [_result_variant(v) for v in items]
    except ShapeError as exc:
        raise ShapeError(f"{where}: {exc}") from None


def _segment(item: Any, index: int) -> Segment:
    if not isinstance(item, dict):
        raise ShapeError(f"breakdowns[{index}] is not an object")
    criteria = item.get("criteria", item.get("segment", item.get("value")))
    if isinstance(criteria, (dict, list)):
        raise ShapeError(f"breakdowns[{index}].criteria is not a value")
    name = "(none)" if criteria is None or str(criteria) == "" else str(criteria)
    # The breakdown item's exact keys are not published: its counts are read as a result variant's are.
    listed = item.get("variants")
    if not isinstance(listed, list):
        raise ShapeError(f"breakdown {name!r} variants is not a list")
    rows = [
        {**v, "conversions": v.get("conversions", v.get("converted"))} if isinstance(v, dict) else v for v in listed
    ]
    return Segment(
        name, _variants(rows, f"breakdown {name!r} variants"), {k: v for k, v in item.items() if k != "variants"}
    )


def parse_result(body: dict) -> Result:
    code, word = status_pair(body.get("status"), body.get("status_code"))
    goal = body.get("primary_goal") if isinstance(body.get("primary_goal"), dict) else None
    chosen = body.get("selected_goal") if isinstance(body.get("selected_goal"), dict) else goal
    variants = body.get("variants")
    if not isinstance(variants, list):
        raise ShapeError("variants is not a list")
    breakdowns = body.get("breakdowns") if body.get("breakdowns") is not None else []
    if not isinstance(breakdowns, list):
        raise ShapeError("breakdowns is not a list")
    return Result(
        test_id=required_int(body, "test_id"),
        test_name=to_str(body.get("test_name")),
        status=word,
        status_code=code,
        start_date=to_date(body.get("start_date")),
        end_date=to_date(body.get("end_date")),
        days_running=to_int(body.get("days_running")),
        stats_engine=to_str(body.get("stats_engine")),
        confidence_threshold_percent=to_float(body.get("confidence_threshold_percent")),
        serving_variant_id=to_str(body.get("serving_variant_id")),
        is_serving=to_bool(body.get("is_serving")),
        report_phase=to_str(body.get("report_phase")),
        traffic_allocation=to_float(body.get("traffic_allocation")),
        distribution_mode=to_str(body.get("distribution_mode")),
        is_mab=to_bool(body.get("is_mab")),
        total_visitors=to_int(body.get("total_visitors")),
        total_conversions=to_int(body.get("total_conversions")),
        has_revenue=to_bool(body.get("has_revenue")),
        total_revenue=to_float(body.get("total_revenue")),
        total_orders=to_int(body.get("total_orders")),
        currency=to_str(body.get("currency")),
        goal_profile_id=to_str((chosen or {}).get("goal_profile_id") or body.get("goal_profile_id")),
        primary_goal=goal,
        variants=[_result_variant(v) for v in variants],
        raw={k: v for k, v in body.items() if k not in ("variants", "breakdowns")},
        rpv=to_float(body.get("rpv")),
        aov=to_float(body.get("aov")),
        goal_key=to_str((chosen or {}).get("goal_key")),
        goal_name=to_str((chosen or {}).get("goal_name")),
        goal_type=to_str((chosen or {}).get("goal_type")),
        breakdown_by=to_str(body.get("breakdown_by")),
        breakdowns=[_segment(item, i) for i, item in enumerate(breakdowns)],
    )


def parse_metrics(body: dict) -> Metrics:
    definitions = body.get("metric_definitions")
    if definitions is None:
        definitions = []
    if not isinstance(definitions, list) or not all(isinstance(d, dict) for d in definitions):
        raise ShapeError("metric_definitions is not a list of objects")
    parsed = []
    for d in definitions:
        goal = d.get("goal") if isinstance(d.get("goal"), dict) else {}
        parsed.append(
            MetricDefinition(
                metric_key=to_str(d.get("metric_key")),
                name=to_str(d.get("name")),
                goal_key=to_str(goal.get("goal_key") or d.get("goal_key")),
                goal_name=to_str(goal.get("goal_name") or d.get("name")),
                goal_type=to_str(goal.get("goal_type")),
                goal_value=goal.get("goal_value"),
                raw=d,
            )
        )
    warnings = body.get("warnings") if isinstance(body.get("warnings"), list) else []
    return Metrics(to_int(body.get("test_id")), parsed, warnings, {k: v for k, v in body.items() if k != "metrics"})


def _number(row: dict, key: str) -> float | None:
    """A documented number that may be absent (null then), but never a word or an object read as absent."""
    raw = row.get(key)
    value = to_float(raw)
    if value is None and raw not in (None, ""):
        raise ShapeError(f"{key}: expected a number, got {type(raw).__name__} {str(raw)[:40]!r}")
    return value


def _optional_count(row: dict, key: str) -> int | None:
    return count(row, key) if row.get(key) is not None else None


def _timeseries_row(row: Any) -> TimeseriesRow:
    if not isinstance(row, dict):
        raise ShapeError(f"is {type(row).__name__}, not an object")
    day = to_date(row.get("start_date") or row.get("date") or row.get("created_at"))
    if day is None:
        raise ShapeError("has no day (start_date, date or created_at)")
    return TimeseriesRow(
        variant_id=required_str(row, "variant_id"),
        day=day,
        visitors=count(row, "visitors"),
        conversion=count(row, "conversion"),
        converted=_optional_count(row, "converted"),
        revenue=_number(row, "revenue"),
        no_of_order=_optional_count(row, "no_of_order"),
        quantity=_optional_count(row, "quantity"),
        currency=to_str(row.get("currency")),
        sum_sq_revenue=_number(row, "sum_sq_revenue"),
        sum_sq_orders=_number(row, "sum_sq_orders"),
        sum_revenue_orders_cross=_number(row, "sum_revenue_orders_cross"),
        gross_profit=_number(row, "gross_profit"),
        total_cogs=_number(row, "total_cogs"),
        duration=_number(row, "duration"),
        created_at=to_datetime(row.get("created_at")),
        updated_at=to_datetime(row.get("updated_at")),
        raw=row,
    )


def parse_timeseries(body: dict) -> Timeseries:
    """Every row, or the first unreadable one refused by its place: a row the statistics cannot read is a changed API."""
    rows = body.get("timeseries")
    if not isinstance(rows, list):
        raise ShapeError("timeseries is not a list")
    parsed = []
    for k, row in enumerate(rows):
        try:
            parsed.append(_timeseries_row(row))
        except ShapeError as exc:
            raise ShapeError(f"timeseries[{k}] {exc}") from None
    goal = next((body[key] for key in ("goal", "selected_goal", "primary_goal") if isinstance(body.get(key), dict)), {})
    return Timeseries(
        required_int(body, "test_id"),
        to_str(body.get("test_name")),
        to_str(goal.get("goal_key")),
        to_str(goal.get("goal_name")),
        to_str(goal.get("goal_type")),
        to_bool(goal.get("is_primary")),
        parsed,
        {k: v for k, v in body.items() if k != "timeseries"},
    )
