"""The report's HTML: one page per project and an index, self-contained (inline CSS, charts as inline SVG,
the store's pictures as PNG data URIs).

The markup lives in Jinja templates (templates/), autoescaped, so a name from
the API can never become markup; this module prepares what they show. A new
section is a template of its own plus a function here that renders it.

Every number shown also sits, unrounded, in a data- attribute of its element,
so a reader's tool (or a test) can compare the page with the marts exactly.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from datetime import date, datetime
from functools import cache

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from mida_pipeline.report.charts import Chart

BADGES = {
    "winner": ("Winner", "#2B8A3E"),
    "loser": ("Loser", "#C92A2A"),
    "inconclusive": ("Inconclusive", "#495057"),
    "srm_warning": ("SRM warning", "#E67700"),
    "control": ("Control", "#868E96"),
    "not_enough_traffic": ("Not enough traffic", "#ADB5BD"),
    "no_data": ("No results yet", "#ADB5BD"),
}


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def attr(value) -> str:
    """A value as an exact, machine-readable attribute: floats round-trip, null is empty."""
    if _missing(value):
        return ""
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return repr(float(value))
    if type(value).__name__.startswith("int"):
        return str(int(value))
    return str(value)


def data_attrs(**values) -> Markup:
    # Each name and value escaped as Markup.format would, joined as plain text: a variant's row has about twenty, and
    # formatting each through Markup's formatter was about a seventh of drawing a section.
    return Markup(" ".join(f'data-{escape(k.replace("_", "-"))}="{escape(attr(v))}"' for k, v in values.items()))


def num(value, kind: str) -> str:
    """The human form of a number: int, pct (a fraction), pp (percentage points), p (p-value), money."""
    if _missing(value):
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{float(value) * 100:.2f} %"
    if kind == "pp":
        return f"{float(value) * 100:+.2f} pp"
    if kind == "rel":
        return f"{float(value) * 100:+.1f} %"
    if kind == "p":
        return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"
    if kind == "money":
        return f"{float(value):,.2f}"
    raise ValueError(kind)


def interval(low, high, kind: str = "pp") -> str:
    """An interval in the form of its numbers: percentage points (default), a relative lift, or money."""
    if _missing(low) or _missing(high):
        return "–"
    if kind == "pp":
        return f"{float(low) * 100:+.2f} … {float(high) * 100:+.2f} pp"
    if kind == "money":
        return f"{float(low):+,.2f} … {float(high):+,.2f}"
    return f"{num(low, kind)} … {num(high, kind)}"


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


@cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mida_pipeline.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(num=num, exact=attr, missing=_missing, b64=lambda png: base64.b64encode(png).decode())
    env.globals.update(data_attrs=data_attrs, interval=interval, badges=BADGES)
    return env


def render(template: str, **context) -> str:
    return templates().get_template(template).render(**context)


RULES = {
    ("bayesian", None): "Bayesian: a winner needs a chance to beat control of at least {t:g} %",
    ("frequentist", 1): "frequentist, one-tailed: a winner needs p < {p:g}",
    ("frequentist", 2): "frequentist, two-tailed: a winner needs p < {p:g}",
}


def _rule(first: pd.Series) -> str | None:
    """The rule Mida's own verdict follows for this goal, in words."""
    framework = None if _missing(first.get("decision_framework")) else str(first["decision_framework"])
    if framework is None:
        return None
    threshold = (
        95.0 if _missing(first.get("confidence_threshold_percent")) else float(first["confidence_threshold_percent"])
    )
    tails = None if framework == "bayesian" or _missing(first.get("tails")) else int(first["tails"])
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
    return (True, "") if _missing(value) else (False, value)


