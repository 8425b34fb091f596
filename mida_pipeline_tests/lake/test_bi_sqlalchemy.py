"""The BI path the README gives Superset users: duckdb-engine under SQLAlchemy, the published warehouse opened
read-only by its absolute path from another working directory.

A BI tool's schema browser lists every schema, its tables and views, and each one's columns before it reads a row.
duckdb-engine 0.17 cannot list a table's columns under SQLAlchemy 2.1 (it asks DuckDB for
`pg_catalog.pg_collation`), so the test extra pins SQLAlchemy 2.0 and this module proves the path on a real
backfill: every mart the warehouse holds (named by the warehouse, so a mart added later is covered), the raw
views over the lake, and fresh connections while a sync publishes.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from mida_pipeline import days as cal
from mida_pipeline_tests.helpers import CLI, REPO, run_cli, sandbox_env

pytestmark = pytest.mark.slow

LAST = cal.latest_complete_day("UTC")  # the sync's day; the backfill ends the day before
FIRST = LAST - timedelta(days=7)  # seven days always hold one whole week, so the weekly mart has a row
# What the loop reads while a sync publishes: a mart published as a table, and two published as views over the
# daily Parquet files (the sync adds its day to these).
WATCHED = ("fct_experiment_scorecard", "fct_experiment_scorecard_daily", "fct_store_traffic_daily")


@pytest.fixture(scope="module")
def synced(sandbox, tmp_path_factory) -> dict[str, str]:
    """The environment of a pipeline that backfilled the seven days before LAST."""
    env = sandbox_env(sandbox, tmp_path_factory.mktemp("bi"))
    sandbox.faults.clear()
    run_cli(env, "backfill", "--start", FIRST.isoformat(), "--end", (LAST - timedelta(days=1)).isoformat())
    return env


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch) -> None:
    """A BI tool runs in a working directory of its own, far from the pipeline's."""
    monkeypatch.chdir(tmp_path)


def url(env: dict[str, str]) -> str:
    path = Path(env["MIDA_DUCKDB_PATH"])
    assert path.is_absolute()
    return f"duckdb:///{path}"


@contextlib.contextmanager
def engine(env: dict[str, str]) -> Iterator[sa.Engine]:
    """An engine as Superset makes it from the README's URI and engine parameters; disposed on leaving, so no
    connection (nor DuckDB's cached database in this process) outlives it."""
    eng = sa.create_engine(url(env), connect_args={"read_only": True})
    try:
        yield eng
    finally:
        eng.dispose()


def duckdb_columns(env: dict[str, str], schema: str) -> dict[str, list[str]]:
    """DuckDB's own answer, without SQLAlchemy: each relation of `schema` and its columns in order."""
    with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def listed(eng: sa.Engine) -> dict[str, dict[str, list[str]]]:
    """What a BI tool's schema browser shows: every schema of the warehouse's database, each table and view in it,
    and each one's columns. duckdb-engine names schemas `<database>.<schema>`."""
    inspector = sa.inspect(eng)
    with eng.connect() as con:
        database = con.execute(sa.text("SELECT current_database()")).scalar_one()
    shown = {}
    for schema in inspector.get_schema_names():
        db, _, name = schema.partition(".")
        if db != database:
            continue  # DuckDB's `system` and `temp` catalogs
        relations = inspector.get_table_names(schema=schema) + inspector.get_view_names(schema=schema)
        shown[name] = {r: [c["name"] for c in inspector.get_columns(r, schema=schema)] for r in relations}
    return shown


def read(eng: sa.Engine, schema: str, relation: str) -> tuple[list[str], list[tuple]]:
    """A relation's first rows as a BI tool's preview reads them, with the column names the result gives."""
    with eng.connect() as con:
        result = con.execute(sa.text(f'SELECT * FROM "{schema}"."{relation}" LIMIT 5'))
        return list(result.keys()), [tuple(row) for row in result]


def test_every_mart_lists_its_columns_as_duckdb_has_them(synced):
    marts = duckdb_columns(synced, "marts")
    models = {p.stem for p in (REPO / "dbt" / "models" / "marts").iterdir() if p.suffix in {".sql", ".py"}}
    assert models <= marts.keys(), "a dbt mart is missing from the published warehouse"
    with engine(synced) as eng:
        shown = listed(eng)
    assert {"marts", "raw", "staging"} <= shown.keys()
    assert shown["marts"] == marts


def test_every_mart_reads_through_sqlalchemy_with_whole_rows(synced):
    marts = duckdb_columns(synced, "marts")
    with engine(synced) as eng:
        for mart, columns in marts.items():
            names, rows = read(eng, "marts", mart)
            assert names == columns, mart
            assert all(len(row) == len(columns) for row in rows), mart
            if mart in WATCHED:
                assert len(rows) == 5, mart


def test_the_raw_views_over_the_lake_list_and_read_the_same_way(synced):
    raw = duckdb_columns(synced, "raw")
    with engine(synced) as eng:
        assert listed(eng)["raw"] == raw
        assert set(sa.inspect(eng).get_view_names(schema="raw")) == raw.keys()
        for view, columns in raw.items():
            names, rows = read(eng, "raw", view)
            assert names == columns and rows, view
            assert all(len(row) == len(columns) for row in rows), view


def test_fresh_connections_while_a_sync_publishes_list_and_read_whole_marts(synced, tmp_path):
    """Each read opens the catalog published last: the one before the sync's or the sync's own, each whole (its
    views read its own generation of daily files), and never the old one again once the new one was seen."""
    marts = duckdb_columns(synced, "marts")
    watched = {m: marts[m] for m in WATCHED}

    def days_of_traffic(eng: sa.Engine) -> tuple[int, object]:
        with eng.connect() as con:
            return tuple(
                con.execute(sa.text("SELECT count(*), max(period_date) FROM marts.fct_store_traffic_daily")).one()
            )

    def one_read() -> tuple[int, object]:
        with engine(synced) as eng:
            inspector = sa.inspect(eng)
            for mart, columns in watched.items():
                assert [c["name"] for c in inspector.get_columns(mart, schema="marts")] == columns, mart
                names, rows = read(eng, "marts", mart)
                assert names == columns and len(rows) == 5, mart
                assert all(len(row) == len(columns) for row in rows), mart
            return days_of_traffic(eng)

    before = one_read()
    assert before[1] == LAST - timedelta(days=1)
    log = tmp_path / "sync.log"
    with open(log, "w") as out:
        sync = subprocess.Popen(
            [str(CLI), "sync", "--date", LAST.isoformat()], env=synced, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    seen, failures = [], []
    try:
        while True:
            try:
                seen.append(one_read())
            except Exception as exc:  # every kind counts: the loop must go on to the sync's end to see them all
                failures.append(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                sync.wait(timeout=0.2)
            if sync.returncode is not None:
                break
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert sync.returncode == 0, log.read_text()[-3000:]
    after = one_read()
    assert after == (before[0] + 1, LAST)
    assert not failures, failures[:5]
    assert seen, "no read happened while the sync ran"
    assert set(seen) <= {before, after}, set(seen)
    # Fresh connections never go back to the older catalog once the new one is published.
    assert seen == sorted(seen, key=lambda s: s == after)
