"""The `raw` schema: one DuckDB view per lake table.

Views read the lake in place (Hive partitioning), so a refresh is cheap and the
warehouse never holds a second copy of the raw data. A table with no partition
yet gets an empty view with the right columns, so dbt can build on a new lake.

Every query of a view lists the table's files. When the files may differ in
their columns (a column was added since older ones were written), DuckDB must
open every file's footer to line them up (`union_by_name`): seconds a query at
a year of history. A local lake records the layouts it holds (lake/writer.py),
so a table whose files all have the declared layout is read without that.

A lake in object storage is read through the fsspec filesystem registered on
the connection (lake/storage.py). The views keep the lake's URLs, so whoever
opens the warehouse later reads raw.* (and the staging views over them) only
with that filesystem registered too; the marts are tables and need nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from mida_pipeline.lake import storage
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.table import Table, sql_type
from mida_pipeline.lake.writer import ALL_RECORDED, LAYOUTS_DIR, PART_FILE, layout_mark, record_layout


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _root(table: Table, lake_dir: str | os.PathLike) -> str:
    if storage.is_remote(lake_dir):
        return storage.join(str(lake_dir), table.name)
    return str(Path(lake_dir).resolve() / table.name)


def has_partitions(table: Table, lake_dir: str | os.PathLike) -> bool:
    """Whether any partition of the table was written: until then its view is an empty typed relation."""
    if storage.is_remote(lake_dir):
        return bool(storage.find(_root(table, lake_dir), PART_FILE))
    return next(Path(_root(table, lake_dir)).rglob(PART_FILE), None) is not None


def layouts(table: Table, lake_dir: str | os.PathLike) -> set[str] | None:
    """The layouts (`writer.layout_mark`) of the table's files; None when not known (object storage records none)."""
    if storage.is_remote(lake_dir):
        return None
    root = Path(_root(table, lake_dir))
    marks = root / LAYOUTS_DIR
    if not (marks / ALL_RECORDED).exists():
        # Files written before layouts were recorded: read each footer once and record what it holds. A file
        # written meanwhile records its own layout before it appears, so none is missed.
        for path in root.rglob(PART_FILE):
            record_layout(root, pq.read_schema(path))
        marks.mkdir(parents=True, exist_ok=True)
        (marks / ALL_RECORDED).touch()
    return {m.name for m in marks.iterdir() if m.name != ALL_RECORDED}


def view_sql(table: Table, lake_dir: str | os.PathLike) -> str:
    """The SELECT behind raw.<table>: the Parquet files if any, else an empty typed relation."""
    root = _root(table, lake_dir)
    written = has_partitions(table, lake_dir)
    columns = ", ".join(_quote(f.name) for f in table.schema)
    if written:
        hive_types = ", ".join(
            f"{_literal(c)}: {_literal(sql_type(table.schema.field(c).type))}" for c in table.partition_columns
        )
        # One folder level per partition column: a `**` glob would walk every folder twice as deep. The file's own
        # name, not `*.parquet`: a name to look up instead of a folder to list, half the listing at a year of days.
        files = root + "".join(f"/{c}=*" for c in table.partition_columns) + f"/{PART_FILE}"
        one_layout = layouts(table, lake_dir) == {layout_mark(table.schema)}
        union = "" if one_layout else "union_by_name = true, "
        source = f"read_parquet({_literal(files)}, hive_partitioning = true, {union}hive_types = {{{hive_types}}})"
        return f"SELECT {columns} FROM {source}"
    typed_nulls = ", ".join(f"CAST(NULL AS {sql_type(f.type)}) AS {_quote(f.name)}" for f in table.schema)
    return f"SELECT {typed_nulls} WHERE false"


def refresh_raw_views(con: duckdb.DuckDBPyConnection, lake_dir: str | os.PathLike) -> None:
    """Create or replace raw.<table> for every lake table (registering the lake's filesystem when remote)."""
    storage.register(con, lake_dir)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in TABLES.values():
        con.execute(f"CREATE OR REPLACE VIEW raw.{_quote(table.name)} AS {view_sql(table, lake_dir)}")
