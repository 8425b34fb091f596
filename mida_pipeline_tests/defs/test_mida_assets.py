"""The Mida raw assets, materialized in process against the sandbox over a socket: what the UI shows, and refusals."""

from collections import Counter
from datetime import timedelta

import dagster as dg
import pytest

from mida_pipeline import days as cal
from mida_pipeline.defs.mida_assets import (
    mida_experiment_result_segments,
    mida_experiment_results,
    mida_experiment_timeseries,
    mida_experiments,
    mida_goals,
)
from mida_pipeline.defs.resources import resources

pytestmark = pytest.mark.dagster


def yesterday():
    """Asked when a test runs, not when the module is collected: a run that crosses midnight asks the new day."""
    return cal.latest_complete_day("UTC")


@pytest.fixture
def env(sandbox, monkeypatch, tmp_path):
    sandbox.faults.clear()
    for name, value in {
        "MIDA_API_KEY": sandbox.api_key,
        "MIDA_PROJECT_KEYS": ",".join(sandbox.data.project_keys),
        "MIDA_API_BASE_URL": sandbox.mida_base_url,
        "MIDA_LAKE_DIR": str(tmp_path / "lake"),
        "MIDA_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "MIDA_TIMEZONE": "UTC",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MIDA_REFUSE_LATE_CAPTURE", raising=False)
    return tmp_path


def materialize(assets, start, end=None, **kwargs):
    tags = {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": (end or start).isoformat(),
    }
    return dg.materialize(assets, resources=resources(), tags=tags, **kwargs)


def metadata(result, name: str) -> dict:
    # One materialization per partition of the range, each with the run's metadata.
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(name)]
    assert len({e.partition for e in events}) == len(events) > 0
    return events[0].materialization.metadata


def per_project(md: dict) -> dict[str, int]:
    return {r.data["project"]: r.data["rows"] for r in md["rows_per_project"].records}


def test_each_table_shows_its_own_rows_per_project_the_window_a_preview_and_the_capture_time(env, sandbox):
    start = yesterday() - timedelta(days=1)
    result = materialize([mida_experiments], start, yesterday())
    data = sandbox.data
    experiments = {pk: 2 * len(data.experiments(pk)) for pk in data.project_keys}  # two days
    variants = {
        pk: 2 * sum(len(data.variant_ids(pk, e["test_id"])) for e in data.experiments(pk)) for pk in data.project_keys
    }
    assert per_project(metadata(result, "mida_experiments")) == experiments
    assert per_project(metadata(result, "mida_experiment_variants")) == variants
    md = metadata(result, "mida_experiment_variants")
    assert md["dagster/row_count"].value == sum(variants.values())
    assert md["window"].value == f"{start} .. {yesterday()}"
    assert "variant_id" in {c.name for c in md["preview"].schema.columns} and md["preview"].records
    assert md["captured_at"].value > 0


def test_refused_late_snapshots_write_nothing_but_results_still_backfill(env, monkeypatch):
    monkeypatch.setenv("MIDA_REFUSE_LATE_CAPTURE", "true")
    old = yesterday() - timedelta(days=10)
    result = materialize([mida_goals], old, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "MIDA_REFUSE_LATE_CAPTURE" in str(failure.step_failure_data.error.to_string())
    assert not list((env / "lake").rglob("mida_goals/**/*.parquet"))
    # Results are reproducible for any past day, so the setting does not hold them back.
    assert materialize([mida_experiment_results], old).success
    assert len(list((env / "lake").glob(f"mida_experiment_results/*/date={old}/part.parquet"))) == 2
    # Yesterday, synced this morning, is on time and lands.
    assert materialize([mida_goals], yesterday()).success


def test_a_run_asks_each_listing_and_each_experiments_goals_once_whichever_assets_need_them(env, sandbox):
    """The experiments listing serves four assets, `/metrics` three, the goals two: one run, one call each."""
    before = len(sandbox.requests)
    start = yesterday() - timedelta(days=2)
    assets = [mida_experiments, mida_experiment_results, mida_experiment_timeseries, mida_experiment_result_segments]
    assert materialize([*assets, mida_goals], start, yesterday()).success
    asked = Counter(path for _, path in sandbox.requests[before:])
    for pk in sandbox.data.project_keys:
        base = f"/v2/project/{pk}"
        assert asked[f"{base}/experiments"] == 1 and asked[f"{base}/goals"] == 1
        for e in sandbox.data.experiments(pk):
            assert asked[f"{base}/experiment/{e['test_id']}/metrics"] == 1
    # Each asset still asked its own measurements, three days of results.
    assert sum(n for path, n in asked.items() if path.endswith("/result")) > 0
    assert sum(n for path, n in asked.items() if path.endswith("/timeseries")) > 0
    # A second run asks again: the answers are the run's, not the process's.
    again = len(sandbox.requests)
    assert materialize([mida_experiments], yesterday()).success
    assert Counter(path for _, path in sandbox.requests[again:])[f"/v2/project/{pk}/experiments"] == 1
