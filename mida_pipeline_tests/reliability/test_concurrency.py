"""Item 3, concurrency: two syncs of the same day at once, and a backfill that overlaps a sync, in separate
processes on one lake and warehouse. Both must succeed (no DuckDB lock error), and the lake must be what one
run makes: the same rows, no duplicates, one file per partition."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from mida_pipeline.lake.schemas import TABLES
from mida_pipeline_tests.reliability.helpers import (
    DAY,
    assert_lake_sound,
    assert_warehouse_opens,
    differences,
    finish,
    lake_rows,
    make_env,
    marts,
    start_cli,
)

pytestmark = pytest.mark.slow


def no_duplicate_keys(lake_dir) -> None:
    with duckdb.connect() as con:
        for table in (p for p in lake_dir.iterdir() if p.is_dir()):
            key = ", ".join(f'"{c}"' for c in TABLES[table.name].key)
            dupes = con.execute(
                f"SELECT {key}, count(*) FROM read_parquet('{table}/**/*.parquet', hive_partitioning = false, "
                f"union_by_name = true) GROUP BY ALL HAVING count(*) > 1"
            ).fetchall()
            assert dupes == [], table.name


def test_two_syncs_of_the_same_day_at_once_end_as_one(rel_sandbox, baseline, tmp_path):
    rel_sandbox.faults.clear()
    env = make_env(rel_sandbox, tmp_path)
    first, second = start_cli(env, "sync", "--date", DAY.isoformat()), start_cli(env, "sync", "--date", DAY.isoformat())
    outcomes = [finish(first), finish(second)]
    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr[-800:] for o in outcomes]
    assert_lake_sound(tmp_path / "lake")
    no_duplicate_keys(tmp_path / "lake")
    assert lake_rows(tmp_path / "lake") == baseline.lake
    assert differences(marts(tmp_path / "warehouse.duckdb"), baseline.marts) == []


def test_a_backfill_overlapping_a_sync_ends_as_the_two_run_one_after_the_other(rel_sandbox, baseline, tmp_path):
    rel_sandbox.faults.clear()
    env = make_env(rel_sandbox, tmp_path)
    start = DAY - timedelta(days=1)
    backfill = start_cli(env, "backfill", "--start", start.isoformat(), "--end", DAY.isoformat())
    scheduled = start_cli(env, "sync", "--date", DAY.isoformat())
    outcomes = [finish(backfill), finish(scheduled)]
    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr[-800:] for o in outcomes]
    lake = tmp_path / "lake"
    assert_lake_sound(lake)
    no_duplicate_keys(lake)
    assert_warehouse_opens(tmp_path / "warehouse.duckdb")
    # The overlapping day is exactly the fault-free sync's; the extra day is there whole.
    rows = lake_rows(lake)
    for table, expected in baseline.lake.items():
        if table == "bss_analytics_weekly":  # one week, keyed by its Monday, in both
            assert rows[table] == expected
            continue
        date_at = [c.name for c in TABLES[table].schema if c.name != "captured_at"].index("date")
        assert [r for r in rows[table] if r[date_at] == DAY] == expected, table
        assert any(r[date_at] == start for r in rows[table]), table
