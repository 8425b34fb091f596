"""Item 5, hostile and bad input: project keys that try to leave the lake or break a path, dates that are not
dates or not yet closed, metrics that are negative, endless listings. Each ends in a clear refusal or a failing
asset check, and nothing is written outside the lake (or anywhere, for a refusal).

Refusals happen before any run starts, so their processes run side by side.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from mida_pipeline import days as cal
from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline_tests.reliability.helpers import DAY, finish, make_env, start_cli, sync

pytestmark = pytest.mark.slow

HOSTILE_KEYS = {
    "parent folder": "../../etc",
    "slash": "shop/alpha",
    "space": "shop alpha",
    "single quote": "shop'alpha",
    "double quote": 'shop"alpha',
    "control character": "shop\x07alpha",
    "escape sequence": "shop\x1b[2Jalpha",
    "non-ASCII": "shöp-ålpha",
    "only dots": "..",
}


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_hostile_project_keys_are_refused_before_any_call(rel_sandbox, tmp_path):
    before = len(rel_sandbox.requests)
    procs = {}
    for name, key in HOSTILE_KEYS.items():
        root = tmp_path / name.replace(" ", "_")
        procs[name] = (
            root,
            start_cli(
                make_env(rel_sandbox, root, MIDA_PROJECT_KEYS=f"shop-alpha,{key}"), "sync", "--date", DAY.isoformat()
            ),
        )
    for name, (root, proc) in procs.items():
        done = finish(proc)
        assert done.returncode == 1, name
        lines = done.stderr.strip().splitlines()
        assert lines[-1].startswith("mida-pipeline: MIDA_PROJECT_KEYS holds "), (name, lines[-1])
        assert "\x07" not in done.stderr and "\x1b" not in done.stderr, "control characters reach the terminal"
        assert files_under(root) == set(), (name, files_under(root))
    assert not (tmp_path.parent / "etc").exists()
    assert rel_sandbox.requests[before:] == [], "a refused run called an API"


MALFORMED_DATES = [
    "2026-13-01",
    "2026-02-30",
    "22/11/2026",
    "yesterday",
    "2026-11-22T00:00:00",
    "",
    "-1",
    "2026-11-22'; DROP",
]


def test_malformed_dates_are_refused_by_the_command_line(rel_sandbox, tmp_path):
    env = make_env(rel_sandbox, tmp_path)
    procs = [(d, start_cli(env, "sync", "--date", d)) for d in MALFORMED_DATES]
    for day, proc in procs:
        done = finish(proc)
        assert done.returncode != 0, day
        assert "--date" in done.stderr and "YYYY-MM-DD" in done.stderr, (day, done.stderr)
    assert files_under(tmp_path) == set()


def test_dates_out_of_range_are_refused_in_one_line(rel_sandbox, tmp_path):
    env = make_env(rel_sandbox, tmp_path)
    latest = cal.latest_complete_day("UTC")
    cases = {
        (latest + timedelta(days=1)).isoformat(): "has not closed yet",
        "9999-12-31": "has not closed yet",
        "0001-01-01": "before MIDA_START_DATE",
        "2024-12-31": "before MIDA_START_DATE",
    }
    procs = [(d, want, start_cli(env, "sync", "--date", d)) for d, want in cases.items()]
    procs.append(
        (
            "backwards",
            "after --end",
            start_cli(env, "backfill", "--start", DAY.isoformat(), "--end", (DAY - timedelta(days=3)).isoformat()),
        )
    )
    for day, want, proc in procs:
        done = finish(proc)
        last = done.stderr.strip().splitlines()[-1]
        assert done.returncode == 1 and last.startswith("mida-pipeline: ") and want in last, (day, done.stderr[-500:])
    assert files_under(tmp_path) == set()


def check_verdicts(home: Path) -> dict[str, bool]:
    """Every asset check's latest verdict, from the runs' own storage."""
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            verdicts = {}
            for run in reversed(instance.get_runs()):
                for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                    data = entry.dagster_event.event_specific_data
                    verdicts[data.check_name] = data.passed
            return verdicts
    finally:
        del os.environ["DAGSTER_HOME"]


def test_negative_metrics_fail_checks_and_an_endless_listing_is_refused(rel_sandbox, tmp_path):
    sandbox = rel_sandbox
    sandbox.faults.clear()
    sandbox.faults.add("/v2/project/*/experiment/*/result", "mutate", set={"visitors": -5})
    sandbox.faults.add(SYNC_PATH, "mutate", set={"total_visitors": -3})
    sandbox.faults.add("/v2/project/*/events", "endless")
    done = sync(make_env(sandbox, tmp_path), check=False)
    sandbox.faults.clear()

    assert done.returncode != 0
    events = next(line for line in done.stderr.splitlines() if "mida_events" in line)
    assert "the same page came back twice; the listing never ends" in events
    assert not (tmp_path / "lake" / "mida_events").exists()
    # The raw tables' own tests run in the models' build, reported as checks of the raw assets; the staging checks
    # show the failure too.
    verdicts = check_verdicts(tmp_path / "dagster_home")
    assert verdicts.get("results_counts_non_negative") is False, verdicts
    assert verdicts.get("bss_analytics_daily_counts_non_negative") is False, verdicts
    assert any(
        name.startswith("non_negative_stg_mida_experiment_results") and passed is False
        for name, passed in verdicts.items()
    ), verdicts
    # Written: the lake, the warehouse, its published facts and its private build folder, Dagster's storage; nothing
    # else.
    tops = {Path(p).parts[0] for p in files_under(tmp_path)}
    assert tops <= {"lake", "warehouse.duckdb", ".warehouse.duckdb.facts", ".build", "dagster_home"}, tops
