"""An experiment section's charts, written as inline SVG from the numbers the section shows.

Every live experiment's section is drawn again every day, so a chart must cost next to nothing: the scales and
ticks are computed here and the SVG written directly, with no layout pass. A chart is a fixed-size drawing that
the page scales to its container; its title and legend are HTML around it (section.py), laid out by the browser,
so no title can be drawn over another chart's axis. The page still opens offline: nothing is fetched or run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

PALETTE = ["#4C6EF5", "#F76707", "#12B886", "#AE3EC9", "#F03E3E"]
VERDICT_COLOURS = {"winner": "#2B8A3E", "loser": "#C92A2A", "srm_warning": "#E67700", "inconclusive": "#495057"}
Z95 = 1.959963984540054

WIDTH = 560  # the drawing's own units; the page scales it to its column
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 10, 24  # room for the value ticks (left) and the date ticks (below)
AXIS, GRID, MUTED = "#868E96", "#E9ECEF", "#495057"


@dataclass(frozen=True)
class Chart:
    """One chart of a section: `name` keys it (a data attribute tests and readers can find), `legend` is what the
    page lists under it as (label, colour)."""

    name: str
    title: str
    svg: Markup
    legend: tuple[tuple[str, str], ...] = ()


def wilson_band(conversions: np.ndarray, visitors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate and its 95 % Wilson interval per point; Wilson stays inside [0, 1] even for small counts."""
    n = visitors.astype(float)
    safe = np.where(n > 0, n, 1.0)
    rate = np.where(n > 0, conversions / safe, np.nan)
    denom = 1 + Z95**2 / safe
    centre = (rate + Z95**2 / (2 * safe)) / denom
    half = Z95 * np.sqrt(rate * (1 - rate) / safe + Z95**2 / (4 * safe**2)) / denom
    return rate, centre - half, centre + half


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering low..high, about `count` of them."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high + step * (1 - 1e-9):
        ticks.append(round(value, 12))
        value += step
    return ticks


def date_ticks(first: date, last: date, count: int = 6) -> list[date]:
    """At most `count` days from first to last, a whole number of days apart, the first always among them."""
    span = (last - first).days
    step = max(1, math.ceil(span / max(count - 1, 1)))
    return [first + timedelta(days=k) for k in range(0, span + 1, step)]


def _date_label(day: date, previous: date | None, span_days: int) -> str:
    if span_days > 300 and (previous is None or previous.year != day.year):
        return day.strftime("%b %Y")
    return f"{day.strftime('%b')} {day.day}"


def value_label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.0e}"


class _Plot:
    """The plot area of one chart: x by day (or by value), y linear or log, and the SVG written into it."""

    def __init__(self, height: int, y_ticks: list[float], *, log: bool = False, x_days: tuple[date, date] | None):
        self.height, self.log = height, log
        self.parts: list[str] = []
        self.y_ticks = y_ticks
        self.y_low, self.y_high = self._y(y_ticks[0]), self._y(y_ticks[-1])
        self.x_days = x_days

    def _y(self, value: float) -> float:
        return math.log10(value) if self.log else value

    def y(self, value: float) -> float:
        span = (self.y_high - self.y_low) or 1.0
        bottom, top = self.height - BOTTOM, TOP
        return bottom - (self._y(value) - self.y_low) / span * (bottom - top)

    def x(self, day: date) -> float:
        first, last = self.x_days
        span = (last - first).days
        if span == 0:
            return (LEFT + WIDTH - RIGHT) / 2
        return LEFT + (day - first).days / span * (WIDTH - RIGHT - LEFT)

    def value_axis(self, label=value_label) -> None:
        for tick in self.y_ticks:
            y = self.y(tick)
            self.parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                f'<text x="{LEFT - 6}" y="{y + 3.5:.1f}" text-anchor="end">{label(tick)}</text>'
            )

    def date_axis(self) -> None:
        first, last = self.x_days
        base = self.height - BOTTOM
        self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{AXIS}"/>')
        previous = None
        for day in date_ticks(first, last):
            x = self.x(day)
            # The first and last ticks sit at the plot's edges: their labels run inwards, so none leaves the drawing.
            anchor = (
                "middle"
                if first == last
                else "start"
                if x <= LEFT + 1
                else "end"
                if x >= WIDTH - RIGHT - 1
                else "middle"
            )
            self.parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="{AXIS}"/>'
                f'<text x="{x:.1f}" y="{base + 16}" text-anchor="{anchor}">{_date_label(day, previous, (last - first).days)}</text>'
            )
            previous = day

    def rule(self, value: float) -> None:
        y = self.y(value)
        self.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{AXIS}" stroke-dasharray="5 4"/>'
        )

    def line(self, days: list[date], values: np.ndarray, colour: str, variant_id: str) -> None:
        points = [(self.x(d), self.y(v)) for d, v in zip(days, values, strict=True) if _finite(v)]
        if not points:
            return
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
        marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points)
        self.parts.append(
            f'<g class="series" data-variant-id="{escape(variant_id)}">'
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f"{marks if len(points) < 10 else ''}</g>"
        )

    def band(self, days: list[date], low: np.ndarray, high: np.ndarray, colour: str) -> None:
        kept = [(d, lo, hi) for d, lo, hi in zip(days, low, high, strict=True) if _finite(lo) and _finite(hi)]
        if len(kept) < 2:
            return
        upper = [f"{self.x(d):.1f},{self.y(hi):.1f}" for d, _, hi in kept]
        lower = [f"{self.x(d):.1f},{self.y(lo):.1f}" for d, lo, _ in reversed(kept)]
        self.parts.append(f'<path d="M{" L".join(upper + lower)} Z" fill="{colour}" fill-opacity="0.15"/>')

    def svg(self, title: str) -> Markup:
        return _svg(self.height, title, self.parts)


