"""What a lake table declaration is made of: a column (name, Arrow type, meaning, where its value comes from), a table
(key, columns, the lineage columns its kind adds, the checks dbt runs on it, how fresh it must stay), and the DuckDB
type of each Arrow type. The declarations themselves are in schemas.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
STRING, INT64, INT32, FLOAT64, BOOL, DATE = pa.string(), pa.int64(), pa.int32(), pa.float64(), pa.bool_(), pa.date32()

SQL_TYPES = {STRING: "VARCHAR", INT64: "BIGINT", INT32: "INTEGER", FLOAT64: "DOUBLE", BOOL: "BOOLEAN", DATE: "DATE"}


def sql_type(type_: pa.DataType) -> str:
    """The DuckDB type of a lake column."""
    if pa.types.is_timestamp(type_):
        return "TIMESTAMPTZ" if type_.tz else "TIMESTAMP"
    return SQL_TYPES[type_]


@dataclass(frozen=True)
class Column:
    """One column: `source` is the dotted path of the value on the item a row is made from (default: the
    column's own name), or a function of the item, for the few values that are computed."""

    name: str
    type: pa.DataType
    description: str
    source: str | Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class NonNegative:
    """A dbt test (and so a Dagster check of the raw asset): none of `columns` is ever negative."""

    name: str
    description: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class AtMost:
    """A dbt test (and so a Dagster check of the raw asset): `column` never exceeds `ceiling` on a row."""

    name: str
    description: str
    column: str
    ceiling: str


@dataclass(frozen=True)
class Freshness:
    """dbt's source freshness, (count, period) each: warn past the first, error (a red check in Dagster) past the
    second."""

    warn_after: tuple[int, str]
    error_after: tuple[int, str]


@dataclass(frozen=True)
class Table:
    """A lake table: its name, key and columns; lineage columns are added by the kind of table."""

    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    has_project: bool = True
    snapshot: bool = False  # a snapshot of today's state: rows carry is_late_capture
    raw_source: str = "raw"  # the path of the item's JSON as received
    checks: tuple[NonNegative | AtMost, ...] = ()  # beside its key's uniqueness, which every table is checked for
    freshness: Freshness | None = None  # None: the source's (lake/dbt_sources.py)
    # How many days before a run's first day its `date` may lie: a weekly table is keyed by the week's Monday and
    # synced with its Sunday (dbt/macros/run_window.sql).
    window_lead_days: int = 0
    lineage: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        head = [PROJECT_KEY, DATE_COLUMN] if self.has_project else [DATE_COLUMN]
        tail = [LATE] if self.snapshot else []
        object.__setattr__(self, "lineage", tuple(head) + self.columns + tuple(tail) + (CAPTURED_AT, RAW))

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.lineage

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.all_columns])

    @property
    def partition_columns(self) -> tuple[str, ...]:
        return ("project_key", "date") if self.has_project else ("date",)

    def column(self, name: str) -> Column:
        return next(c for c in self.all_columns if c.name == name)


PROJECT_KEY = Column("project_key", STRING, "Mida project the row belongs to.")
DATE_COLUMN = Column("date", DATE, "Partition day in MIDA_TIMEZONE (weekly tables: the week's Monday).")
LATE = Column(
    "is_late_capture", BOOL, "True when the snapshot was taken after its day had passed: today's state, not the day's."
)
CAPTURED_AT = Column("captured_at", UTC_TS, "When the pipeline read this row from the API (UTC).")
RAW = Column("raw", STRING, "The item exactly as the API sent it, as JSON text.")


def c(name: str, type_: pa.DataType, description: str, source: str | Callable[[Any], Any] | None = None) -> Column:
    return Column(name, type_, description, source)
