"""Charts: drawn from the marts' rows, readable for one day as for a year."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest

from mida_pipeline.report import charts


def one_day(day=date(2026, 11, 29)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant_id": ["0", "1"],
            "result_date": [day, day],
            "visitors": [1000, 1000],
            "conversions": [100, 120],
            "chance_to_beat_control": [None, 0.91],
            "sequential_p_value": [None, 0.2],
        }
    )


@pytest.mark.parametrize(
    "draw",
    [
        lambda s: charts.cumulative_rate(s, {"0": "Control", "1": "B"}),
        lambda s: charts.decision_history(s, {"0": "Control", "1": "B"}, 95.0),
    ],
    ids=["cumulative_rate", "decision_history"],
)
def test_a_single_day_gets_a_days_axis_not_four_years_of_ticks(draw, caplog):
    # matplotlib widens a one-date axis to four years; a tick a day there is 1,600 ticks, seconds a chart.
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        png = draw(one_day())
    assert png.startswith(b"\x89PNG")
    assert not [r for r in caplog.records if "MAXTICKS" in r.getMessage()]
