"""Item 2, crash safety: the sync process is SIGKILLed at 22 points (four lanes), in the middle of Parquet writes, of the
warehouse's publish, and while dbt runs; the production code has no hook for it (see killer/sitecustomize.py).

After every kill: every lake file reads whole, each partition is one file (never torn, doubled or a leftover
temporary a reader's glob would pick up), and the published warehouse opens. The next run of the lane is the
re-run after that crash (it must get past the point where the last one died, to be killed further on), and each
lane ends with a run left alone, whose lake and marts must equal the fault-free run's.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mida_pipeline.lake.schemas import TABLES
from mida_pipeline_tests.reliability.helpers import (
    SANDBOX,
    assert_lake_sound,
    assert_warehouse_opens,
    differences,
    lake_rows,
    make_env,
    marts,
    sync,
)

KILLER = Path(__file__).with_name("killer")

# A sync of one Sunday, in the order its writes happen (read from runs under MIDA_TEST_COUNT_TO, on an empty lake and
# on a lake that has the day): 30 Parquet partitions, each written, fsynced and renamed into place (the day's store
# analytics 1, events 2-4, segments 5-7, results 8-10, timeseries 11-13, the experiments with their variants and goals
# 14-22, goals 23-25, configuration 26-28, the company's projects 29, the week's store analytics 30; within a table the
# projects in any order), each rename followed by the
# fsync of its folder; the raw asset checks read the lake through connections to no file; the build file is opened
# (for the raw views, or by the models step), dbt builds the marts, and the one publish after them writes the day's
# facts (a generation of Parquet files beside the warehouse, each fsynced) and a catalog, and swaps the catalog in;
# the report's pages follow. A raw step that gives a table its first partition publishes too, so how many publishes
# a run makes depends on what the lake already held, which a killed run leaves half done. Points
# are therefore counted where they act (`@lake`, `@warehouse`, ...), in the lake by table where a point is about one
# (`@mida_projects`), and, after `dbt build` started, in the models phase (`models:`): each names the same step in
# every run of a lane, and a new table or a reordered asset moves none of the named ones (see killer/sitecustomize.py).
LANES = [
    [
        "parquet-mid:1",  # the first partition, half written
        "replace-after@lake:1",  # ... renamed into place, nothing else yet
        "parquet-mid:3",  # a later partition, half written
        "fsync@lake:4",  # a partition renamed into place, its folder entry not yet on disk
        "parquet-mid@mida_projects:1",  # the company's projects (partitioned by date alone), half written
        "dbt-started:1",  # dbt building the marts (the sync's one dbt process); its parent gone
    ],
    [
        "replace-before@lake:1",  # the first partition complete, not renamed
        "fsync@lake:2",  # renamed, its folder entry not yet on disk
        "connect:1",  # the first connection of the run
        "models:replace-before@warehouse:1",  # the publish: generation and catalog written, not yet swapped in
        "models:replace-after@warehouse:1",  # the warehouse swapped in, nothing after (the report not yet written)
    ],
    [
        "replace-before@lake:8",  # a partition written, not yet renamed
        "replace-after@mida_experiments:1",  # a project's experiments renamed, their variants not yet
        "connect@build:1",  # the build file opened (the raw views, or the models step)
        "parquet-mid@mida_experiment_timeseries:2",  # a timeseries partition, half written
        "models:fsync@warehouse:1",  # the publish: the generation's first file written, not yet on disk
        "models:fsync@warehouse:5",  # the publish after dbt, its generation half written
    ],
    [
        "replace-after@mida_experiment_results:1",  # some of an asset's partitions in place, the others not
        "parquet-mid:10",  # a partition in the middle of the run, half written
        "replace-after@mida_experiment_goals:2",  # the experiments asset's tables half renamed (its goals among them)
        "parquet-mid@bss_analytics_weekly:1",  # the last partition (the week's store analytics), half written
        "connect@memory:8",  # the raw asset checks reading the lake
    ],
]


def kill_env(env: dict[str, str], point: str) -> dict[str, str]:
    return env | {"PYTHONPATH": f"{KILLER}:{env.get('PYTHONPATH', '')}".rstrip(":"), "MIDA_TEST_KILL_AT": point}


def run_lane(sandbox, root: Path, points: list[str]) -> list[str]:
    """Each point in turn on one lake; returns a line per problem found (none expected)."""
    env = make_env(sandbox, root)
    problems = []
    for point in points:
        done = sync(kill_env(env, point), check=False)
        if done.returncode != -signal.SIGKILL:
            problems.append(f"{point}: the run was not killed there (exit {done.returncode}): {done.stderr[-400:]}")
            continue
        print(f"killed at {point}")
        try:
            assert_lake_sound(root / "lake")
            if (root / "warehouse.duckdb").exists():
                assert_warehouse_opens(root / "warehouse.duckdb")
        except Exception as exc:  # noqa: BLE001 - collected and reported with the point
            problems.append(f"{point}: {type(exc).__name__}: {exc}")
    final = sync(env, check=False)
    if final.returncode != 0:
        problems.append(f"re-run after {points[-1]} failed: {final.stderr[-600:]}")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("pair", [0, 1], ids=["lanes-1-2", "lanes-3-4"])
def test_a_sync_killed_anywhere_leaves_a_sound_lake_and_a_rerun_ends_identical(pair, rel_sandbox, baseline, tmp_path):
    rel_sandbox.faults.clear()
    lanes = LANES[2 * pair : 2 * pair + 2]
    roots = [tmp_path / f"lane{i}" for i in range(len(lanes))]
    # Lanes are independent lakes, so they run side by side.
    with ThreadPoolExecutor(len(lanes)) as pool:
        problems = [p for lane in pool.map(run_lane, [rel_sandbox] * len(lanes), roots, lanes) for p in lane]
    assert problems == []
    for root in roots:
        assert_lake_sound(root / "lake")
        assert lake_rows(root / "lake") == baseline.lake
        assert differences(marts(root / "warehouse.duckdb"), baseline.marts) == []


def test_the_kill_points_are_22_distinct_places():
    points = [p for lane in LANES for p in lane]
    assert len(set(points)) == len(points) >= 20


PLACES = {"lake", "build", "warehouse", "report", "memory", "other"}


def test_a_kill_point_named_by_table_names_a_lake_table_and_a_partition_a_sync_writes():
    """Checked without a run: a renamed table, or an ordinal past the partitions a sync writes into it, fails here."""
    partitions = {t: SANDBOX.projects if TABLES[t].has_project else 1 for t in TABLES}
    named = [p for lane in LANES for p in lane if p.split(":")[-2].split("@")[-1] not in PLACES and "@" in p]
    assert named
    for point in named:
        where, nth = point.rsplit(":", 1)
        table = where.split("@", 1)[1]
        assert table in TABLES and 1 <= int(nth) <= partitions[table], point
