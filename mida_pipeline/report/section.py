"""One experiment's section of a project page: a table per goal (the primary first) with both verdicts, its charts,
its segments, and the badge the page counts it under."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from markupsafe import Markup

from mida_pipeline.report.charts import Chart
from mida_pipeline.report.page import attr, missing, render


def experiment_verdict(card: pd.DataFrame) -> str:
    """One badge per experiment, from its primary goal's variants (Mida's own rule, `verdict`).

    An SRM warning wins, because when the traffic split is off no other number
    can be trusted; then a winner (some variant significantly beats control),
    then a loser (some variant is significantly worse), else inconclusive.
    """
    counted = ~card["is_control"].astype(bool).to_numpy(dtype=bool)
    if "is_primary_goal" in card:
        primary = card["is_primary_goal"].fillna(True).astype(bool).to_numpy(dtype=bool)
        counted &= primary if primary.any() else True  # a card without its primary goal counts every goal
    verdicts = set(card["verdict"].to_numpy(dtype=object)[counted])
    for verdict in ("srm_warning", "winner", "loser", "inconclusive"):
        if verdict in verdicts:
            return verdict
    return "no_data"


RULES = {
    ("bayesian", None): "Bayesian: a winner needs a chance to beat control of at least {t:g} %",
    ("frequentist", 1): "frequentist, one-tailed: a winner needs p < {p:g}",
    ("frequentist", 2): "frequentist, two-tailed: a winner needs p < {p:g}",
}


def _rule(first: Mapping) -> str | None:
    """The rule Mida's own verdict follows for this goal (its first row), in words."""
    framework = None if missing(first.get("decision_framework")) else str(first["decision_framework"])
    if framework is None:
        return None
    threshold = (
        95.0 if missing(first.get("confidence_threshold_percent")) else float(first["confidence_threshold_percent"])
    )
    tails = None if framework == "bayesian" or missing(first.get("tails")) else int(first["tails"])
    text = RULES.get((framework, tails))
    return text.format(t=threshold, p=round(1 - threshold / 100, 4)) if text else None


# The revenue statistics of a goal with revenue (fct_experiment_scorecard), shown in a table of their own.
REVENUE_COLUMNS = (
    "rpv_ci_low",
    "rpv_ci_high",
    "rpv_rel_ci_low",
    "rpv_rel_ci_high",
    "rpv_p_value",
    "rpv_sequential_p_value",
    "rpv_chance_to_beat_control",
    "rpv_verdict",
    "rpv_safe_verdict",
    "aov",
    "aov_rel_lift",
    "aov_p_value",
    "aov_rel_ci_low",
    "aov_rel_ci_high",
)
SECTION_COLUMNS = (
    "goal_key",
    "goal_name",
    "is_primary_goal",
    "decision_framework",
    "tails",
    "rel_ci_low",
    "rel_ci_high",
    "sequential_p_value_holm",
    "expected_loss",
    "days_remaining",
    "safe_verdict",
    *REVENUE_COLUMNS,
)


def _records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts: the template looks a row's values up a few dozen times each, and a dict answers
    that far faster than a row's Series. One conversion of the whole frame to Python objects (the values `iterrows`
    gives), not a Series a row."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True)) for row in frame.to_numpy(dtype=object)]


def _ascending(value) -> tuple:
    """A sort key in pandas' order for an ascending column: missing values last."""
    return (True, "") if missing(value) else (False, value)


def _goals(card: pd.DataFrame) -> list[dict]:
    """The experiment's goals, the primary first, each with its variants' rows (control first, then by variant).

    The card's rows are read once and sorted in Python, each goal a slice: a card is a few rows, and pandas' sort
    and grouping (every column of the card moved each time) cost more than the rows themselves."""
    rows = _records(card)
    goals = [
        (
            True if missing(r["is_primary_goal"]) else bool(r["is_primary_goal"]),
            "" if missing(r["goal_key"]) else str(r["goal_key"]),
        )
        for r in rows
    ]
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            not goals[i][0],
            goals[i][1],
            2 if missing(rows[i]["is_control"]) else not rows[i]["is_control"],
            _ascending(rows[i]["variant_id"]),
        ),
    )
    rows, goals = [rows[i] for i in order], [goals[i] for i in order]
    starts = [i for i in range(len(goals)) if i == 0 or goals[i] != goals[i - 1]]
    out = []
    for start, end in zip(starts, [*starts[1:], len(goals)], strict=True):
        first, (primary, key), variants = rows[start], goals[start], rows[start:end]
        out.append(
            {
                "key": key or None,
                "name": first["goal_name"] if not missing(first.get("goal_name")) else (key or "Primary goal"),
                "primary": primary,
                "rows": variants,
                "rule": _rule(first),
                "with_revenue": sum(0.0 if missing(v["revenue"]) else float(v["revenue"]) for v in variants) > 0,
                "revenue_tested": any(not missing(v["rpv_verdict"]) for v in variants),
            }
        )
    return out


def _segment_rows(segments: pd.DataFrame | None) -> list[dict]:
    """The segments' challenger rows, by dimension, segment and variant."""
    if segments is None or not len(segments):
        return []
    rows = [r for r in _records(segments) if not r["is_control"]]
    return sorted(
        rows, key=lambda r: (_ascending(r["dimension"]), _ascending(r["segment"]), _ascending(r["variant_id"]))
    )


def experiment_section(
    info: pd.Series | None, card: pd.DataFrame, charts: list[Chart], segments: pd.DataFrame | None = None
) -> tuple[Markup, str]:
    """One experiment: badge, facts, a table per goal (the primary first) with both verdicts, the charts of its
    primary goal, and its segments (exploratory); and its badge (`experiment_verdict`), for the page's counts."""
    # A scorecard built before the goals and the sequential statistics existed reads as "not known" there.
    card = card.reindex(columns=[*card.columns, *(c for c in SECTION_COLUMNS if c not in card.columns)])
    goals = _goals(card)
    first = goals[0]["rows"][0]
    facts = [f"test {first['test_id']}", f"results to {attr(first['as_of_date'])}"]
    if info is not None:
        facts.insert(1, f"status {info['status']}")
    if not missing(first.get("confidence_threshold_percent")):
        facts.append(f"decided at {float(first['confidence_threshold_percent']):g} % confidence")
    srm = bool(card["srm_flag"].fillna(False).astype(bool).any())
    names = dict(zip(card["variant_id"], card["variant_name"], strict=True))
    verdict = experiment_verdict(card)
    section = Markup(
        render(
            "experiment.html.j2",
            first=first,
            name=info["test_name"] if info is not None else first["test_name"],
            verdict=verdict,
            facts=facts,
            srm_p_value=card["srm_p_value"].iloc[0] if srm else None,
            goals=goals,
            drawn=charts,
            segments=_segment_rows(segments),
            names=names,
        )
    )
    return section, verdict
