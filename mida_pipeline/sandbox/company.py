"""The sandbox's one company: its projects as Mida lists them, and each project's Global Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

COMPANY_ID = 42  # the sandbox is one company: every project lists every other
GOAL_REF = ("goal_profile_id", "goal_key", "goal_name", "goal_type", "goal_value")


@dataclass(frozen=True)
class Project:
    key: str
    index: int  # seeds its ids: test ids (index + 1) * 1000 + j, goal ids (index + 1) * 100 + i
    name: str
    status: int  # 1 active, 0 paused
    created: date


def _stamp(day: date, hour: int) -> str:
    """A timestamp as the projects endpoints write them: milliseconds and a Z."""
    return datetime.combine(day, time(hour, 5, 52), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def project_item(p: Project) -> dict:
    """A project as `GET /projects` lists it (docs/v2/list-projects.md)."""
    site = f"{p.key}.example"
    return {
        "project_key": p.key,
        "name": p.name,
        "website_name": site,
        "widget_name": site,
        "allowed_website": site,
        "monthly_average_traffic": 0 if p.index % 4 == 3 else 10_000 * (p.index + 1),
        "shopify_id": str(7_000_000_000 + p.index) if p.index % 2 else None,
        "status": p.status,
        "company_id": COMPANY_ID,
        "created_at": _stamp(p.created, 10),
        "updated_at": _stamp(p.created + timedelta(days=3), 8),
    }


def _entry(goal: dict) -> dict:
    return {
        "type": 2,
        "text": f"goal_{goal['goal_profile_id']}",
        "name": goal["goal_name"],
        **{k: goal[k] for k in GOAL_REF if k != "goal_name"},
    }


def configuration(index: int, goals: list[dict]) -> dict:
    """Global Settings (docs/v2/get-project-configuration.md): both engines and both tails occur across the
    projects, in turn by project index; the project's first goal is its default primary goal."""
    method, tails = [("0", "0"), ("1", "2"), ("0", "2"), ("1", "0")][index % 4]
    threshold = 90 if index % 3 == 2 else 95
    return {
        "analysis_method": method,
        "frequentist_type": tails,
        "confidence_level": str(threshold),
        "stats_engine": "bayesian" if method == "1" else "frequentist",
        "confidence_threshold_percent": threshold,
        "weekly_ai_summary_enabled": False,
        "primary_goal_id": goals[0]["goal_profile_id"],
        "primary_goal": {k: goals[0][k] for k in GOAL_REF},
        # Documented: goal entries resolve to their goal; an event entry names only its event.
        "secondary_goals": [
            _entry(goals[1]),
            _entry(goals[2]),
            {"type": 2, "text": "custom_event_0", "name": "custom_event_0", "event_name": "custom_event_0"},
        ],
    }
