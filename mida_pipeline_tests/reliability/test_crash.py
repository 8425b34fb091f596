"""Item 2, crash safety: the sync process is SIGKILLed at 22 points (four lanes), in the middle of Parquet writes, of the
warehouse copy and swap, and while dbt runs; the production code has no hook for it (see killer/sitecustomize.py).

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

from mida_pipeline_tests.reliability.conftest import (
    assert_lake_sound, assert_warehouse_opens, lake_rows, make_env, marts, sync,
)

pytestmark = pytest.mark.slow

KILLER = Path(__file__).with_name("killer")

# A sync of one Sunday, in the order its writes happen (read from a run under MIDA_TEST_COUNT_TO): 27 Parquet
# partitions, each written, fsynced and renamed into place (the day's store analytics 1, events 2-4, segments 5-7,
# results 8-10, experiments 11-13, their variants 14-16 and goals 17-19, goals 20-22, configuration 23-25, the
# company's projects 26, the week's store analytics 27); each partition's rename is followed by the fsync of its
# folder (fsyncs 1-54). Raw assets write the lake only: after them the build file is opened to refresh the raw
# views (connect 28), dbt builds the marts, and the one publish of the run copies the warehouse (copy 1, fsync 55)
# and swaps it in (rename 28); the report's pages are renames 29-32. Connections 1-9 read back what each raw asset
# wrote, 10-27 are the asset checks. A run copies the warehouse once, one more time when it first restores a
# build file a killed dbt left; points never count on that.
#
# Before raw assets stopped publishing, a run copied the warehouse 7 times. The points that named those copies
# now name their equivalents: the publish after dbt half copied (was copy-mid:7, now copy-mid:1), copied and not
# yet swapped (was replace-before:21, now fsync:55, the copy written whole and not yet on disk), the last swap
# (replace-before:24 -> replace-before:28), a swap done with nothing after it (replace-after:6 -> replace-after:28),
# the build file opened for the raw views (connect:7 -> connect:28), the last partition (parquet-mid:17 ->
# parquet-mid:27). The publishes after a raw asset (copy-mid:1 and copy-mid:4 as they were) no longer happen;
# their places go to the new tables: the company's projects, half written (parquet-mid:26), and the experiments'
# goals half renamed into place (replace-after:17).
LANES = [
    [
        "parquet-mid:1",      # the first partition, half written
        "replace-after:1",    # ... renamed into place, nothing else yet
        "parquet-mid:3",      # a later partition, half written
        "fsync:4",            # a partition renamed into place, its folder entry not yet on disk
        "parquet-mid:26",     # the company's projects (partitioned by date alone), half written
        "dbt-started:2",      # dbt building the marts; its parent gone
    ],
    [
        "replace-before:1",   # the first partition complete, not renamed
        "fsync:2",            # renamed, its folder entry not yet on disk
        "connect:1",          # the first connection of the run
        "replace-before:28",  # the one swap: marts built and copied, not yet renamed
        "replace-after:28",   # the warehouse swapped in, nothing after (the report not yet written)
    ],
    [
        "replace-before:8",   # a partition written, not yet renamed
        "replace-after:13",   # experiments renamed, their variants not yet (or the reverse: projects write side by side)
        "connect:28",         # opening the build file to refresh the raw views
        "parquet-mid:15",     # a partition in the middle of the run, half written
        "fsync:55",           # the publish: copied whole, not yet on disk nor swapped in
        "copy-mid:1",         # the publish after dbt (the one copy of a whole run), half copied
    ],
    [
        "replace-after:8",    # some of an asset's partitions in place, the others not
        "parquet-mid:10",     # a partition in the middle of the run, half written
        "replace-after:17",   # the experiments asset's tables half renamed (its goals among them)
        "parquet-mid:27",     # the last partition (the week's store analytics), half written
        "connect:20",         # the asset checks reading the lake
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


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("pair", [0, 1], ids=["lanes-1-2", "lanes-3-4"])
def test_a_sync_killed_anywhere_leaves_a_sound_lake_and_a_rerun_ends_identical(pair, rel_sandbox, baseline, tmp_path):
    rel_sandbox.faults.clear()
    lanes = LANES[2 * pair: 2 * pair + 2]
    roots = [tmp_path / f"lane{i}" for i in range(len(lanes))]
    # Lanes are independent lakes, so they run side by side.
    with ThreadPoolExecutor(len(lanes)) as pool:
        problems = [p for lane in pool.map(run_lane, [rel_sandbox] * len(lanes), roots, lanes) for p in lane]
    assert problems == []
    for root in roots:
        assert_lake_sound(root / "lake")
        assert lake_rows(root / "lake") == baseline.lake
        assert marts(root / "warehouse.duckdb") == baseline.marts


def test_the_kill_points_are_22_distinct_places():
    points = [p for lane in LANES for p in lane]
    assert len(set(points)) == len(points) >= 20
