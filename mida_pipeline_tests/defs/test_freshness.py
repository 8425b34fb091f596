"""The freshness _sources.yml declares is evaluated: a raw table whose data stopped arriving shows a failed check."""

from __future__ import annotations

import time
from datetime import timedelta

import dagster as dg
import pytest

from mida_pipeline.defs import freshness
from mida_pipeline.lake.schemas import TABLES

RAW = list(TABLES)


def test_every_raw_table_has_the_error_bound_dbt_declares():
    bounds = freshness.declared_freshness()
    assert set(bounds) == set(RAW)
    assert bounds["mida_goals"] == bounds["bss_analytics_daily"] == timedelta(hours=84)
    assert bounds["bss_analytics_weekly"] == timedelta(days=15)
    checked = {key.asset_key.to_user_string() for c in freshness.checks for key in c.check_keys}
    assert checked == set(RAW) and len(freshness.sensors) == 1


def evaluate(instance: dg.DagsterInstance) -> dict[str, dg.AssetCheckEvaluation]:
    """Run every freshness check against `instance`, as the sensor would, and return each table's verdict."""
    defs = dg.Definitions(
        assets=[dg.AssetSpec(name) for name in RAW],
        asset_checks=freshness.checks,
        jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.all_asset_checks())],
    )
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def landed(instance: dg.DagsterInstance, table: str, hours_ago: float) -> None:
    """A materialization of `table` whose data was captured `hours_ago`, as the raw assets report it."""
    captured = time.time() - hours_ago * 3600
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            table,
            metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(captured)},
        )
    )


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.mark.dagster
def test_a_source_that_stopped_delivering_fails_its_freshness_check(instance):
    for table in RAW:
        landed(instance, table, hours_ago=2)
    landed(instance, "mida_goals", hours_ago=5 * 24)  # the last goals arrived five days ago
    landed(instance, "bss_analytics_weekly", hours_ago=10 * 24)  # a week and a half: still within 15 days
    verdicts = evaluate(instance)
    assert not verdicts["mida_goals"].passed and verdicts["mida_goals"].severity == dg.AssetCheckSeverity.ERROR
    assert {t for t, e in verdicts.items() if not e.passed} == {"mida_goals"}


@pytest.mark.dagster
def test_a_table_that_never_landed_is_not_fresh(instance):
    verdicts = evaluate(instance)
    assert set(verdicts) == set(RAW) and not any(e.passed for e in verdicts.values())
