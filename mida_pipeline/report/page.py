"""The report's HTML: one page per project and an index, self-contained (inline CSS, PNGs as data URIs).

Every number shown also sits, unrounded, in a data- attribute of its element,
so a reader's tool (or a test) can compare the page with the marts exactly.
"""

from __future__ import annotations

import base64
import html
import math
from collections import Counter
from datetime import date, datetime

import pandas as pd

BADGES = {
    "winner": ("Winner", "#2B8A3E"),
    "loser": ("Loser", "#C92A2A"),
    "inconclusive": ("Inconclusive", "#495057"),
    "srm_warning": ("SRM warning", "#E67700"),
    "control": ("Control", "#868E96"),
    "no_data": ("No results yet", "#ADB5BD"),
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;margin:0;background:#f8f9fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px}h3{font-size:16px;margin:0}
.muted{color:#868e96}.card{background:#fff;border:1px solid #dee2e6;border-radius:8px;padding:16px;margin:14px 0}
.head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;flex-wrap:wrap}
.badge{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:4px 6px;border-bottom:1px solid #e9ecef}td{white-space:nowrap}th{color:#495057;font-weight:600}
th:first-child,td:first-child{text-align:left}img{max-width:100%;height:auto;display:block;margin:8px 0}
.warn{background:#fff4e6;border-left:4px solid #e67700;padding:6px 10px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:8px;align-items:start}a{color:#364fc7}
.summary span{margin-right:14px}.scroll{overflow-x:auto}
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


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


def data_attrs(**values) -> str:
    return " ".join(f'data-{k.replace("_", "-")}="{esc(attr(v))}"' for k, v in values.items())


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


def interval(low, high) -> str:
    if _missing(low) or _missing(high):
        return "–"
    return f"{float(low) * 100:+.2f} … {float(high) * 100:+.2f} pp"


def badge(verdict: str) -> str:
    label, colour = BADGES.get(verdict, (verdict, "#495057"))
    return f'<span class="badge" style="background:{colour}" data-badge="{esc(verdict)}">{esc(label)}</span>'


def img(png: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def experiment_verdict(card: pd.DataFrame) -> str:
    """One badge per experiment from its variants' verdicts.

    An SRM warning wins, because when the traffic split is off no other number
    can be trusted; then a winner (some variant significantly beats control),
    then a loser (some variant is significantly worse), else inconclusive.
    """
    verdicts = set(card.loc[~card["is_control"].astype(bool), "verdict"]) if len(card) else set()
    for verdict in ("srm_warning", "winner", "loser", "inconclusive"):
        if verdict in verdicts:
            return verdict
    return "no_data"


def _page(title: str, body: str, generated_at: datetime) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}"
        f'<p class="muted">Generated {esc(generated_at.strftime("%Y-%m-%d %H:%M UTC"))} from the marts of the warehouse.</p>'
        "</main></body></html>\n"
    )


def _variant_row(v: pd.Series, with_revenue: bool) -> str:
    cells = [
        f"<td>{esc(v['variant_name'])} <span class=\"muted\">({esc(v['variant_id'])})</span></td>",
        f"<td data-field=\"visitors\">{num(v['visitors'], 'int')}</td>",
        f"<td data-field=\"conversions\">{num(v['conversions'], 'int')}</td>",
        f"<td data-field=\"conversion_rate\">{num(v['conversion_rate'], 'pct')}</td>",
        f"<td data-field=\"abs_lift\">{num(v['abs_lift'], 'pp')}</td>",
        f"<td data-field=\"rel_lift\">{num(v['rel_lift'], 'rel')}</td>",
        f"<td data-field=\"ci\">{interval(v['ci_low'], v['ci_high'])}</td>",
        f"<td data-field=\"p_value\">{num(v['p_value'], 'p')}</td>",
        f"<td data-field=\"chance_to_beat_control\">{num(v['chance_to_beat_control'], 'pct')}</td>",
    ]
    if with_revenue:
        cells.append(f"<td data-field=\"revenue_per_visitor\">{num(v['revenue_per_visitor'], 'money')}</td>")
        cells.append(f"<td data-field=\"rpv_lift\">{num(v['rpv_lift'], 'rel')}</td>")
    cells.append(f"<td>{badge(v['verdict'])}</td>")
    attrs = data_attrs(
        test_id=v["test_id"], variant_id=v["variant_id"], visitors=v["visitors"], conversions=v["conversions"],
        conversion_rate=v["conversion_rate"], abs_lift=v["abs_lift"], rel_lift=v["rel_lift"], ci_low=v["ci_low"],
        ci_high=v["ci_high"], p_value=v["p_value"], chance_to_beat_control=v["chance_to_beat_control"],
        revenue=v["revenue"], revenue_per_visitor=v["revenue_per_visitor"], rpv_lift=v["rpv_lift"], verdict=v["verdict"],
    )
    return f'<tr class="variant" {attrs}>{"".join(cells)}</tr>'


def experiment_section(info: pd.Series | None, card: pd.DataFrame, charts: dict[str, bytes]) -> str:
    """One experiment: badge, facts, the variants' table, the cumulative-rate and lift charts."""
    first = card.iloc[0]
    name = info["test_name"] if info is not None else first["test_name"]
    verdict = experiment_verdict(card)
    with_revenue = bool(card["revenue"].fillna(0).sum() > 0)
    facts = [f"test {esc(first['test_id'])}", f"results to {esc(attr(first['as_of_date']))}"]
    if info is not None:
        facts.insert(1, f"status {esc(info['status'])}")
        if not _missing(info.get("primary_goal_name")):
            facts.append(f"goal: {esc(info['primary_goal_name'])}")
    if not _missing(first.get("confidence_threshold_percent")):
        facts.append(f"significance at {float(first['confidence_threshold_percent']):g} % confidence")
    head = ["Variant", "Visitors", "Conversions", "Rate", "Lift", "Relative", "95 % interval", "p-value", "Chance to beat control"]
    if with_revenue:
        head += ["Revenue / visitor", "RPV lift"]
    head.append("Verdict")
    warn = ""
    if bool(card["srm_flag"].fillna(False).astype(bool).any()):
        warn = (
            f'<p class="warn">Sample ratio mismatch (p = {num(card["srm_p_value"].iloc[0], "p")}): visitors are not split as '
            "configured, so the lift cannot be trusted. Check targeting, redirects and bot filtering before reading it.</p>"
        )
    rows = "".join(_variant_row(v, with_revenue) for _, v in card.iterrows())
    pictures = "".join(img(png, alt) for alt, png in charts.items())
    return (
        f'<section class="card experiment" {data_attrs(test_id=first["test_id"], verdict=verdict, as_of=first["as_of_date"])}>'
        f'<div class="head"><h3>{esc(name)}</h3>{badge(verdict)}</div>'
        f'<p class="muted">{" · ".join(facts)}</p>{warn}'
        f'<div class="scroll"><table><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead><tbody>{rows}</tbody></table></div>'
        f'<div class="charts">{pictures}</div></section>'
    )


FUNNEL = [("total_visitors", "Visitors"), ("product_views", "Product views"), ("add_to_cart", "Added to cart"),
          ("checkout_started", "Checkout started"), ("successful_orders", "Orders")]
STORE_COLUMNS = [("total_visitors", "Visitors", "int"), ("total_sessions", "Sessions", "int"),
                 ("product_views", "Product views", "int"), ("add_to_cart", "Add to cart", "int"),
                 ("checkout_started", "Checkouts", "int"), ("successful_orders", "Orders", "int"),
                 ("cart_abandonment_rate", "Cart abandonment", "pct"), ("revenue", "Revenue", "money")]


def funnel_totals(daily: pd.DataFrame) -> dict[str, float]:
    return {column: daily[column].sum(min_count=1) for column, _ in FUNNEL}


def _store_table(frame: pd.DataFrame, date_column: str, kind: str) -> str:
    head = "".join(f"<th>{label}</th>" for _, label, _ in STORE_COLUMNS)
    rows = []
    for _, r in frame.sort_values(date_column, ascending=False).iterrows():
        attrs = data_attrs(date=r[date_column], **{c: r[c] for c, _, _ in STORE_COLUMNS})
        cells = "".join(f'<td data-field="{c}">{num(r[c], fmt)}</td>' for c, _, fmt in STORE_COLUMNS)
        rows.append(f'<tr class="store-{kind}" {attrs}><td>{esc(attr(r[date_column]))}</td>{cells}</tr>')
    first = "Week of" if kind == "weekly" else "Day"
    return f'<div class="scroll"><table><thead><tr><th>{first}</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def store_section(daily: pd.DataFrame, weekly: pd.DataFrame, charts: dict[str, bytes]) -> str:
    """The store's traffic by day and by week, and its funnel over the period."""
    if daily.empty and weekly.empty:
        return '<h2>Store</h2><p class="muted">No store analytics synced yet (set MIDA_BSS_SECRET_KEY to sync them).</p>'
    parts = ["<h2>Store traffic and funnel</h2>"]
    if not daily.empty:
        totals = funnel_totals(daily)
        first, last = attr(daily["date"].min()), attr(daily["date"].max())
        steps = "".join(
            f'<tr class="funnel-step" {data_attrs(step=c, value=totals[c])}><td>{label}</td><td>{num(totals[c], "int")}</td>'
            f'<td>{num(totals[c] / totals["total_visitors"] if totals["total_visitors"] else None, "pct")}</td></tr>'
            for c, label in FUNNEL
        )
        parts.append(
            f'<div class="card"><p class="muted">{len(daily)} days, {esc(first)} to {esc(last)}</p>'
            f'<table class="funnel"><thead><tr><th>Funnel step</th><th>Total</th><th>Of visitors</th></tr></thead>'
            f'<tbody>{steps}</tbody></table><div class="charts">{img(charts["funnel"], "Funnel")}'
            f'{img(charts["store_daily"], "Daily traffic")}</div></div>'
        )
    if not weekly.empty:
        parts.append(f'<div class="card"><h3>By week</h3>{img(charts["store_weekly"], "Weekly traffic")}'
                     f'{_store_table(weekly, "week_start", "weekly")}</div>')
    if not daily.empty:
        parts.append(f'<div class="card"><details><summary>By day</summary>{_store_table(daily, "date", "daily")}</details></div>')
    return "".join(parts)


def project_page(
    project_key: str, sections: list[str], verdicts: list[str], not_started: list[str], store: str, generated_at: datetime
) -> str:
    counts = Counter(verdicts)
    summary = "".join(f"<span>{badge(v)} {counts[v]}</span>" for v in ("winner", "loser", "inconclusive", "srm_warning") if counts[v])
    body = [f'<h1 data-project-key="{esc(project_key)}">A/B tests of {esc(project_key)}</h1>',
            f'<p class="summary"><a href="index.html">All projects</a> · {len(sections)} experiments with results {summary}</p>',
            "<h2>Experiments</h2>"]
    body += sections or ['<p class="muted">No experiment has results yet.</p>']
    if not_started:
        body.append(f'<p class="muted">Without results yet: {", ".join(esc(n) for n in not_started)}.</p>')
    body.append(store)
    return _page(f"{project_key}: experiment report", "".join(body), generated_at)


def index_page(rows: list[dict], store: str, generated_at: datetime) -> str:
    """Each project with its experiments by badge, linked to its page; then the store."""
    lines = []
    for r in rows:
        counts = "".join(f'<td data-field="{v}">{r["verdicts"].get(v, 0)}</td>' for v in ("winner", "loser", "inconclusive", "srm_warning"))
        lines.append(f'<tr class="project" {data_attrs(project_key=r["project_key"], experiments=r["experiments"])}>'
                     f'<td><a href="{esc(r["file"])}">{esc(r["project_key"])}</a></td><td>{r["experiments"]}</td>{counts}</tr>')
    head = "".join(f"<th>{h}</th>" for h in ("Project", "Experiments with results", "Winner", "Loser", "Inconclusive", "SRM warning"))
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>" if rows else '<p class="muted">No Mida project configured.</p>'
    return _page("Experiment report", f"<h1>Experiment report</h1><h2>Projects</h2>{table}{store}", generated_at)