def _goals(card: pd.DataFrame) -> list[dict]:
    """The experiment's goals, the primary first, each with its variants' rows (control first, then by variant).

    The card's rows are read once and sorted in Python, each goal a slice: a card is a few rows, and pandas' sort
    and grouping (every column of the card moved each time) cost more than the rows themselves."""
    rows = _records(card)
    goals = [
        (
            True if _missing(r["is_primary_goal"]) else bool(r["is_primary_goal"]),
            "" if _missing(r["goal_key"]) else str(r["goal_key"]),
        )
        for r in rows
    ]
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            not goals[i][0],
            goals[i][1],
            2 if _missing(rows[i]["is_control"]) else not rows[i]["is_control"],
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
                "name": first["goal_name"] if not _missing(first.get("goal_name")) else (key or "Primary goal"),
                "primary": primary,
                "rows": variants,
                "rule": _rule(first),
                "with_revenue": sum(0.0 if _missing(v["revenue"]) else float(v["revenue"]) for v in variants) > 0,
                "revenue_tested": any(not _missing(v["rpv_verdict"]) for v in variants),
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
    if not _missing(first.get("confidence_threshold_percent")):
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


FUNNEL = [
    ("total_visitors", "Visitors"),
    ("product_views", "Product views"),
    ("add_to_cart", "Added to cart"),
    ("checkout_started", "Checkout started"),
    ("successful_orders", "Orders"),
]
STORE_COLUMNS = [
    ("total_visitors", "Visitors", "int"),
    ("total_sessions", "Sessions", "int"),
    ("product_views", "Product views", "int"),
    ("add_to_cart", "Add to cart", "int"),
    ("checkout_started", "Checkouts", "int"),
    ("successful_orders", "Orders", "int"),
    ("cart_abandonment_rate", "Cart abandonment", "pct"),
    ("revenue", "Revenue", "money"),
]


def funnel_totals(daily: pd.DataFrame) -> dict[str, float]:
    return {column: daily[column].sum(min_count=1) for column, _ in FUNNEL}


def _store_rows(frame: pd.DataFrame, date_column: str) -> list[dict]:
    rows = []
    for _, r in frame.sort_values(date_column, ascending=False).iterrows():
        values = {c: r[c] for c, _, _ in STORE_COLUMNS}
        rows.append({"day": r[date_column], "values": values, "attrs": data_attrs(date=r[date_column], **values)})
    return rows


def store_section(daily: pd.DataFrame, weekly: pd.DataFrame, charts: dict[str, bytes]) -> Markup:
    """The store's traffic by day and by week, and its funnel over the period."""
    return Markup(
        render(
            "store.html.j2",
            daily=_store_rows(daily, "period_date") if not daily.empty else [],
            weekly=_store_rows(weekly, "period_date") if not weekly.empty else [],
            totals=funnel_totals(daily) if not daily.empty else {},
            funnel=FUNNEL,
            columns=STORE_COLUMNS,
            first_day=daily["period_date"].min() if not daily.empty else None,
            last_day=daily["period_date"].max() if not daily.empty else None,
            pictures=charts,
        )
    )


PROGRAM_OUTCOMES = [
    ("winner", "Winner"),
    ("loser", "Loser"),
    ("inconclusive", "Inconclusive"),
    ("undecided", "Undecided"),
]


def program_section(program: pd.DataFrame) -> Markup:
    """The project's experimentation program by month, newest first: what started and ended, how the ended ones were
    decided, and what the winners add (with the optimistic sum and the conservative one side by side)."""
    rows = [r for _, r in program.sort_values("month_start_date", ascending=False).iterrows()] if len(program) else []
    return Markup(render("program.html.j2", rows=rows, outcomes=PROGRAM_OUTCOMES))


def project_page(
    project_key: str,
    sections: list[str],
    verdicts: list[str],
    not_started: list[str],
    store: str,
    generated_at: datetime,
    program: str = "",
) -> str:
    return render(
        "project.html.j2",
        title=f"{project_key}: experiment report",
        generated_at=generated_at,
        project_key=project_key,
        sections=sections,
        counts=Counter(verdicts),
        not_started=not_started,
        store=store,
        program=Markup(program),
    )


def index_page(rows: list[dict], store: str, generated_at: datetime) -> str:
    """Each project with its experiments by badge, linked to its page; then the store."""
    return render("index.html.j2", title="Experiment report", generated_at=generated_at, rows=rows, store=store)
