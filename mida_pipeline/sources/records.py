"""Typed records of the Mida V2 API's experiments, projects, goals, events and settings, parsed tolerantly from
every documented form; an experiment's numbers are in result_records.py.

Each record keeps `raw`, the item exactly as received, so nothing the API
sends is lost even when this code does not know the field yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mida_pipeline.sources.coerce import (
    ShapeError,
    required_int,
    required_str,
    status_pair,
    to_bool,
    to_datetime,
    to_float,
    to_int,
    to_str,
)


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
class ShareLink:
    test_id: int
    share_link: str | None
    is_public: bool | None
    raw: dict = field(repr=False)


def _experiment_fields(item: dict) -> dict[str, Any]:
    code, word = status_pair(item.get("status"), item.get("status_code"))
    return dict(
        test_id=required_int(item, "test_id"),
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
        Variant(required_str(v, "variant_id"), to_str(v.get("name")), to_str(v.get("nickname")), v)
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
        project_key=required_str(item, "project_key"),
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
        goal_profile_id=required_str(item, "goal_profile_id"),
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
        event_id=required_str(item, "event_id"),
        event_text=to_str(item.get("event_text")),
        event_property=prop,
        created_at=to_datetime(item.get("created_at")),
        event_type=to_str(item.get("event_type")),
        url=to_str(item.get("url")),
        event_path=to_str(item.get("event_path")),
        status=to_int(item.get("status")),
        raw=item,
    )


def parse_share_link(body: dict) -> ShareLink:
    return ShareLink(
        required_int(body, "test_id"), to_str(body.get("share_link")), to_bool(body.get("is_public")), body
    )
