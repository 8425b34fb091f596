"""The page's pure pieces: the experiment badge, exact data attributes, readable numbers, escaping."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from mida_pipeline.report.page import attr, experiment_section, experiment_verdict, num


def card(*verdicts: str) -> pd.DataFrame:
    rows = [{"variant_id": "0", "is_control": True, "verdict": "control"}]
    rows += [{"variant_id": str(i + 1), "is_control": False, "verdict": v} for i, v in enumerate(verdicts)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "verdicts, badge",
    [
        (("winner", "srm_warning"), "srm_warning"),  # an off split voids every other reading
        (("loser", "winner"), "winner"),
        (("inconclusive", "loser"), "loser"),
        (("inconclusive",), "inconclusive"),
        ((), "no_data"),
    ],
)
def test_the_experiment_badge(verdicts, badge):
    assert experiment_verdict(card(*verdicts)) == badge


def test_attributes_round_trip_exactly_and_null_is_empty():
    x = 0.1 + 0.2
    assert float(attr(x)) == x and attr(float("nan")) == "" and attr(None) == "" and attr(pd.NA) == ""
    assert (
        attr(True) == "true"
        and attr(pd.Timestamp("2026-11-02")) == "2026-11-02"
        and attr(date(2026, 1, 4)) == "2026-01-04"
    )
    assert attr(pd.Series([7], dtype="int64")[0]) == "7"


def test_numbers_read_as_a_person_expects():
    assert num(12345, "int") == "12,345"
    assert num(0.10234, "pct") == "10.23 %"
    assert num(-0.0084, "pp") == "-0.84 pp"
    assert num(0.0004, "p") == "< 0.001" and num(0.0871, "p") == "0.087"
    assert num(None, "pct") == "–"


def test_names_from_the_api_are_escaped():
    hostile = '<img src=x onerror="alert(1)">'
    scorecard = pd.DataFrame(
        [
            {
                "project_key": "p",
                "test_id": 1,
                "variant_id": vid,
                "as_of_date": pd.Timestamp("2026-11-01"),
                "test_name": hostile,
                "variant_name": hostile,
                "is_control": vid == "0",
                "visitors": 100,
                "conversions": 10,
                "conversion_rate": 0.1,
                "abs_lift": None,
                "rel_lift": None,
                "p_value": None,
                "ci_low": None,
                "ci_high": None,
                "chance_to_beat_control": None,
                "confidence_threshold_percent": 95.0,
                "srm_p_value": 0.5,
                "srm_flag": False,
                "revenue": 0.0,
                "revenue_per_visitor": 0.0,
                "rpv_lift": None,
                "verdict": "control" if vid == "0" else "inconclusive",
            }
            for vid in ("0", "1")
        ]
    )
    html = experiment_section(None, scorecard, {})
    assert hostile not in html and html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 3  # heading, 2 rows
