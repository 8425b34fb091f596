"""Reading the raw views at a year of history: files in one recorded layout, against lining up every file.

A query of a raw view lists the table's files. With `union_by_name` DuckDB also
opens every file's footer to line up their columns, on every query; a table whose
files all have the declared layout (recorded by the lake's writer, lake/catalog.py)
is read without it. Both are measured here in one run, on the same lake, in a
fresh connection each: creating the 11 views, then one day of each (what a
scoped check or a daily dbt model asks), then the whole of each.

Run after `benchmarks.history` kept its lakes:
`python -m benchmarks.raw_views --lake /tmp/mida-history/history-365/lake --day YYYY-MM-DD`.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import duckdb

from mida_pipeline.lake import catalog
from mida_pipeline.lake.schemas import TABLES


def _lined_up(table, lake) -> str:
    """The view as it was before layouts were recorded: every file's footer read, a `**` glob."""
    sql = catalog.view_sql(table, lake)
    for files in ("/project_key=*/date=*/part.parquet", "/date=*/part.parquet"):
        sql = sql.replace(files, "/**/*.parquet")
    if "union_by_name" not in sql and "read_parquet" in sql:
        sql = sql.replace("hive_partitioning = true, ", "hive_partitioning = true, union_by_name = true, ")
    return sql


def measure(lake: Path, day: date, views) -> dict[str, float]:
    out = {}
    with duckdb.connect() as con:
        started = time.perf_counter()
        con.execute("CREATE SCHEMA raw")
        for table in TABLES.values():
            con.execute(f'CREATE VIEW raw."{table.name}" AS {views(table, lake)}')
        out["create the views"] = time.perf_counter() - started
        started = time.perf_counter()
        for table in TABLES.values():
            con.execute(f'SELECT count(*) FROM raw."{table.name}" WHERE date = ?', [day]).fetchall()
        out["one day of each view"] = time.perf_counter() - started
        started = time.perf_counter()
        for table in TABLES.values():
            con.execute(f'SELECT count(*) FROM raw."{table.name}"').fetchall()
        out["the whole of each view"] = time.perf_counter() - started
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--day", type=date.fromisoformat, required=True, help="a day the lake holds")
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    args = parser.parse_args(argv)
    for table in TABLES.values():  # an older lake is surveyed once, outside the timings
        catalog.layouts(table, args.lake)
    runs = {"recorded layout": catalog.view_sql, "every file lined up (before)": _lined_up}
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for label, views in runs.items():  # interleaved, so both see the same page cache
            for step, seconds in measure(args.lake, args.day, views).items():
                best.setdefault(label, {})[step] = min(seconds, best.get(label, {}).get(step, float("inf")))
    print("| step | " + " | ".join(runs) + " | ratio |")
    print("|---|" + "---:|" * (len(runs) + 1))
    for step in best["recorded layout"]:
        now, before = best["recorded layout"][step], best["every file lined up (before)"][step]
        print(f"| {step} | {now:.2f} s | {before:.2f} s | {before / now:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
