"""Typed records of the Mida V2 API, parsed tolerantly from every documented form.

Each record keeps `raw`, the item exactly as received, so nothing the API
sends is lost even when this code does not know the field yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mida_pipeline.sources.coerce import status_pair, to_bool, to_date, to_datetime, to_float, to_int, to_str


@dataclass(frozen=True)
class Experiment:
    test_id: int
    test_name: str | None
    url: str | None
    status_code: int | None
    status: str | None
    is_completed: bool
    created_at: datetime | None
    updated_at: datetime | None
    serving_variant_id: str | None
    is_deploy: bool | None
    raw: dict = field(repr=False)


def control_flag(item: dict, variant_id: str) -> bool:
    """The API's own `is_control` flag when it sends one, else variant '0' (the documented control)."""
    flag = item.get("is_control")
    return bool(to_bool(flag)) if flag is not None else variant_id == "0"


@dataclass(frozen=True)
class Variant:
    variant_id: str
    name: str | None
    nickname: str | None
    raw: dict = field(repr=False)

    @property
    def is_control(self) -> bool:
        return control_flag(self.raw, self.variant_id)


@dataclass(frozen=True)
class ExperimentDetail(Experiment):
    goal_profile_id: str | None = None
    variants: list[Variant] = field(default_factory=list)
    traffic_allocation: float | None = None
    confidence_interval: float | None = None
    targeting: dict = field(default_factory=dict)
    primary_goal: dict | None = None


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
class Configuration:
    stats_engine: str | None
    tails: int | None
    confidence_threshold_percent: float | None
    confidence_level: float | None
    analysis_method: str | None
    frequentist_type: str | None
    primary_goal_id: str | None
    primary_goal_key: str | None
    secondary_goal_count: int
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Project:
    project_key: str
    name: str | None
    website_name: str | None
    allowed_website: str | None
    monthly_average_traffic: int | None
    shopify_id: str | None
    status: int | None
    company_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict = field(repr=False)

    @property
    def is_active(self) -> bool:
        return self.status == 1


@dataclass(frozen=True)
class Goal:
    goal_profile_id: str
    goal_key: str | None
    goal_name: str | None
    goal_type: str | None
    goal_value: float | None
    goal_purpose: str | None
    element_url: str | None
    status: str | None
    created_at: datetime | None
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Event:
    event_id: str
    event_text: str | None
    event_property: str | None
    created_at: datetime | None
    event_type: str | None
    url: str | None
    event_path: str | None
    status: int | None
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class TimeseriesRow:
    variant_id: str
    day: date | None
    visitors: int | None
    converted: int | None
    conversion: int | None  # how it differs from `converted` is not documented: both are kept
    revenue: float | None
    currency: str | None
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Timeseries:
    test_id: int
    test_name: str | None
    goal: dict | None
    rows: list[TimeseriesRow]
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class ShareLink:
    test_id: int
    share_link: str | None
    is_public: bool | None
    raw: dict = field(repr=False)


class ShapeError(ValueError):
    """An item lacks what identifies it, or has the wrong type for it."""


def _required_int(item: dict, key: str) -> int:
    value = to_int(item.get(key))
    if value is None:
        raise ShapeError(f"{key} is missing or not a whole number: {str(item.get(key))[:40]!r}")
    return value


def _count(item: dict, key: str) -> int:
    """A count the statistics rest on: absent is 0, but a value that is no whole number (a word, an object,
    beyond int64) is a changed API, never silently 0."""
    raw = item.get(key)
    value = to_int(raw)
    if value is None and raw is not None:
        raise ShapeError(f"{key}: expected a whole number (int64), got {type(raw).__name__} {str(raw)[:40]!r}")
    return value or 0


def _required_str(item: dict, key: str) -> str:
    value = to_str(item.get(key))
    if value is None or isinstance(item.get(key), (dict, list)):
        raise ShapeError(f"{key} is missing")
    return value


def _experiment_fields(item: dict) -> dict[str, Any]:
    code, word = status_pair(item.get("status"), item.get("status_code"))
    return dict(
        test_id=_required_int(item, "test_id"),
        test_name=to_str(item.get("test_name")),
        url=to_str(item.get("url")),
        status_code=code,
        status=word,
        is_completed=bool(to_bool(item.get("is_completed"))),
        created_at=to_datetime(item.get("created_at")),
        updated_at=to_datetime(item.get("updated_at")),
        serving_variant_id=to_str(item.get("serving_variant_id")),
        is_deploy=to_bool(item.get("is_deploy")),
        raw=item,
    )


def parse_experiment(item: dict) -> Experiment:
    return Experiment(**_experiment_fields(item))


def parse_experiment_detail(item: dict) -> ExperimentDetail:
    config = item.get("configuration") or {}
    goal = item.get("primary_goal") if isinstance(item.get("primary_goal"), dict) else None
    variants = [
        Variant(_required_str(v, "variant_id"), to_str(v.get("name")), to_str(v.get("nickname")), v)
        for v in item.get("variants") or []
    ]
    return ExperimentDetail(
        **_experiment_fields(item),
        goal_profile_id=to_str(item.get("goal_profile_id") or (goal or {}).get("goal_profile_id")),
        variants=variants,
        traffic_allocation=to_float(config.get("traffic_allocation", item.get("traffic_allocation"))),
        confidence_interval=to_float(config.get("confidence_interval")),
        targeting=item.get("targeting") if isinstance(item.get("targeting"), dict) else {},
        primary_goal=goal,
    )


