"""The raw checks dbt cannot state: a failure counts the offending rows and shows a sample as a table."""

from __future__ import annotations

import dagster as dg
import pytest

from mida_pipeline.defs.checks import _check
from mida_pipeline.defs.resources import Lake


@pytest.mark.dagster
def test_a_failed_check_shows_its_offending_rows_as_a_table(tmp_path):
    offending = _check("two_rows", "mida_goals", "Never any row.", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(n, s)")
    defs = dg.Definitions(
        assets=[dg.AssetSpec("mida_goals")],
        asset_checks=[offending],
        resources={"lake": Lake(location=str(tmp_path / "lake"))},
        jobs=[dg.define_asset_job("check", selection=dg.AssetSelection.all_asset_checks())],
    )
    result = defs.resolve_job_def("check").execute_in_process()
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["offending_rows"].value == 2
    sample = evaluation.metadata["sample"]
    assert [c.name for c in sample.schema.columns] == ["n", "s"] and [r.data for r in sample.records] == [
        {"n": 1, "s": "a"},
        {"n": 2, "s": "b"},
    ]