def _svg(height: int, title: str, parts: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'font-size="11" fill="{MUTED}"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def _finite(value) -> bool:
    return value is not None and value is not pd.NA and math.isfinite(float(value))


@dataclass(frozen=True)
class Line:
    """One variant's days and numbers over time, read once from the daily scorecard for every chart of a section."""

    variant_id: str
    days: list[date]
    columns: dict[str, np.ndarray]


def lines(series: pd.DataFrame) -> list[Line]:
    """The daily scorecard's rows of one experiment as one Line per variant, ordered by variant and day."""
    ordered = series.sort_values(["variant_id", "result_date"], kind="stable")
    days = list(pd.to_datetime(ordered["result_date"]).dt.date)
    variant_ids = ordered["variant_id"].astype(str).to_numpy()
    numbers = {
        c: pd.to_numeric(ordered[c], errors="coerce").astype(float).to_numpy()
        for c in ("visitors", "conversions", "chance_to_beat_control", "sequential_p_value")
        if c in ordered
    }
    out = []
    starts = [0, *[i for i in range(1, len(variant_ids)) if variant_ids[i] != variant_ids[i - 1]], len(variant_ids)]
    for a, b in zip(starts, starts[1:], strict=False):
        if a < b:
            out.append(Line(variant_ids[a], days[a:b], {c: v[a:b] for c, v in numbers.items()}))
    return out


def _span(drawn: list[Line]) -> tuple[date, date]:
    return min(line.days[0] for line in drawn), max(line.days[-1] for line in drawn)


def _challengers(drawn: list[Line]) -> list[Line]:
    return (
        [line for line in drawn if line.variant_id != "0"] if any(line.variant_id == "0" for line in drawn) else drawn
    )


def cumulative_rate(drawn: list[Line], names: dict[str, str]) -> Chart:
    """Each variant's cumulative conversion rate by day, with its 95 % Wilson band."""
    bands = []
    for k, line in enumerate(drawn):
        rate, low, high = wilson_band(line.columns["conversions"], line.columns["visitors"])
        bands.append((line, rate * 100, low * 100, high * 100, PALETTE[k % len(PALETTE)]))
    edges = np.array([v for _, _, low, high, _ in bands for v in (*low, *high)], dtype=float)
    edges = edges[np.isfinite(edges)]
    ticks = nice_ticks(max(float(edges.min()), 0.0), float(edges.max())) if len(edges) else [0.0, 1.0]
    plot = _Plot(220, ticks, x_days=_span(drawn))
    plot.value_axis()
    for line, _, low, high, colour in bands:
        plot.band(line.days, low, high, colour)
    for line, rate, _, _, colour in bands:
        plot.line(line.days, rate, colour, line.variant_id)
    plot.date_axis()
    title = "Cumulative conversion rate (%), 95 % interval"
    legend = tuple((names.get(line.variant_id, line.variant_id), colour) for line, *_, colour in bands)
    return Chart("cumulative_rate", title, plot.svg(title), legend)


def chance_history(drawn: list[Line], names: dict[str, str], threshold_percent: float | None) -> Chart:
    """Each challenger's chance to beat control as of every synced day, with the project's threshold."""
    plot = _Plot(180, [0, 25, 50, 75, 100], x_days=_span(drawn))
    plot.value_axis()
    plot.rule(threshold_percent or 95.0)
    legend = []
    for k, line in enumerate(_challengers(drawn)):
        colour = PALETTE[(k + 1) % len(PALETTE)]
        plot.line(line.days, line.columns["chance_to_beat_control"] * 100, colour, line.variant_id)
        legend.append((names.get(line.variant_id, line.variant_id), colour))
    plot.date_axis()
    title = "Chance to beat control (%)"
    return Chart("chance_history", title, plot.svg(title), tuple(legend))


def sequential_history(drawn: list[Line], names: dict[str, str], threshold_percent: float | None) -> Chart:
    """Each challenger's sequential p-value as of every synced day, on a log scale, with the line to cross.

    The sequential p-value stays valid however often it is read, so the day it crosses the line is a day a
    decision could have been taken.
    """
    alpha = 1 - (threshold_percent or 95.0) / 100
    challengers = _challengers(drawn)
    values = np.concatenate([line.columns["sequential_p_value"] for line in challengers] or [np.array([1.0])])
    positive = values[np.isfinite(values) & (values > 0)]
    lowest = math.floor(math.log10(min(float(positive.min()) if len(positive) else 1.0, alpha)))
    step = max(1, math.ceil(-lowest / 5))  # at most six decades labelled, 1 always among them
    decades = [10.0**-e for e in range(0, -lowest + step, step)][::-1]
    plot = _Plot(180, decades, log=True, x_days=_span(drawn))
    plot.value_axis()
    plot.rule(alpha)
    legend = []
    for k, line in enumerate(challengers):
        colour = PALETTE[(k + 1) % len(PALETTE)]
        plot.line(line.days, np.clip(line.columns["sequential_p_value"], decades[0], None), colour, line.variant_id)
        legend.append((names.get(line.variant_id, line.variant_id), colour))
    plot.date_axis()
    title = "Sequential p-value (safe to read daily), log scale"
    return Chart("sequential_history", title, plot.svg(title), tuple(legend))


def lift(card: pd.DataFrame, label_column: str = "variant_name") -> Chart:
    """Each variant's absolute lift over control (percentage points) with its 95 % interval, coloured by verdict.

    A variant's name is written above its interval, across the whole width, so a long name never runs into
    the axis."""
    # The challengers' rows of the six columns drawn (not the card's every column), each read once as a list: a
    # Series a row cost more than drawing the chart.
    drawn = list(dict.fromkeys(["abs_lift", "ci_low", "ci_high", "verdict", "variant_id", label_column]))
    rows = card.loc[~card["is_control"].astype(bool).to_numpy(dtype=bool), drawn]
    lifts, lows, highs = (rows[c].astype(float).tolist() for c in drawn[:3])
    values = [v * 100 for v in (*lifts, *lows, *highs) if not math.isnan(v)]
    low, high = (min(values), max(values)) if values else (-1.0, 1.0)
    ticks = nice_ticks(min(low, 0.0), max(high, 0.0))
    x_low, x_high = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return LEFT + (value - x_low) / ((x_high - x_low) or 1.0) * (WIDTH - RIGHT - LEFT)

    row_height = 34
    height = TOP + row_height * max(len(rows), 1) + BOTTOM
    base = height - BOTTOM
    parts = [
        f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{TOP}" y2="{base}" stroke="{GRID}"/>'
        f'<text x="{x(t):.1f}" y="{base + 16}" text-anchor="middle">{value_label(t)}</text>'
        for t in ticks
    ]
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{TOP}" y2="{base}" stroke="{AXIS}"/>')
    labels = (rows[c].tolist() for c in ("verdict", "variant_id", label_column))
    for k, (lift_, ci_low, ci_high, verdict, variant_id, label) in enumerate(
        zip(lifts, lows, highs, *labels, strict=True)
    ):
        top = TOP + k * row_height
        colour = VERDICT_COLOURS.get(verdict, MUTED)
        mark = ""
        if _finite(lift_):
            if _finite(ci_low) and _finite(ci_high):
                mark += (
                    f'<line x1="{x(ci_low * 100):.1f}" x2="{x(ci_high * 100):.1f}" y1="{top + 24}" '
                    f'y2="{top + 24}" stroke="{colour}" stroke-width="5" stroke-opacity="0.55"/>'
                )
            mark += f'<circle cx="{x(lift_ * 100):.1f}" cy="{top + 24}" r="4.5" fill="{colour}"/>'
        parts.append(
            f'<g class="series" data-variant-id="{escape(str(variant_id))}">'
            f'<text x="{LEFT}" y="{top + 12}" fill="#212529">{escape(str(label))}</text>{mark}</g>'
        )
    title = "Lift over control (percentage points), 95 % interval"
    return Chart("lift", title, _svg(height, title, parts))
