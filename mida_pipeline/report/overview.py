"""Overview charts as PNG bytes (matplotlib, Agg): the pictures the Dagster UI shows in the report asset's metadata,
and the store's charts, drawn once a build when the store's rows change.

The experiment sections' charts are SVG (charts.py): they are drawn for every live experiment every day, and a
PNG's layout pass costs hundreds of times more than writing the SVG.
"""

from __future__ import annotations

import io
import warnings
from functools import cache

import pandas as pd

from mida_pipeline.report.charts import PALETTE, VERDICT_COLOURS

# Experiment and variant names may be in any script: fall back, glyph by glyph, to whichever
# CJK font the machine has; without one a missing glyph draws as a box rather than failing.
_FALLBACKS = ["Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans JP", "WenQuanYi Zen Hei", "Droid Sans Fallback"]


@cache
def _pyplot():
    """matplotlib, set up when the first chart is drawn (never on import): the Agg backend, the fonts."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    installed = {f.name for f in font_manager.fontManager.ttflist}
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", *[f for f in _FALLBACKS if f in installed]]
    return plt


def _figure(width: float, height: float, rows: int = 1):
    return _pyplot().subplots(rows, 1, figsize=(width, height))


def _png(fig, tight: bool = True) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight" if tight else None)
    _pyplot().close(fig)
    return buffer.getvalue()


def _style(ax, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.25)


def _dates(ax, days: pd.Series) -> None:
    from matplotlib import dates as mdates

    if days.nunique() > 1:
        locator = mdates.AutoDateLocator(maxticks=8)
    else:
        # A single day (one synced day or week) gives AutoDateLocator no range to split, and matplotlib widens a
        # one-date axis to four years, where a tick a day is 1,600 ticks: the day with a day either side.
        locator = mdates.DayLocator()
        if len(days.dropna()):
            day = days.dropna().iloc[0]
            ax.set_xlim(day - pd.Timedelta(days=1), day + pd.Timedelta(days=1))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def lift(card: pd.DataFrame, label_column: str = "variant_name") -> bytes:
    """Each variant's absolute lift over control (percentage points) with its 95 % interval, coloured by verdict.

    A project has one row per variant of every experiment, so this figure is laid out by hand (fixed margins,
    one draw) rather than by `bbox_inches="tight"`, which draws it twice and measures every label."""
    rows = card[~card["is_control"].astype(bool)].reset_index(drop=True)
    height = 0.9 + 0.22 * max(len(rows), 1)
    fig, ax = _figure(6.4, height)
    fig.subplots_adjust(left=0.42, right=0.97, top=1 - 0.45 / height, bottom=0.35 / height)
    fig.suptitle("Lift over control (percentage points), 95 % interval", x=0.02, ha="left", fontsize=11, weight="bold")
    lift, low, high = (
        pd.to_numeric(rows[c], errors="coerce").astype(float) * 100 for c in ("abs_lift", "ci_low", "ci_high")
    )
    colours = [VERDICT_COLOURS.get(v, "#495057") for v in rows["verdict"]]
    y = pd.Series(range(len(rows)), dtype=float)
    both = low.notna() & high.notna() & lift.notna()
    ax.hlines(
        y[both],
        low[both],
        high[both],
        colors=[c for c, k in zip(colours, both, strict=True) if k],
        linewidth=3,
        alpha=0.55,
    )
    ax.scatter(
        lift[lift.notna()],
        y[lift.notna()],
        c=[c for c, k in zip(colours, lift.notna(), strict=True) if k],
        s=16,
        zorder=3,
    )
    ax.axvline(0, color="#868E96", linewidth=1)
    ax.set_yticks(range(len(rows)), [_short(v) for v in rows[label_column]], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.25)
    return _png(fig, tight=False)


def _short(label, limit: int = 48) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def store_traffic(frame: pd.DataFrame, title: str, date_column: str) -> bytes:
    """Visitors, sessions and orders over time."""
    fig, ax = _figure(6.4, 3.0)
    data = frame.sort_values(date_column)
    days = pd.to_datetime(data[date_column])
    for k, column in enumerate(["total_visitors", "total_sessions", "successful_orders"]):
        ax.plot(
            days,
            data[column],
            label=column.replace("_", " "),
            color=PALETTE[k],
            linewidth=1.8,
            marker="." if len(data) < 10 else None,
        )
    _style(ax, title)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
    _dates(ax, days)
    return _png(fig)


def funnel(totals: dict[str, float]) -> bytes:
    """The shopping funnel over the whole period, visitor to order."""
    fig, ax = _figure(6.4, 2.6)
    labels = list(totals)
    values = [totals[k] for k in labels]
    bars = ax.barh(labels, values, color=PALETTE[0], alpha=0.85)
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=8)
    ax.invert_yaxis()
    _style(ax, "Funnel over the period")
    ax.grid(axis="y", alpha=0)
    return _png(fig)
