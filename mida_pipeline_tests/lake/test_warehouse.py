"""The published warehouse is swapped in whole while a reader in another process holds it open."""

import subprocess
import sys
import textwrap
from datetime import date, datetime, timezone

import duckdb

from mida_pipeline.lake.warehouse import Warehouse
from mida_pipeline.lake.writer import write_partition

NOW = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)


def test_publish_while_a_reader_holds_the_file_open(tmp_path):
    wh = Warehouse(published_path=tmp_path / "warehouse.duckdb", lake_dir=tmp_path / "lake")
    write_partition(
        wh.lake_dir,
        "bss_analytics_daily",
        [{"date": date(2026, 3, 1), "total_visitors": 1, "captured_at": NOW, "raw": "{}"}],
        day=date(2026, 3, 1),
    )
    wh.refresh_and_publish()

    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(wh.published_path)!r}, read_only=True)
            print(con.execute("SELECT count(*) FROM raw.bss_analytics_daily").fetchone()[0], flush=True)
            sys.stdin.readline()
            print(con.execute("SELECT count(*) FROM raw.bss_analytics_daily").fetchone()[0], flush=True)
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        write_partition(
            wh.lake_dir,
            "bss_analytics_daily",
            [{"date": date(2026, 3, 2), "total_visitors": 1, "captured_at": NOW, "raw": "{}"}],
            day=date(2026, 3, 2),
        )
        with wh.exclusive():
            wh.refresh_raw()
            with duckdb.connect(str(wh.build_path)) as con:
                con.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE OR REPLACE TABLE marts.t AS SELECT 42 AS x")
            wh.publish()
        reader.stdin.write("\n")
        reader.stdin.flush()
        # The reader keeps a consistent view of the file it opened and does not break.
        assert reader.stdout.readline().strip() in {"1", "2"}
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=30) == 0
    with duckdb.connect(str(wh.published_path), read_only=True) as con:
        assert con.execute("SELECT x FROM marts.t").fetchone() == (42,)
        assert con.execute("SELECT count(*) FROM raw.bss_analytics_daily").fetchone() == (2,)
    assert not list(tmp_path.glob(".warehouse.duckdb.*.tmp"))


def _publish_marts(wh: Warehouse, value: int) -> None:
    with wh.exclusive():
        wh.refresh_raw()
        with duckdb.connect(str(wh.build_path)) as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS marts; CREATE OR REPLACE TABLE marts.t AS SELECT {value} AS x")
        wh.publish()


def test_a_failed_rebuild_puts_the_published_warehouse_back_as_the_build_file(tmp_path):
    wh = Warehouse(published_path=tmp_path / "warehouse.duckdb", lake_dir=tmp_path / "lake")
    _publish_marts(wh, 1)
    try:
        with wh.exclusive(), wh.rebuilding():
            with duckdb.connect(str(wh.build_path)) as con:
                con.execute(
                    "CREATE OR REPLACE TABLE marts.t AS SELECT 2 AS x; CREATE TABLE marts.half AS SELECT 1 AS y"
                )
            raise RuntimeError("dbt failed")
    except RuntimeError:
        pass
    assert not wh.unfinished_marker.exists()
    wh.refresh_and_publish()  # a raw run after the failure publishes the last good marts, nothing half-built
    with duckdb.connect(str(wh.published_path), read_only=True) as con:
        assert con.execute("SELECT x FROM marts.t").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'").fetchone() == (
            0,
        )


def test_a_rebuild_killed_midway_is_never_published_by_the_next_raw_run(tmp_path):
    wh = Warehouse(published_path=tmp_path / "warehouse.duckdb", lake_dir=tmp_path / "lake")
    _publish_marts(wh, 1)
    # As a sync killed during `dbt build` leaves it: the marker, and a build file with half-rebuilt marts.
    wh.unfinished_marker.touch()
    with duckdb.connect(str(wh.build_path)) as con:
        con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT 2 AS x")
    wh.refresh_and_publish()
    with duckdb.connect(str(wh.published_path), read_only=True) as con:
        assert con.execute("SELECT x FROM marts.t").fetchone() == (1,)
    assert not wh.unfinished_marker.exists()


def test_copies_left_by_a_killed_publish_are_removed_by_the_next_holder_of_the_lock(tmp_path):
    wh = Warehouse(published_path=tmp_path / "warehouse.duckdb", lake_dir=tmp_path / "lake")
    _publish_marts(wh, 1)
    (tmp_path / ".warehouse.duckdb.dead.tmp").write_bytes(b"half a copy")
    (wh.build_dir / ".seed.dead.tmp").write_bytes(b"half a copy")
    wh.refresh_and_publish()
    assert not list(tmp_path.glob(".warehouse.duckdb.*.tmp")) and not list(wh.build_dir.glob(".seed.*.tmp"))
