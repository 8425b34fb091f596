"""Atomic, whole-partition Parquet writes.

A partition is one file, `<lake>/<table>/[project_key=<k>/]date=<d>/part.parquet`.
On a local disk it is written beside its final name and renamed over it; in
object storage it is one object put in a single request (lake/storage.py). So
a reader sees the old file or the new one, never a torn or doubled one, and a
re-run replaces rather than appends.

A local lake also records each file layout (columns and types) its tables were
ever written in, as empty files `<lake>/<table>/_layouts/<mark>`: while a table
has one layout, its raw view reads the files without opening each one's footer
to reconcile their columns (lake/catalog.py).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mida_pipeline.lake import storage
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.table import Table

PART_FILE = "part.parquet"
LAYOUTS_DIR = "_layouts"


class SchemaDriftError(Exception):
    """A value does not fit the column type the lake has always used."""


# What writing a partition can fail with for a reason outside the code: a value the lake's column cannot hold,
# object storage refusing, a full or read-only disk.
LAKE_ERRORS = (SchemaDriftError, storage.LakeStorageError, OSError)


@dataclass(frozen=True)
class Written:
    table: str
    path: Path | str
    rows: int


def _partition_parts(table: str, day: date, project_key: str | None) -> list[str]:
    parts = [table]
    if TABLES[table].has_project:
        if not project_key:
            raise ValueError(f"{table} is partitioned by project; a project_key is required")
        parts.append(f"project_key={project_key}")
    parts.append(f"date={day.isoformat()}")
    return parts


def partition_dir(lake_dir: str | os.PathLike, table: str, day: date, project_key: str | None = None) -> Path | str:
    """The partition's folder: a Path in a local lake, a URL in object storage."""
    parts = _partition_parts(table, day, project_key)
    if storage.is_remote(lake_dir):
        return storage.join(str(lake_dir), *parts)
    return Path(lake_dir, *parts)


def partition_file(lake_dir: str | os.PathLike, table: str, day: date, project_key: str | None = None) -> Path | str:
    folder = partition_dir(lake_dir, table, day, project_key)
    return storage.join(folder, PART_FILE) if isinstance(folder, str) else folder / PART_FILE


def read_partition(
    lake_dir: str | os.PathLike, table: str, day: date, project_key: str | None = None, columns: list[str] | None = None
) -> pa.Table | None:
    """One partition as written, or None when it was never written."""
    path = partition_file(lake_dir, table, day, project_key)
    if isinstance(path, str):
        body = storage.read_bytes(path)
        return None if body is None else pq.read_table(pa.BufferReader(body), columns=columns)
    return pq.read_table(path, columns=columns) if path.exists() else None


def partition_files(lake_dir: str | os.PathLike, table: str, day: date) -> list[Path | str]:
    """Every project's file of one partition day, sorted."""
    if storage.is_remote(lake_dir):
        suffix = f"/date={day.isoformat()}/{PART_FILE}"
        return [u for u in storage.find(storage.join(str(lake_dir), table), PART_FILE) if u.endswith(suffix)]
    return sorted(Path(lake_dir, table).glob(f"**/date={day.isoformat()}/{PART_FILE}"))


def layout_mark(schema: pa.Schema) -> str:
    """A short name for a file layout: its columns' names and types, in order."""
    text = "\n".join(f"{f.name}:{f.type}" for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Present once every file of the table is known to be recorded: the table was new when layouts began to be
# recorded, or its older files were surveyed (lake/catalog.py).
ALL_RECORDED = "complete"


def record_layout(table_dir: Path, schema: pa.Schema) -> None:
    """Note that `table_dir` holds (or is about to hold) a file in this layout."""
    new_table = not table_dir.exists()
    marks = table_dir / LAYOUTS_DIR
    marks.mkdir(parents=True, exist_ok=True)
    (marks / layout_mark(schema)).touch(exist_ok=True)
    if new_table:
        (marks / ALL_RECORDED).touch(exist_ok=True)


def to_arrow(table: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table with the table's schema; a type clash names table and column."""
    spec: Table = TABLES[table]
    rows = list(rows)
    columns = {}
    for field in spec.schema:
        values = [row.get(field.name) for row in rows]
        try:
            columns[field.name] = pa.array(values, type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            bad = next((v for v in values if v is not None and not _fits(v, field.type)), None)
            raise SchemaDriftError(
                f"{table}.{field.name}: expected {field.type}, got {type(bad).__name__} {str(bad)[:40]!r}; "
                "the API changed a field's type - nothing was written; update the lake schema or report the change"
            ) from exc
    return pa.table(columns, schema=spec.schema)


def _fits(value: Any, type_: pa.DataType) -> bool:
    try:
        pa.array([value], type=type_)
        return True
    except Exception:
        return False


def write_partition(
    lake_dir: str | os.PathLike,
    table: str,
    rows: Iterable[dict[str, Any]] | pa.Table,
    *,
    day: date,
    project_key: str | None = None,
) -> Written:
    """Replace one partition whole. An empty `rows` writes an empty file: the day was synced and had nothing."""
    data = rows if isinstance(rows, pa.Table) else to_arrow(table, rows)
    target_dir = partition_dir(lake_dir, table, day, project_key)
    if isinstance(target_dir, str):
        # The whole file is built in memory first, so the one PUT carries a complete Parquet file.
        sink = pa.BufferOutputStream()
        pq.write_table(data, sink, compression="zstd")
        target = storage.join(target_dir, PART_FILE)
        storage.put_whole(target, sink.getvalue().to_pybytes())
        return Written(table, target, data.num_rows)
    # Recorded before the file appears, so no reader ever sees a file in a layout the table does not list.
    record_layout(Path(lake_dir, table), data.schema)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / PART_FILE
    # The temporary name does not end in .parquet, so no reader's glob picks it up.
    tmp = target_dir / f".{PART_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(data, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target_dir)
    finally:
        if tmp.exists():
            tmp.unlink()
    _remove_stale_temporaries(target_dir)
    return Written(table, target, data.num_rows)


# No partition write takes this long: an older temporary was left by a killed process, while a younger one
# may belong to a sync writing the same partition right now.
STALE_TEMPORARY_SECONDS = 6 * 3600


def _remove_stale_temporaries(folder: Path) -> None:
    """Tidy what a killed write left in this partition's folder (never visible to readers)."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for tmp in folder.glob(f".{PART_FILE}.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass


def sweep_temporaries(lake_dir: str | os.PathLike) -> int:
    """Remove temporaries left by a process killed mid-write; they were never visible to readers.

    Object storage has none: a single PUT that did not finish left no object.
    """
    if storage.is_remote(lake_dir):
        return 0
    removed = 0
    for tmp in Path(lake_dir).rglob(f".{PART_FILE}.*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def fsync_dir(path: Path) -> None:
    """Put a folder's entries (a rename into it) on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
