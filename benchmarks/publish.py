"""Publishing at a year of history: the whole-file copy of today, against a small catalog over Parquet facts.

Today a run publishes by copying the whole build file and renaming the copy
over the published one; with tables that grow by the day that file, and the
copy, grow every day. The alternative measured here keeps each growing table
as one Parquet file per day in a generation folder per run: a run's folder
holds hard links to the previous run's files for the days it did not touch and
new files for the days it did, so a reader of an older catalog keeps reading
files nobody rewrites, and a run writes what the day costs. The published
catalog is small: the other tables as tables, the growing ones as views over
their generation's folder. Only the catalog is written and renamed.

`--scale N` first makes the build file N times larger (each growing table's rows
copied under N project keys), for the 200 projects x 50 experiments size
without synthesising its lake.

Run after `benchmarks.history` kept its warehouses:
`python -m benchmarks.publish --warehouse /tmp/mida-history/history-365/warehouse.duckdb --scale 100`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

GROWING = {  # the tables that grow by the day, and their day column
    ("marts", "fct_experiment_variant_daily"): "date",
    ("marts", "fct_experiment_scorecard_daily"): "as_of_date",
    ("marts", "fct_store_traffic_daily"): "date",
    ("marts", "fct_store_traffic_weekly"): "week_start",
    ("staging", "stg_mida_experiments"): "snapshot_date",
    ("staging", "stg_mida_project_configuration"): "config_date",
    ("staging", "stg_mida_projects"): "snapshot_date",
}


def whole_copy(build: Path, published: Path) -> float:
    """What lake/warehouse.py's publish does: copy, fsync, rename."""
    started = time.perf_counter()
    tmp = published.with_name(f".{published.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(build, tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, published)
    return time.perf_counter() - started


def scale_up(build: Path, times: int) -> None:
    """Every growing table's rows again under `times - 1` more project keys."""
    with contextlib.closing(duckdb.connect(str(build))) as con:
        for (schema, table), _day in GROWING.items():
            columns = [r[0] for r in con.execute(f"DESCRIBE {schema}.{table}").fetchall()]
            if "project_key" not in columns:
                continue
            con.execute(
                f"INSERT INTO {schema}.{table} SELECT t.* REPLACE (t.project_key || '-' || n AS project_key) "
                f"FROM {schema}.{table} AS t, range(1, {times}) AS copies(n)"
            )
        con.execute("CHECKPOINT")


def _days(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str) -> list:
    return [r[0] for r in con.execute(f"SELECT DISTINCT {column}::DATE FROM {schema}.{table} ORDER BY 1").fetchall()]


def _write_day(con, schema: str, table: str, column: str, day, folder: Path) -> None:
    target = folder / f"{day}.parquet"
    con.execute(
        f"COPY (SELECT * FROM {schema}.{table} WHERE {column}::DATE = DATE '{day}') TO '{target}' (FORMAT parquet)"
    )


def first_generation(build: Path, facts: Path) -> Path:
    """The history once, the first publish under this layout: one Parquet file per table and day."""
    generation = facts / "gen-0"
    generation.mkdir(parents=True)
    with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
        for (schema, table), column in GROWING.items():
            folder = generation / f"{schema}.{table}"
            con.execute(
                f"COPY (SELECT *, {column}::DATE AS _day FROM {schema}.{table}) TO '{folder}' "
                "(FORMAT parquet, PARTITION_BY (_day))"
            )
            for partition in folder.glob("_day=*"):
                (written,) = partition.iterdir()  # one file a day
                written.rename(folder / f"{partition.name.removeprefix('_day=')}.parquet")
                partition.rmdir()
    return generation


def next_generation(build: Path, previous: Path, facts: Path, run_id: str, day) -> tuple[float, float, Path]:
    """A run's publish: link the untouched days, write the run's day, write the catalog; (link+write s, catalog s)."""
    started = time.perf_counter()
    generation = facts / run_id
    with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
        for (schema, table), column in GROWING.items():
            folder = generation / f"{schema}.{table}"
            folder.mkdir(parents=True)
            for old in (previous / f"{schema}.{table}").iterdir():
                if old.name != f"{day}.parquet":
                    os.link(old, folder / old.name)
            _write_day(con, schema, table, column, day, folder)
    files = time.perf_counter() - started
    started = time.perf_counter()
    catalog(build, generation)
    return files, time.perf_counter() - started, generation


def catalog(build: Path, generation: Path) -> Path:
    """The published catalog: every table but the growing ones copied, the growing ones as views over the folder."""
    published = generation.parent / "catalog" / build.name  # the file name readers open, so the same database name
    published.parent.mkdir(exist_ok=True)
    tmp = published.with_name(f".{published.name}.{uuid.uuid4().hex}.tmp")
    with contextlib.closing(duckdb.connect(str(tmp))) as con:
        con.execute(f"ATTACH '{build}' AS b (READ_ONLY)")
        for (schema,) in con.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = 'b'"
        ).fetchall():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'b'"
        ).fetchall():
            if (schema, table) in GROWING:
                con.execute(
                    f"CREATE VIEW {schema}.{table} AS "
                    f"SELECT * FROM read_parquet('{generation / f'{schema}.{table}'}/*.parquet')"
                )
            else:
                con.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM b.{schema}.{table}")
        con.execute("DETACH b")
        con.execute("CHECKPOINT")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, published)
    return published


