"""The published warehouse is swapped in whole while a reader in another process holds it open, and the tables that
grow by the day are published as a Parquet file a day that later publishes link instead of copying."""

import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone

import duckdb

from mida_pipeline.lake import generations
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
    (wh.facts_dir / ".catalog.dead.tmp").mkdir()
    (wh.facts_dir / ".catalog.dead.tmp" / "warehouse.duckdb").write_bytes(b"half a catalog")
    (wh.build_dir / ".seed.dead.tmp").write_bytes(b"half a copy")
    wh.refresh_and_publish()
    assert not list(wh.facts_dir.glob(".catalog.*.tmp")) and not list(wh.build_dir.glob(".seed.*.tmp"))


GROWING = {("marts", "daily"): "day"}
DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(5)]


def _build_daily(wh: Warehouse, value: int, days=DAYS) -> None:
    """The build's growing table: two rows a day, for `days`, holding `value`."""
    with duckdb.connect(str(wh.build_path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE TABLE IF NOT EXISTS marts.daily (day DATE, n HUGEINT, label VARCHAR, x DECIMAL(18, 3))")
        for day in days:
            con.execute("DELETE FROM marts.daily WHERE day = ?", [day])
            con.execute("INSERT INTO marts.daily SELECT ?, range, 'v' || ?, ? FROM range(2)", [day, value, value])


def _published_daily(tmp_path) -> Warehouse:
    """A warehouse whose build holds the growing table over DAYS, published."""
    wh = Warehouse(published_path=tmp_path / "warehouse.duckdb", lake_dir=tmp_path / "lake")
    with wh.exclusive():
        wh.refresh_raw()
        _build_daily(wh, 1)
        wh.publish(GROWING)
    return wh


def _rows(path, relation="marts.daily"):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {relation} ORDER BY ALL").fetchall()


def _published(wh: Warehouse) -> dict[tuple[str, str], object]:
    with duckdb.connect(str(wh.published_path), read_only=True) as con:
        return generations.views_over(con, wh.published_path.stem, wh.facts_dir)


def test_a_growing_table_is_published_as_a_view_over_a_file_a_day_with_the_tables_columns(tmp_path):
    wh = _published_daily(tmp_path)
    (generation,) = set(_published(wh).values())
    assert sorted(f.name for f in (generation / "marts.daily").iterdir()) == [f"{d}.parquet" for d in DAYS]
    assert _rows(wh.published_path) == _rows(wh.build_path) != []
    with duckdb.connect(str(wh.published_path), read_only=True) as pub, duckdb.connect(str(wh.build_path)) as build:
        assert pub.execute("DESCRIBE marts.daily").fetchall() == build.execute("DESCRIBE marts.daily").fetchall()
        assert pub.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'daily'"
        ).fetchall() == [("VIEW",)]


def test_a_publish_links_the_days_before_the_change_and_writes_the_others(tmp_path):
    wh = _published_daily(tmp_path)
    (first,) = set(_published(wh).values())
    with wh.exclusive():
        _build_daily(wh, 2, days=DAYS[3:])  # the run replaced its last two days
        wh.publish(GROWING, changed_from={("marts", "daily"): DAYS[3]})
    (second,) = set(_published(wh).values())
    assert second != first
    for day in DAYS:
        old, new = (first / "marts.daily" / f"{day}.parquet").stat(), (second / "marts.daily" / f"{day}.parquet").stat()
        assert (old.st_ino == new.st_ino) == (day < DAYS[3]), day  # linked, not copied; the changed days new files
    assert _rows(wh.published_path) == _rows(wh.build_path)
    assert {label for _, _, label, _ in _rows(wh.published_path)} == {"v1", "v2"}


def test_a_reader_of_the_previous_catalog_keeps_reading_its_own_generation(tmp_path):
    wh = _published_daily(tmp_path)
    reader = duckdb.connect(str(wh.published_path), read_only=True)
    try:
        before = reader.execute("SELECT * FROM marts.daily ORDER BY ALL").fetchall()
        for value in (2, 3):
            with wh.exclusive():
                _build_daily(wh, value, days=DAYS[-1:])
                wh.publish(GROWING, changed_from={("marts", "daily"): DAYS[-1]})
        assert reader.execute("SELECT * FROM marts.daily ORDER BY ALL").fetchall() == before
    finally:
        reader.close()
    assert {label for _, _, label, _ in _rows(wh.published_path)} == {"v1", "v3"}


def test_a_failed_rebuild_restores_the_growing_tables_rows_from_the_published_files(tmp_path):
    wh = _published_daily(tmp_path)
    published = _rows(wh.published_path)
    try:
        with wh.exclusive(), wh.rebuilding():
            _build_daily(wh, 2, days=DAYS[:1])
            raise RuntimeError("dbt failed")
    except RuntimeError:
        pass
    assert _rows(wh.build_path) == published
    with duckdb.connect(str(wh.build_path), read_only=True) as con:
        assert con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'daily'"
        ).fetchall() == [("BASE TABLE",)]
    wh.refresh_and_publish()  # a raw run's publish keeps the table growing by the day
    assert set(_published(wh)) == set(GROWING) and _rows(wh.published_path) == published


def test_generations_no_catalog_needs_are_deleted(tmp_path):
    hour = 3600 * 10**9
    now = 100 * 24 * hour
    names = {
        t: tmp_path / f"g{t:020d}-{i:08x}"
        for i, t in enumerate([now - 50 * hour, now - 30 * hour, now - 2 * hour, now - hour, now - 10])
    }
    for folder in names.values():
        folder.mkdir()
    previous, current = names[now - 2 * hour], names[now - 10]
    deleted = generations.collect(tmp_path, current=current, previous=previous, now_ns=now)
    # superseded 30 h ago: gone; superseded 2 h ago: kept; never named by a catalog (between previous and current): gone
    assert sorted(deleted) == sorted([names[now - 50 * hour], names[now - hour]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (names[now - 30 * hour], previous, current)
    )


def test_a_tool_holding_the_published_file_for_writing_does_not_stop_a_publish(tmp_path):
    wh = _published_daily(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; con = duckdb.connect({str(wh.published_path)!r}); print('open', flush=True); "
            "sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with wh.exclusive():
            _build_daily(wh, 2, days=DAYS[-1:])
            wh.publish(GROWING, changed_from={("marts", "daily"): DAYS[-1]})  # every day written again instead
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert _rows(wh.published_path) == _rows(wh.build_path)
    assert {label for _, _, label, _ in _rows(wh.published_path)} == {"v1", "v2"}
