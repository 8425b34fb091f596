"""Publishing at a year of history: a whole-file copy, against the pipeline's publish of a catalog and the day's files.

A publish that copies the whole build file grows with the history: the tables that grow by the day make the file,
and its copy, larger every day. The pipeline's publish (mida_pipeline/lake/warehouse.py, lake/generations.py) keeps
those tables as one Parquet file per day in a generation folder per publish: it hard-links the previous
generation's files for the days the run did not touch, writes the days it did, and writes a catalog (the other
tables, and views over the folder) that is renamed in. Both are timed here on the same build file, with the BI
queries that read a growing table through the catalog's view and from the table.

`--scale N` first makes the build file N times larger (each growing table's rows copied under N project keys),
for the 200 projects x 50 experiments size without synthesising its lake.

Run after `benchmarks.history` kept its warehouses:
`python -m benchmarks.publish --warehouse /tmp/mida-history/history-365/warehouse.duckdb --scale 100`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from mida_pipeline.defs.dbt_project import changed_from, growing_tables, project
from mida_pipeline.lake.warehouse import Warehouse


def whole_copy(build: Path, published: Path) -> float:
    """What a publish by copy does: copy, fsync, rename."""
    started = time.perf_counter()
    tmp = published.with_name(f".{published.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(build, tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, published)
    return time.perf_counter() - started


def scale_up(build: Path, growing, times: int) -> None:
    """Every growing table's rows again under `times - 1` more project keys."""
    with contextlib.closing(duckdb.connect(str(build))) as con:
        for schema, table in growing:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?", [schema, table]
                ).fetchall()
            ]
            if "project_key" not in columns:
                continue
            con.execute(
                f"INSERT INTO {schema}.{table} SELECT t.* REPLACE (t.project_key || '-' || n AS project_key) "
                f"FROM {schema}.{table} AS t, range(1, {times}) AS copies(n)"
            )
        con.execute("CHECKPOINT")


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


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
    growing = growing_tables(json.loads(project.manifest_path.read_text()))
    columns = {table: column for table, (column, _lead) in growing.items()}
    with tempfile.TemporaryDirectory(prefix="mida-publish-", dir=args.workdir) as tmp:
        work = Path(tmp)
        warehouse = Warehouse(published_path=work / "published" / args.warehouse.name, lake_dir=work / "lake")
        build = warehouse.build_path
        build.parent.mkdir(parents=True)
        # A standalone copy, whether the given warehouse holds its facts or views over them.
        Warehouse(published_path=args.warehouse.resolve(), lake_dir=work / "lake").export(build)
        if args.scale > 1:
            scale_up(build, growing, args.scale)
        size = build.stat().st_size
        (work / "copy").mkdir()
        copy_s = min(whole_copy(build, work / "copy" / args.warehouse.name) for _ in range(3))
        with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
            (day,) = con.execute("SELECT max(result_date) FROM marts.fct_experiment_variant_daily").fetchone()
        with warehouse.exclusive():
            first_s = _timed(lambda: warehouse.publish(columns))
            changed = changed_from(growing, (day.isoformat(), day.isoformat()))
            day_s = min(_timed(lambda: warehouse.publish(columns, changed)) for _ in range(3))
            # What a failed build costs the next run: the build file made again from the catalog and every day's file.
            restore_s = _timed(warehouse.restore_published)
        published = warehouse.published_path
        day_sql = (
            f"SELECT count(*), sum(visitors) FROM marts.fct_experiment_variant_daily WHERE result_date = DATE '{day}'"
        )
        whole_sql = "SELECT count(*), sum(visitors) FROM marts.fct_experiment_variant_daily"
        q_table_day, v1 = min(_query(build, day_sql) for _ in range(3))
        q_view_day, v2 = min(_query(published, day_sql) for _ in range(3))
        q_table_all, v3 = min(_query(build, whole_sql) for _ in range(3))
        q_view_all, v4 = min(_query(published, whole_sql) for _ in range(3))
        assert v1 == v2 and v3 == v4, (v1, v2, v3, v4)
        catalog_bytes = published.stat().st_size
    print(f"load average {os.getloadavg()[0]:.1f}; scale {args.scale}; day {day}")
    print("| figure | value | note |\n|---|---:|---|")
    print(f"| build file | {size / 2**20:.1f} MiB | {args.warehouse} x{args.scale} |")
    print(f"| publish by whole copy | {copy_s:.3f} s | copy, fsync, rename; best of 3 |")
    print(f"| the pipeline's first publish (every day written) | {first_s:.3f} s | once, when the layout is new |")
    print(
        f"| the pipeline's publish of a day | {day_s:.3f} s | links, the day's files (a week for weekly tables), "
        f"catalog of {catalog_bytes / 2**20:.1f} MiB; best of 3 |"
    )
    print(f"| restoring the build file from the published catalog | {restore_s:.3f} s | only after a failed build |")
    print(
        f"| one day of the variant fact: table / view | {q_table_day:.3f} s / {q_view_day:.3f} s | connect + query, best of 3 |"
    )
    print(
        f"| the whole variant fact: table / view | {q_table_all:.3f} s / {q_view_all:.3f} s | connect + query, best of 3 |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
