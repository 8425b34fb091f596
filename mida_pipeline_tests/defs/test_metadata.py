"""A failed asset's one line: which units failed, whether the others were written, and the first reason."""

import dagster as dg
import pytest

from mida_pipeline.defs.metadata import fail_on_errors
from mida_pipeline.extract.units import Outcome


def test_a_partial_failure_names_the_failed_units_and_says_the_others_landed():
    outcome = Outcome()
    outcome.wrote("mida_goals", "shop-a", 3)
    outcome.errors["shop-b"] = "MIDA GET /v2/project/shop-b/goals failed: 403 - check MIDA_API_KEY"
    with pytest.raises(dg.Failure) as failure:
        fail_on_errors("mida_goals", outcome)
    line = failure.value.description
    assert line.startswith("mida_goals failed for 1 of its units (shop-b); the others were written.")
    assert "403" in line and "MIDA_API_KEY" in line


def test_a_total_failure_says_nothing_was_written():
    outcome = Outcome()
    outcome.errors["shop-a"] = "MIDA GET /v2/project/shop-a/goals failed: 500"
    outcome.errors["shop-b"] = "MIDA GET /v2/project/shop-b/goals failed: 500"
    with pytest.raises(dg.Failure) as failure:
        fail_on_errors("mida_goals", outcome)
    assert "failed for 2 of its units (shop-a, shop-b); nothing was written." in failure.value.description


def test_no_error_is_no_failure():
    fail_on_errors("mida_goals", Outcome())
