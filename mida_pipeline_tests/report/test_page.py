"""The page's pure pieces: exact data attributes and readable numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd

from mida_pipeline.report.page import attr, num


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
