"""The tables that grow by the day, published as Parquet beside the warehouse: one file per table and day.

The published warehouse is a catalog (lake/warehouse.py). Copied whole at every publish, the tables that grow by the
day would make each publish cost the history. They are published instead as one Parquet file per day in a generation
folder, and the catalog holds a view over the folder in their place. A publish makes a new generation: it hard-links
the previous generation's files for the days the build did not touch and writes the days it did, so it costs what
the day costs. No file is ever rewritten in place, so a reader of an older catalog keeps reading its own generation,
which is kept for KEEP_SUPERSEDED after a newer one was published.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path

import duckdb

from mida_pipeline.lake.writer import fsync_dir

# A BI connection opened before a publish reads the generation of its catalog; it must reconnect within this time.
KEEP_SUPERSEDED = timedelta(hours=24)

_NAME = re.compile(r"g(\d{20})-[0-9a-f]{8}")
DAYS = "days.json"  # in each generation: the tables it holds and their day columns


def facts_dir(published_path: Path) -> Path:
    """Hidden beside the published file, so a folder of warehouses keeps each one's facts apart."""
    return published_path.parent / f".{published_path.name}.facts"


def new_generation(facts: Path) -> Path:
    """A fresh generation folder's path; names sort by creation time."""
    return facts / f"g{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def views_over(con: duckdb.DuckDBPyConnection, database: str, facts: Path) -> dict[tuple[str, str], Path]:
    """The relations of `database` that are views over a generation, with that generation's folder."""
    found = {}
    for schema, view, sql in con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = ? AND contains(sql, ?)",
        [database, str(facts)],
    ).fetchall():
        match = re.search(re.escape(str(facts)) + r"/(" + _NAME.pattern + r")/", sql)
        if match:
            found[(schema, view)] = facts / match.group(1)
    return found


def day_columns(generation: Path) -> dict[tuple[str, str], str]:
    """The tables a generation holds and the day column each is split by (written with it)."""
    listed = json.loads((generation / DAYS).read_text()) if (generation / DAYS).exists() else {}
    return {tuple(name.split(".", 1)): column for name, column in listed.items()}


def _day_of(file: Path) -> date:
    return date.fromisoformat(file.name[:10])


def write_generation(
    con: duckdb.DuckDBPyConnection,
    source: str,
    growing: Mapping[tuple[str, str], str],
    previous: Path | None,
    changed_from: Mapping[tuple[str, str], date] | None,
    generation: Path,
) -> dict[tuple[str, str], Path]:
    """Write `generation` from the attached database `source`; returns the folder of each table that has days.

    A table's days before its `changed_from` day are linked from `previous` (the build kept them as published); the
    others, or every day of a table without one, are written from `source`. Each file is on disk before this returns.
    """
    generation.mkdir(parents=True)
    folders = {}
    for (schema, table), column in growing.items():
        folder = generation / f"{schema}.{table}"
        folder.mkdir(parents=True)
        first = (changed_from or {}).get((schema, table))
        carried = previous / folder.name if previous is not None and first is not None else None
        if carried is not None and not carried.is_dir():
            carried = None  # a table the previous generation did not hold: every day is new
        if carried is not None:
            for old in carried.glob("*.parquet"):
                if _day_of(old) < first:
                    os.link(old, folder / old.name)
        since = f"WHERE CAST({column} AS DATE) >= DATE '{first}'" if carried is not None else ""
        staged = folder / ".written"
        con.execute(
            f'COPY (SELECT *, CAST({column} AS DATE) AS _day FROM {source}."{schema}"."{table}" {since}) '
            f"TO '{staged}' (FORMAT parquet, PARTITION_BY (_day))"
        )
        written = []
        for partition in sorted(staged.glob("_day=*")) if staged.exists() else []:
            day = partition.name.removeprefix("_day=")
            files = sorted(partition.glob("*.parquet"))
            for i, file in enumerate(files):
                written.append(file.rename(folder / (f"{day}.parquet" if len(files) == 1 else f"{day}.{i}.parquet")))
        shutil.rmtree(staged, ignore_errors=True)
        _fsync(folder, written)  # linked files were on disk already
        if any(folder.glob("*.parquet")):
            folders[(schema, table)] = folder
    listed = generation / DAYS
    listed.write_text(json.dumps({f"{s}.{t}": c for (s, t), c in growing.items()}, indent=0))
    _fsync(generation, [listed])
    return folders


def _fsync(folder: Path, files: Iterable[Path]) -> None:
    """Put `files` and the folder's entries on disk."""
    for file in files:
        with open(file, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(folder)


def view_sql(con: duckdb.DuckDBPyConnection, source: str, schema: str, table: str, folder: Path) -> str:
    """A view over `folder` with the columns and types of the table it stands for."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [source, schema, table],
    ).fetchall()
    select = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in columns)
    return f'CREATE VIEW "{schema}"."{table}" AS SELECT {select} FROM read_parquet(\'{folder}/*.parquet\')'


def collect(facts: Path, current: Path, previous: Path | None = None, now_ns: int | None = None) -> list[Path]:
    """Delete the generations no catalog will need: those no catalog named (after `previous`, the one `current`
    replaced: publishes that died before their catalog), and those superseded more than KEEP_SUPERSEDED ago.
    Returns what was deleted."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    keep_after = now_ns - int(KEEP_SUPERSEDED.total_seconds() * 1e9)
    generations = sorted(p for p in facts.iterdir() if _NAME.fullmatch(p.name))
    deleted = []
    for older, newer in zip(generations, [*generations[1:], None], strict=True):
        if older == current or older == previous:
            continue
        unpublished = older.name > current.name or (previous is not None and older.name > previous.name)
        superseded_at = int(_NAME.fullmatch(newer.name).group(1)) if newer is not None else now_ns
        if unpublished or superseded_at < keep_after:
            shutil.rmtree(older, ignore_errors=True)
            deleted.append(older)
    return deleted


def materialise(con: duckdb.DuckDBPyConnection, views: Iterable[tuple[str, str]]) -> None:
    """Turn views over a generation back into tables (in the connection's own database)."""
    for schema, view in views:
        con.execute(f'CREATE TABLE "{schema}"."{view}__materialised" AS SELECT * FROM "{schema}"."{view}"')
        con.execute(f'DROP VIEW "{schema}"."{view}"')
        con.execute(f'ALTER TABLE "{schema}"."{view}__materialised" RENAME TO "{view}"')
