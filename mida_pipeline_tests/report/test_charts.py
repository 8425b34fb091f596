"""Charts: drawn from the marts' rows as SVG, readable for one day as for a year, and faithful to the numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from mida_pipeline.report import charts, overview

SVG = "{http://www.w3.org/2000/svg}"


def days_of(n: int, first=date(2026, 11, 29)) -> pd.DataFrame:
    rows = []
    for k in range(n):
        day = first + timedelta(days=k)
        for variant, rate in (("0", 0.10), ("1", 0.12)):
            visitors = 1000 * (k + 1)
            rows.append(
                {
                    "variant_id": variant,
                    "result_date": day,
                    "visitors": visitors,
                    "conversions": int(visitors * rate),
                    "chance_to_beat_control": None if variant == "0" else min(0.5 + k / 400, 0.999),
                    "sequential_p_value": None if variant == "0" else 0.9 / (k + 1) ** 3,
                }
            )
    return pd.DataFrame(rows)


def parsed(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def tick_labels(root: ET.Element, anchor: str) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == anchor]


NAMES = {"0": "Control", "1": "B"}
DRAWINGS = {
    "cumulative_rate": lambda lines: charts.cumulative_rate(lines, NAMES),
    "chance_history": lambda lines: charts.chance_history(lines, NAMES, 95.0),
    "sequential_history": lambda lines: charts.sequential_history(lines, NAMES, 95.0),
}


@pytest.mark.parametrize("name", DRAWINGS)
def test_a_single_day_is_one_point_on_a_one_day_axis(name):
    chart = DRAWINGS[name](charts.lines(days_of(1)))
    root = parsed(chart)
    assert tick_labels(root, "middle") == ["Nov 29"]  # the day, once: not four years of ticks
    assert root.findall(f".//{SVG}circle"), "a single day is drawn as a point, not an invisible line"


@pytest.mark.parametrize("name", DRAWINGS)
def test_a_year_gets_at_most_six_date_ticks_with_the_years_named(name):
    chart = DRAWINGS[name](charts.lines(days_of(400, first=date(2025, 11, 1))))
    root = parsed(chart)
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text[0].isalpha()]
    assert 3 <= len(labels) <= 6
    assert labels[0] == "Nov 2025" and any(label.endswith("2026") for label in labels)


def test_the_cumulative_rate_band_is_the_wilson_interval_scipy_computes():
    frame = days_of(3)
    rate, low, high = charts.wilson_band(frame["conversions"].to_numpy(float), frame["visitors"].to_numpy(float))
    for k, row in frame.iterrows():
        ci = binomtest(int(row["conversions"]), int(row["visitors"])).proportion_ci(0.95, method="wilson")
        assert low[k] == pytest.approx(ci.low, rel=1e-9) and high[k] == pytest.approx(ci.high, rel=1e-9)
        assert rate[k] == row["conversions"] / row["visitors"]


def test_each_variant_is_one_series_with_a_point_a_day_placed_by_its_rate():
    chart = charts.cumulative_rate(charts.lines(days_of(5)), NAMES)
    root = parsed(chart)
    series = {g.get("data-variant-id"): g for g in root.iter(f"{SVG}g")}
    assert set(series) == {"0", "1"}
    heights = {}
    for variant, group in series.items():
        path = group.find(f"{SVG}path").get("d")
        points = [tuple(map(float, p)) for p in re.findall(r"[ML]([\d.]+),([\d.]+)", path)]
        assert len(points) == 5 and [x for x, _ in points] == sorted(x for x, _ in points)
        heights[variant] = np.mean([y for _, y in points])
    assert heights["1"] < heights["0"]  # a higher rate is drawn higher (smaller y)
    assert chart.legend == (("Control", charts.PALETTE[0]), ("B", charts.PALETTE[1]))


def test_the_sequential_axis_reaches_below_the_smallest_p_value_in_decades():
    chart = charts.sequential_history(charts.lines(days_of(60)), NAMES, 95.0)
    labels = [float(t) for t in tick_labels(parsed(chart), "end")]
    smallest = 0.9 / 60**3
    assert min(labels) <= smallest and max(labels) == 1.0 and len(labels) <= 6
    assert all(np.log10(v) == round(np.log10(v)) for v in labels)


def test_names_from_the_api_are_text_in_the_drawing_never_markup():
    card = pd.DataFrame(
        {
            "variant_id": ["0", "1"],
            "variant_name": ["Control", '<script>alert("x")</script>'],
            "is_control": [True, False],
            "abs_lift": [None, 0.01],
            "ci_low": [None, -0.002],
            "ci_high": [None, 0.022],
            "verdict": [None, "inconclusive"],
        }
    )
    chart = charts.lift(card)
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    root = parsed(chart)
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") is None]
    assert labels == ['<script>alert("x")</script>']
    assert [t for t in tick_labels(root, "middle")][0] == "-1" and "0" in tick_labels(root, "middle")


@pytest.mark.parametrize("low,high", [(0.0, 0.0), (1.3, 1.3), (-0.004, 0.031), (12.0, 230.0)])
def test_nice_ticks_cover_the_range_with_round_steps(low, high):
    ticks = charts.nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 8
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]) + 1e-9)
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_the_ui_overview_is_a_png_with_a_row_per_variant():
    card = pd.DataFrame(
        {
            "is_control": [False] * 30,
            "label": [f"Experiment {k} · a rather long variant name that goes on {k}" for k in range(30)],
            "abs_lift": np.linspace(-0.01, 0.02, 30),
            "ci_low": np.linspace(-0.02, 0.01, 30),
            "ci_high": np.linspace(0.0, 0.03, 30),
            "verdict": ["winner", "loser", "inconclusive"] * 10,
        }
    )
    png = overview.lift(card, label_column="label")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == round(6.4 * 96) and height > 30 * 0.2 * 96


def _rows_in(png: bytes, colour: str) -> list[int]:
    """The pixel rows of the picture where `colour` is drawn (within a few levels: the picture has a palette)."""
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return sorted(set(np.nonzero((np.abs(pixels - target).max(axis=2) <= 12).any(axis=1))[0].tolist()))


def test_the_ui_overview_draws_each_variant_in_its_row_in_its_verdicts_colour():
    """Top to bottom in the card's order: the winner in the first row, the loser in the second; a variant without
    numbers, labelled in a script the default font lacks, still draws."""
    card = pd.DataFrame(
        {
            "is_control": [True, False, False, False],
            "label": ["control", "won", "lost", "no numbers yet 日本"],
            "abs_lift": [None, 0.03, -0.02, None],
            "ci_low": [None, 0.01, -0.04, None],
            "ci_high": [None, 0.05, -0.005, None],
            "verdict": [None, "winner", "loser", "inconclusive"],
        }
    )
    png = overview.lift(card, label_column="label")
    won, lost = _rows_in(png, charts.VERDICT_COLOURS["winner"]), _rows_in(png, charts.VERDICT_COLOURS["loser"])
    row = (int.from_bytes(png[20:24], "big") - 0.8 * 96) / 3  # the plot's height (margins 0.45 and 0.35 in) / 3
    top = 0.45 * 96
    assert won and lost
    assert top <= min(won) and max(won) < top + row, "the winner in the first row"
    assert top + row <= min(lost) and max(lost) < top + 2 * row, "the loser in the second"
