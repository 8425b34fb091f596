"""Publishing at a year of history: the whole-file copy of today, against a small catalog over Parquet facts.

Today a run publishes by copying the whole build file and renaming the copy
over the published one; with facts that grow by the day that file, and the
copy, grow every day. The alternative measured here writes the day's rows of
the growing facts as Parquet files named by the run (never rewritten, so a
reader of the previous catalog still reads its own files), and publishes a
small catalog: the other marts as tables, the growing facts as views over the
exact list of their files. Only the small catalog is copied and renamed.

Run after `benchmarks.history` kept its warehouses:
`python -m benchmarks.publish --warehouse /tmp/mida-history/history-365/warehouse.duckdb --day YYYY-MM-DD`.
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
from datetime import date
from pathlib import Path

import duckdb

GROWING = {
    "fct_experiment_variant_daily": "date",
    "fct_store_traffic_daily": "date",
    "fct_store_traffic_weekly": "week_start",
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


def export_all(build: Path, facts_dir: Path) -> None:
    """The history once (the first publish under the new layout): one Parquet file per fact and day."""
    facts_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
        for fact, column in GROWING.items():
            con.execute(
                f"COPY (SELECT * FROM marts.{fact}) TO '{facts_dir / fact}' "
                f"(FORMAT parquet, PARTITION_BY ({column}), FILENAME_PATTERN 'first_{{i}}', OVERWRITE_OR_IGNORE)"
            )


def small_catalog(build: Path, facts_dir: Path, published: Path, day: date, run_id: str) -> tuple[float, int]:
    """Write the day's fact rows under the run's name, then publish a catalog of small tables and views."""
    started = time.perf_counter()
    with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
        for fact, column in GROWING.items():
            folder = facts_dir / fact / f"{column}={day}"
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.parquet"):  # this day replaced: the catalog below stops listing the old file
                old.rename(old.with_suffix(".superseded"))
            con.execute(
                f"COPY (SELECT * EXCLUDE ({column}) FROM marts.{fact} WHERE {column} = DATE '{day}') "
                f"TO '{folder / f'{run_id}.parquet'}' (FORMAT parquet)"
            )
    tmp = published.with_name(f".{published.name}.{uuid.uuid4().hex}.tmp")
    with contextlib.closing(duckdb.connect(str(tmp))) as con:
        con.execute(f"ATTACH '{build}' AS b (READ_ONLY)")
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'b' AND schema_name = 'marts'"
        ).fetchall()
        for (name,) in tables:
            if name in GROWING:
                files = sorted(str(p) for p in (facts_dir / name).glob("*/*.parquet"))
                listed = ", ".join(f"'{f}'" for f in files)
                con.execute(
                    f"CREATE VIEW marts.{name} AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true)"
                )
            else:
                con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM b.marts.{name}")
        for schema, _name, sql in con.execute(
            "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = 'b' AND NOT internal"
        ).fetchall():
            with contextlib.suppress(duckdb.Error):  # raw and staging views, as the build file has them
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                con.execute(sql)
        con.execute("DETACH b")
        con.execute("CHECKPOINT")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, published)
    return time.perf_counter() - started, published.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a published warehouse with a year of marts")
    parser.add_argument("--day", type=date.fromisoformat, required=True, help="the day a run synced")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mida-publish-") as tmp:
        work = Path(tmp)
        build = work / "build.duckdb"
        shutil.copyfile(args.warehouse, build)
        copy_s = min(whole_copy(build, work / "published.duckdb") for _ in range(3))
        export_all(build, work / "facts")
        catalog_s, catalog_bytes = min(
            small_catalog(build, work / "facts", work / "catalog.duckdb", args.day, f"run{i}") for i in range(3)
        )
        with contextlib.closing(duckdb.connect(str(work / "catalog.duckdb"), read_only=True)) as con:
            rows = con.execute("SELECT count(*) FROM marts.fct_experiment_variant_daily").fetchone()[0]
        with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
            expected = con.execute("SELECT count(*) FROM marts.fct_experiment_variant_daily").fetchone()[0]
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| figure | value | note |\n|---|---:|---|")
    print(f"| warehouse size | {args.warehouse.stat().st_size / 2**20:.1f} MiB | {args.warehouse} |")
    print(f"| publish by whole copy | {copy_s:.3f} s | copy, fsync, rename; best of 3 |")
    print(
        f"| publish by small catalog | {catalog_s:.3f} s | the day's rows as Parquet, catalog of {catalog_bytes / 2**20:.1f} MiB; best of 3 |"
    )
    print(f"| variant fact rows through the catalog | {rows} | {expected} in the build file |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
