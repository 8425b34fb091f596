"""Charts as PNG bytes (matplotlib, Agg): embedded in the HTML and attached to the asset's metadata."""

from __future__ import annotations

import io
import warnings
from functools import cache

import numpy as np
import pandas as pd

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


PALETTE = ["#4C6EF5", "#F76707", "#12B886", "#AE3EC9", "#F03E3E"]
VERDICT_COLOURS = {"winner": "#2B8A3E", "loser": "#C92A2A", "srm_warning": "#E67700", "inconclusive": "#495057"}
Z95 = 1.959963984540054


def _figure(width: float, height: float, rows: int = 1):
    return _pyplot().subplots(rows, 1, figsize=(width, height))


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
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


def wilson_band(conversions: np.ndarray, visitors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate and its 95 % Wilson interval per point; Wilson stays inside [0, 1] even for small counts."""
    n = visitors.astype(float)
    safe = np.where(n > 0, n, 1.0)
    rate = np.where(n > 0, conversions / safe, np.nan)
    denom = 1 + Z95**2 / safe
    centre = (rate + Z95**2 / (2 * safe)) / denom
    half = Z95 * np.sqrt(rate * (1 - rate) / safe + Z95**2 / (4 * safe**2)) / denom
    return rate, centre - half, centre + half


def cumulative_rate(series: pd.DataFrame, names: dict[str, str]) -> bytes:
    """Each variant's cumulative conversion rate by day, with its 95 % Wilson band."""
    fig, ax = _figure(6.4, 3.0)
    for k, (variant_id, rows) in enumerate(series.sort_values("result_date").groupby("variant_id", sort=True)):
        rate, low, high = wilson_band(rows["conversions"].to_numpy(float), rows["visitors"].to_numpy(float))
        days = pd.to_datetime(rows["result_date"])
        color = PALETTE[k % len(PALETTE)]
        ax.plot(days, rate * 100, color=color, label=names.get(variant_id, variant_id), linewidth=1.8)
        ax.fill_between(days, low * 100, high * 100, color=color, alpha=0.15, linewidth=0)
    _style(ax, "Cumulative conversion rate (%), 95 % interval")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4)
    _dates(ax, pd.to_datetime(series["result_date"]))
    return _png(fig)


def decision_history(series: pd.DataFrame, names: dict[str, str], threshold_percent: float | None) -> bytes:
    """Each variant's chance to beat control and sequential p-value as of every synced day: how the evidence moved.

    The sequential p-value stays valid however often it is read, so the day it crosses the line is a day a
    decision could have been taken; the chance to beat control is the Bayesian view of the same days.
    """
    threshold = (threshold_percent or 95.0) / 100
    fig, (top, bottom) = _figure(6.4, 4.4, rows=2)
    variants = series[series["variant_id"] != "0"] if "0" in set(series["variant_id"]) else series
    for k, (variant_id, rows) in enumerate(variants.sort_values("result_date").groupby("variant_id", sort=True)):
        days, color = pd.to_datetime(rows["result_date"]), PALETTE[(k + 1) % len(PALETTE)]
        label = names.get(variant_id, variant_id)
        top.plot(days, rows["chance_to_beat_control"].astype(float) * 100, color=color, label=label, linewidth=1.8)
        bottom.plot(days, rows["sequential_p_value"].astype(float), color=color, label=label, linewidth=1.8)
    top.axhline(threshold * 100, color="#868E96", linewidth=1, linestyle="--")
    top.set_ylim(0, 100)
    bottom.axhline(1 - threshold, color="#868E96", linewidth=1, linestyle="--")
    bottom.set_yscale("log")
    _style(top, "Chance to beat control (%)")
    _style(bottom, "Sequential p-value (safe to read daily)")
    for ax in (top, bottom):
        _dates(ax, pd.to_datetime(series["result_date"]))
    bottom.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4)
    return _png(fig)


def lift(card: pd.DataFrame, label_column: str = "variant_name") -> bytes:
    """Each variant's absolute lift over control (percentage points) with its 95 % interval, coloured by verdict."""
    rows = card[~card["is_control"].astype(bool)].reset_index(drop=True)
    fig, ax = _figure(6.4, 0.8 + 0.4 * max(len(rows), 1))
    for k, row in rows.iterrows():
        if pd.isna(row["abs_lift"]):
            continue
        color = VERDICT_COLOURS.get(row["verdict"], "#495057")
        if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"]):
            ax.plot([row["ci_low"] * 100, row["ci_high"] * 100], [k, k], color=color, linewidth=3, alpha=0.55)
        ax.plot(row["abs_lift"] * 100, k, "o", color=color)
    ax.axvline(0, color="#868E96", linewidth=1)
    ax.set_yticks(range(len(rows)), [str(v) for v in rows[label_column]], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    _style(ax, "Lift over control (percentage points), 95 % interval")
    ax.grid(axis="x", alpha=0.25)
    return _png(fig)


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