def _query(path: Path, sql: str) -> tuple[float, object]:
    started = time.perf_counter()
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        value = con.execute(sql).fetchall()
    return time.perf_counter() - started, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a published warehouse with a year of marts")
    parser.add_argument("--scale", type=int, default=1, help="copy the growing tables' rows under N project keys")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="a folder on the warehouse's disk (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mida-publish-", dir=args.workdir) as tmp:
        work = Path(tmp)
        build = work / "build" / args.warehouse.name
        build.parent.mkdir()
        shutil.copyfile(args.warehouse, build)
        if args.scale > 1:
            scale_up(build, args.scale)
        size = build.stat().st_size
        copy_s = min(whole_copy(build, work / args.warehouse.name) for _ in range(3))
        generation = first_generation(build, work / "facts")
        with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
            day = _days(con, "marts", "fct_experiment_variant_daily", "date")[-1]
        runs = []
        for i in range(3):
            files_s, catalog_s, generation = next_generation(build, generation, work / "facts", f"gen-{i + 1}", day)
            runs.append((files_s + catalog_s, files_s, catalog_s))
        total_s, files_s, catalog_s = min(runs)
        published = work / "facts" / "catalog" / args.warehouse.name
        day_sql = f"SELECT count(*), sum(visitors) FROM marts.fct_experiment_variant_daily WHERE date = DATE '{day}'"
        whole_sql = "SELECT count(*), sum(visitors) FROM marts.fct_experiment_variant_daily"
        q_table_day, v1 = min(_query(work / args.warehouse.name, day_sql) for _ in range(3))
        q_view_day, v2 = min(_query(published, day_sql) for _ in range(3))
        q_table_all, v3 = min(_query(work / args.warehouse.name, whole_sql) for _ in range(3))
        q_view_all, v4 = min(_query(published, whole_sql) for _ in range(3))
        assert v1 == v2 and v3 == v4, (v1, v2, v3, v4)
        catalog_bytes = published.stat().st_size
    print(f"load average {os.getloadavg()[0]:.1f}; scale {args.scale}; day {day}")
    print("| figure | value | note |\n|---|---:|---|")
    print(f"| build file | {size / 2**20:.1f} MiB | {args.warehouse} x{args.scale} |")
    print(f"| publish by whole copy | {copy_s:.3f} s | copy, fsync, rename; best of 3 |")
    print(
        f"| publish by generation | {total_s:.3f} s | links and the day's files {files_s:.3f} s, catalog of "
        f"{catalog_bytes / 2**20:.1f} MiB {catalog_s:.3f} s; best of 3 |"
    )
    print(
        f"| one day of the variant fact: table / view | {q_table_day:.3f} s / {q_view_day:.3f} s | connect + query, best of 3 |"
    )
    print(
        f"| the whole variant fact: table / view | {q_table_all:.3f} s / {q_view_all:.3f} s | connect + query, best of 3 |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
