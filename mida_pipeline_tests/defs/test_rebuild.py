"""The rule for rebuilding the models after raw runs, read from real runs' records in a Dagster instance."""

from __future__ import annotations

import dagster as dg
import pytest

from mida_pipeline.defs.metadata import fail_on_errors
from mida_pipeline.defs.rebuild import landed, rebuild_models
from mida_pipeline.extract.units import Outcome

pytestmark = pytest.mark.dagster


def raw_run(instance: dg.DagsterInstance, written: int, failed: int) -> str:
    """One run of a raw asset that wrote `written` partitions and failed for `failed` projects."""

    @dg.asset(name="mida_goals")
    def goals() -> dg.MaterializeResult:
        outcome = Outcome()
        for n in range(written):
            outcome.wrote("mida_goals", f"shop-{n}", 1)
        for n in range(failed):
            outcome.errors[f"broken-{n}"] = "MIDA GET /project/broken/goals failed: 500 - retry later"
        fail_on_errors("mida_goals", outcome)
        return dg.MaterializeResult(metadata={"partitions_written": outcome.partitions})

    return dg.materialize([goals], instance=instance, raise_on_error=False).run_id


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_runs_that_all_succeeded_rebuild(instance):
    runs = [raw_run(instance, written=2, failed=0), raw_run(instance, written=0, failed=0)]
    assert rebuild_models(instance, runs)


def test_a_run_that_failed_for_one_project_after_others_landed_rebuilds(instance):
    run = raw_run(instance, written=2, failed=1)
    assert instance.get_run_by_id(run).status == dg.DagsterRunStatus.FAILURE
    assert landed(instance, run) and rebuild_models(instance, [run])


def test_failed_runs_that_wrote_nothing_leave_the_models_alone(instance):
    runs = [raw_run(instance, written=0, failed=2), raw_run(instance, written=0, failed=1)]
    assert not any(landed(instance, run) for run in runs) and not rebuild_models(instance, runs)


def test_one_failed_run_beside_one_that_landed_rebuilds(instance):
    assert rebuild_models(instance, [raw_run(instance, written=0, failed=1), raw_run(instance, written=1, failed=0)])
