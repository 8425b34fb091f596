"""The report's HTML: one page per project and an index, self-contained (inline CSS, charts as inline SVG,
the store's pictures as PNG data URIs).

The markup lives in Jinja templates (templates/), autoescaped, so a name from
the API can never become markup; this module prepares what they show (an
experiment's section: section.py). A new section is a template of its own plus
a function that renders it.

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

BADGES = {
    "winner": ("Winner", "#2B8A3E"),
    "loser": ("Loser", "#C92A2A"),
    "inconclusive": ("Inconclusive", "#495057"),
    "srm_warning": ("SRM warning", "#E67700"),
    "control": ("Control", "#868E96"),
    "not_enough_traffic": ("Not enough traffic", "#ADB5BD"),
    "no_data": ("No results yet", "#ADB5BD"),
}


def missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def attr(value) -> str:
    """A value as an exact, machine-readable attribute: floats round-trip, null is empty."""
    if missing(value):
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
    if missing(value):
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
    if missing(low) or missing(high):
        return "–"
    if kind == "pp":
        return f"{float(low) * 100:+.2f} … {float(high) * 100:+.2f} pp"
    if kind == "money":
        return f"{float(low):+,.2f} … {float(high):+,.2f}"
    return f"{num(low, kind)} … {num(high, kind)}"


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
    env.filters.update(num=num, exact=attr, missing=missing, b64=lambda png: base64.b64encode(png).decode())
    env.globals.update(data_attrs=data_attrs, interval=interval, badges=BADGES)
    return env


def render(template: str, **context) -> str:
    return templates().get_template(template).render(**context)


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
