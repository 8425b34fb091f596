"""Overview charts as PNG bytes: the pictures the Dagster UI shows in the report asset's metadata. The store's
charts are matplotlib's (Agg), drawn once a build when the store's rows change; each project's lift overview is
drawn straight into pixels (below).

The experiment sections' charts are SVG (charts.py): they are drawn for every live experiment every day, and a
PNG's layout pass costs hundreds of times more than writing the SVG.
"""

from __future__ import annotations

import io
import math
import warnings
from functools import cache

import pandas as pd

from mida_pipeline.report import charts
from mida_pipeline.report.charts import PALETTE, VERDICT_COLOURS

DPI = 96
# Experiment and variant names may be in any script: fall back (matplotlib glyph by glyph, the lift overview label by
# label) to whichever CJK font the machine has; without one a missing glyph draws as a box rather than failing.
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


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
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


# The project overview is drawn straight into pixels (Pillow, which matplotlib brings): it has a row per variant of
# every experiment and is drawn again for every project each day, and matplotlib's per-label text layout made it
# about two fifths of the report's drawing at an agency's size (benchmarks/RESULTS.md, 2026-12-07 13:14). Sizes are
# matplotlib's at 96 dpi, so it looks as it did.
COLOURS = 64
DOT = 3  # the lift's dot, in pixels: about matplotlib's default marker (16 square points)
_PT = DPI / 72  # pixels a point


@cache
def _fonts(bold: bool, size_pt: float) -> tuple:
    """(font, character map) for DejaVu Sans and each installed fallback, at `size_pt`."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    from PIL import ImageFont

    installed = {f.name for f in font_manager.fontManager.ttflist}
    names = ["DejaVu Sans", *[f for f in _FALLBACKS if f in installed]]
    weight = "bold" if bold else "normal"
    paths = [font_manager.findfont(font_manager.FontProperties(family=n, weight=weight)) for n in names]
    return tuple((ImageFont.truetype(path, round(size_pt * _PT)), FT2Font(path)) for path in dict.fromkeys(paths))


def _font(text: str, bold: bool = False, size_pt: float = 8):
    """The first font that has every character of `text`; DejaVu Sans (missing glyphs as boxes) when none has."""
    fonts = _fonts(bold, size_pt)
    for font, charmap in fonts:
        if all(charmap.get_char_index(ord(c)) for c in text if not c.isspace()):
            return font
    return fonts[0][0]


def _mix(colour: str, alpha: float) -> tuple[int, int, int]:
    """`colour` at `alpha` over white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(255 - alpha * (255 - c)) for c in rgb)


def lift(card: pd.DataFrame, label_column: str = "variant_name") -> bytes:
    """Each variant's absolute lift over control (percentage points) with its 95 % interval, coloured by verdict:
    a row per variant, its label on the left."""
    from PIL import Image, ImageDraw

    rows = card[~card["is_control"].astype(bool)]
    lift, low, high = (
        (pd.to_numeric(rows[c], errors="coerce").astype(float) * 100).tolist()
        for c in ("abs_lift", "ci_low", "ci_high")
    )
    verdicts, labels = rows["verdict"].tolist(), [_short(v) for v in rows[label_column]]
    height_in = 0.9 + 0.22 * max(len(rows), 1)
    width, height = round(6.4 * DPI), round(height_in * DPI)
    left, right, top, bottom = round(0.42 * width), round(0.97 * width), round(0.45 * DPI), height - round(0.35 * DPI)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    title = "Lift over control (percentage points), 95 % interval"
    draw.text(
        (round(0.02 * width), round(0.45 * DPI / 2)), title, fill="black", font=_font(title, True, 11), anchor="lm"
    )

    values = [v for v in (*lift, *low, *high) if math.isfinite(v)]
    ticks = charts.nice_ticks(min(*values, 0.0), max(*values, 0.0)) if values else [-1.0, 0.0, 1.0]
    span = (ticks[-1] - ticks[0]) or 1.0

    def x(value: float) -> float:
        return left + (value - ticks[0]) / span * (right - left)

    pitch = (bottom - top) / max(len(rows), 1)
    for tick in ticks:
        draw.line([(x(tick), top), (x(tick), bottom)], fill=_mix("#B0B0B0", 0.25))
        draw.line([(x(tick), bottom), (x(tick), bottom + 4)], fill="black")
        label = charts.value_label(tick)
        draw.text((x(tick), bottom + 6), label, fill="black", font=_font(label), anchor="mt")
    draw.line([(x(0.0), top), (x(0.0), bottom)], fill="#868E96")
    for i, (point, lo, hi, verdict, label) in enumerate(zip(lift, low, high, verdicts, labels, strict=True)):
        y = top + (i + 0.5) * pitch
        colour = VERDICT_COLOURS.get(verdict, "#495057")
        if math.isfinite(point) and math.isfinite(lo) and math.isfinite(hi):
            draw.line([(x(lo), y), (x(hi), y)], fill=_mix(colour, 0.55), width=3)
        if math.isfinite(point):
            draw.ellipse([(x(point) - DOT, y - DOT), (x(point) + DOT, y + DOT)], fill=colour)
        draw.line([(left - 4, y), (left, y)], fill="black")
        draw.text((left - 6, y), label, fill="black", font=_font(label), anchor="rm")
    draw.line([(left, top), (left, bottom)], fill="black")
    draw.line([(left, bottom), (right, bottom)], fill="black")
    # A palette of the few colours drawn (and the text's edges): a tenth of the bytes in the run's metadata.
    buffer = io.BytesIO()
    image.quantize(colors=COLOURS, method=Image.Quantize.FASTOCTREE).save(buffer, format="png")
    return buffer.getvalue()


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