def _result_variant(v: dict) -> ResultVariant:
    variant_id = _required_str(v, "variant_id")
    nickname = to_str(v.get("nickname"))
    return ResultVariant(
        variant_id=variant_id,
        name=to_str(v.get("name")),
        nickname=nickname,
        visitors=_count(v, "visitors"),
        conversions=_count(v, "conversions"),
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
        test_id=_required_int(body, "test_id"),
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


ENGINES = {"1": "bayesian", "0": "frequentist"}
TAILS = {"0": 1, "1": 1, "2": 2}


def parse_configuration(item: dict) -> Configuration:
    method = to_str(item.get("analysis_method"))
    engine = (to_str(item.get("stats_engine")) or ENGINES.get(method or "") or "").lower() or None
    if engine not in (None, "bayesian", "frequentist"):
        raise ShapeError(f"stats_engine is neither bayesian nor frequentist: {engine[:40]!r}")
    kind = to_str(item.get("frequentist_type"))
    goal = item.get("primary_goal") if isinstance(item.get("primary_goal"), dict) else {}
    secondary = item.get("secondary_goals") if isinstance(item.get("secondary_goals"), list) else []
    return Configuration(
        stats_engine=engine,
        tails=TAILS.get(kind or "", 2 if kind is None else None),
        confidence_threshold_percent=to_float(item.get("confidence_threshold_percent", item.get("confidence_level"))),
        confidence_level=to_float(item.get("confidence_level")),
        analysis_method=method,
        frequentist_type=kind,
        primary_goal_id=to_str(item.get("primary_goal_id") or goal.get("goal_profile_id")),
        primary_goal_key=to_str(goal.get("goal_key")),
        secondary_goal_count=len(secondary),
        raw=item,
    )


def parse_project(item: dict) -> Project:
    return Project(
        project_key=_required_str(item, "project_key"),
        name=to_str(item.get("name")),
        website_name=to_str(item.get("website_name")),
        allowed_website=to_str(item.get("allowed_website")),
        monthly_average_traffic=to_int(item.get("monthly_average_traffic")),
        shopify_id=to_str(item.get("shopify_id")),
        status=to_int(item.get("status")),
        company_id=to_str(item.get("company_id")),
        created_at=to_datetime(item.get("created_at")),
        updated_at=to_datetime(item.get("updated_at")),
        raw=item,
    )


def parse_goal(item: dict) -> Goal:
    return Goal(
        goal_profile_id=_required_str(item, "goal_profile_id"),
        goal_key=to_str(item.get("goal_key")),
        goal_name=to_str(item.get("goal_name")),
        goal_type=to_str(item.get("goal_type")),
        goal_value=to_float(item.get("goal_value")),
        goal_purpose=to_str(item.get("goal_purpose")),
        element_url=to_str(item.get("element_url")),
        status=to_str(item.get("status")),
        created_at=to_datetime(item.get("created_at")),
        raw=item,
    )


def parse_event(item: dict) -> Event:
    prop = item.get("event_property")
    # Documented as a JSON string; an object is accepted and kept as JSON text.
    prop = json.dumps(prop, ensure_ascii=False, sort_keys=True) if isinstance(prop, (dict, list)) else to_str(prop)
    return Event(
        event_id=_required_str(item, "event_id"),
        event_text=to_str(item.get("event_text")),
        event_property=prop,
        created_at=to_datetime(item.get("created_at")),
        event_type=to_str(item.get("event_type")),
        url=to_str(item.get("url")),
        event_path=to_str(item.get("event_path")),
        status=to_int(item.get("status")),
        raw=item,
    )


def parse_timeseries(body: dict) -> Timeseries:
    rows = body.get("timeseries")
    if not isinstance(rows, list):
        raise ShapeError("timeseries is not a list")
    parsed = [
        TimeseriesRow(
            variant_id=_required_str(row, "variant_id"),
            day=to_date(row.get("date") or row.get("created_at")),
            visitors=to_int(row.get("visitors")),
            converted=to_int(row.get("converted")),
            conversion=to_int(row.get("conversion")),
            revenue=to_float(row.get("revenue")),
            currency=to_str(row.get("currency")),
            created_at=to_datetime(row.get("created_at")),
            updated_at=to_datetime(row.get("updated_at")),
            raw=row,
        )
        for row in rows
        if isinstance(row, dict)
    ]
    goal = body.get("goal") if isinstance(body.get("goal"), dict) else None
    return Timeseries(
        _required_int(body, "test_id"),
        to_str(body.get("test_name")),
        goal,
        parsed,
        {k: v for k, v in body.items() if k != "timeseries"},
    )


def parse_share_link(body: dict) -> ShareLink:
    return ShareLink(
        _required_int(body, "test_id"), to_str(body.get("share_link")), to_bool(body.get("is_public")), body
    )
