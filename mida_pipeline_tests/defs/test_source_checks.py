"""The raw tables' dbt tests are checks of the raw assets: run by the models' build after a raw run, by the raw_audit
job over every day, and on a run's own days when a raw asset is materialized with its checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml

from mida_pipeline.defs import bss_assets, checks, mida_assets, schedules, source_checks
from mida_pipeline.defs.dbt_assets import dbt_resource
from mida_pipeline.defs.resources import BssApi, Lake, MidaApi
from mida_pipeline.lake.writer import write_partition

SOURCES = Path(__file__).resolve().parents[2] / "dbt" / "models" / "staging" / "_sources.yml"
GOOD, BAD = date(2026, 11, 2), date(2026, 11, 3)


def declared_tests() -> set[tuple[str, str]]:
    """(table, test name) of every test on a raw table or one of its columns in dbt's YAML (each is named)."""
    tables = yaml.safe_load(SOURCES.read_text())["sources"][0]["tables"]
    out = set()
    for table in tables:
        for test in [
            *table.get("data_tests", []),
            *(t for c in table.get("columns", []) for t in c.get("data_tests", [])),
        ]:
            (spec,) = test.values()
            out.add((table["name"], spec["name"]))
    return out


def test_each_test_of_a_raw_table_is_a_check_of_its_raw_asset():
    declared = declared_tests()
    assert declared, "no named test on the raw tables"
    assert {(k.asset_key.to_user_string(), k.name) for k in source_checks.CHECK_KEYS} == declared


def test_raw_runs_leave_the_tests_to_the_models_build_and_the_audit_runs_them_all():
    from mida_pipeline.definitions import defs

    tests = set(source_checks.CHECK_KEYS)
    for job in ("daily_raw", "weekly_raw"):
        in_job = defs.resolve_job_def(job).asset_layer.asset_graph.asset_check_keys
        assert not in_job & tests, job
        assert in_job, f"{job} keeps its other checks"
    audit = defs.resolve_job_def("raw_audit").asset_layer.asset_graph.asset_check_keys
    assert (
        tests <= audit
        and dg.AssetCheckKey(dg.AssetKey("mida_experiment_results"), "live_experiments_have_results") in audit
    )


@pytest.fixture
def lake_with_a_bad_day(tmp_path) -> Path:
    lake = tmp_path / "lake"
    for day, visitors in ((GOOD, 100), (BAD, -5)):
        rows = [
            {
                "project_key": "shop-a",
                "date": day,
                "test_id": 1,
                "variant_id": v,
                "window": "cumulative",
                "visitors": visitors,
                "conversions": 1,
                "is_primary_goal": True,
                "goal_key": "g",
            }
            for v in ("0", "1")
        ]
        write_partition(lake, "mida_experiment_results", rows, day=day, project_key="shop-a")
    return lake


def audit(lake: Path, tmp_path: Path, tags: dict[str, str] | None = None) -> dict[str, dg.AssetCheckEvaluation]:
    defs = dg.Definitions(
        assets=[*mida_assets.assets, *bss_assets.assets],
        asset_checks=[*source_checks.checks, *checks.checks],
        jobs=[schedules.raw_audit_job],
        resources={
            "lake": Lake(location=str(lake), duckdb_path=str(tmp_path / "warehouse.duckdb")),
            "dbt": dbt_resource(),
            "mida": MidaApi(api_key="unused", project_keys="shop-a"),
            "bss": BssApi(secret_key="unused"),
        },
    )
    result = defs.resolve_job_def("raw_audit").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=tags or {}, raise_on_error=False
    )
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.asset_key == dg.AssetKey("mida_experiment_results")
    }


@pytest.mark.slow
def test_the_audit_reads_every_day_and_a_run_its_own(lake_with_a_bad_day, tmp_path):
    every_day = audit(lake_with_a_bad_day, tmp_path)
    negative = every_day["results_counts_non_negative"]
    assert negative.passed is False and negative.severity == dg.AssetCheckSeverity.WARN
    assert negative.metadata["offending rows"].value == 2
    assert every_day["mida_experiment_results_key_unique"].passed is True

    good_day = audit(lake_with_a_bad_day, tmp_path, {"dagster/partition": GOOD.isoformat()})
    assert good_day["results_counts_non_negative"].passed is True
    bad_day = audit(
        lake_with_a_bad_day,
        tmp_path,
        {"dagster/asset_partition_range_start": BAD.isoformat(), "dagster/asset_partition_range_end": BAD.isoformat()},
    )
    assert bad_day["results_counts_non_negative"].passed is False
