"""BSS extraction records what the API or the lake refused per partition, and lets a bug fail the run as a bug."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from mida_pipeline import days as cal
from mida_pipeline.extract import bss as extract
from mida_pipeline.sources import BssClient

YESTERDAY = cal.latest_complete_day("UTC")


@pytest.fixture
def env(sandbox, monkeypatch, tmp_path):
    sandbox.faults.clear()
    for name, value in {
        "MIDA_BSS_SECRET_KEY": sandbox.bss_secret,
        "MIDA_BSS_SYNC_URL": sandbox.bss_sync_url,
        "MIDA_LAKE_DIR": str(tmp_path / "lake"),
        "MIDA_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "MIDA_TIMEZONE": "UTC",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def extract_days(sandbox, lake, days):
    client = BssClient(sandbox.bss_secret, sync_url=sandbox.bss_sync_url)
    return extract.extract_bss(client, lake, "daily", days, "UTC", datetime.now(timezone.utc), accept_unstated=False)


def test_an_api_refusal_is_recorded_for_its_partition_and_the_others_land(env, sandbox):
    sandbox.faults.add("/apiv1/*", "status", times=1, status=401, message="Invalid API key")
    outcome = extract_days(sandbox, env / "lake", [YESTERDAY - timedelta(days=1), YESTERDAY])
    assert list(outcome.errors) == [(YESTERDAY - timedelta(days=1)).isoformat()]
    assert "401" in outcome.errors[(YESTERDAY - timedelta(days=1)).isoformat()] and outcome.partitions == 1


def test_a_programming_error_is_raised_not_recorded(env, sandbox, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("make_row() got an unexpected keyword argument")

    monkeypatch.setattr(extract.rows, "make_row", broken)
    with pytest.raises(TypeError, match="unexpected keyword"):
        extract_days(sandbox, env / "lake", [YESTERDAY])


@pytest.mark.dagster
def test_a_programming_error_fails_the_run_with_its_traceback(env, monkeypatch):
    from mida_pipeline.defs.bss_assets import bss_analytics_daily
    from mida_pipeline.defs.resources import resources

    def broken(*args, **kwargs):
        raise TypeError("make_row() got an unexpected keyword argument")

    monkeypatch.setattr(extract.rows, "make_row", broken)
    result = dg.materialize(
        [bss_analytics_daily], resources=resources(), partition_key=YESTERDAY.isoformat(), raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    error = failure.step_failure_data.error
    while error.cause is not None:  # past Dagster's wrapper, to the error the code raised
        error = error.cause
    assert error.cls_name == "TypeError" and "unexpected keyword" in error.message
    assert any("extract/bss.py" in frame for frame in error.stack)  # the traceback reaches the code that failed
    assert failure.step_failure_data.user_failure_data is None  # not a "failed for 1 of its units" summary
