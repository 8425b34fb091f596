"""Source records as lake rows, by the tables' declarations (lake/schemas.py).

A column names where its value sits on the item a row is made from (a dotted
path through attributes and dict keys); this module only follows the paths and
adds the lineage columns, so no column is written twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from mida_pipeline.lake.schemas import TABLES


def raw_json(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, default=str)


@cache
def _path(path: str) -> Callable[[Any], Any]:
    """A reader of a dotted path through attributes and dict keys (None once a step is missing), made once a path:
    a sync makes rows by the thousand."""
    parts = tuple(path.split("."))

    def follow(item: Any) -> Any:
        value = item
        for part in parts:
            if value is None:
                return None
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        return value

    return follow


@cache
def _readers(table: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each column's reader: its own function, or its path (its name when it has none)."""
    sources = ((c.name, c.source if c.source is not None else c.name) for c in TABLES[table].columns)
    return tuple((name, source if callable(source) else _path(source)) for name, source in sources)


def make_row(
    table: str, item: Any, *, day: date, captured_at: datetime, project_key: str | None = None, late: bool | None = None
) -> dict[str, Any]:
    """One row of `table` from `item`, with the partition's day, project and capture time."""
    spec = TABLES[table]
    row: dict[str, Any] = {name: read(item) for name, read in _readers(table)}
    row.update(date=day, captured_at=captured_at, raw=raw_json(_path(spec.raw_source)(item)))
    if spec.has_project:
        row["project_key"] = project_key
    if spec.snapshot:
        row["is_late_capture"] = bool(late)
    return row


def make_rows(table: str, items, **lineage) -> list[dict[str, Any]]:
    return [make_row(table, item, **lineage) for item in items]


# The items of the tables whose rows combine several records.


class VariantItem(NamedTuple):
    experiment: Any
    variant: Any


class GoalOfResult(NamedTuple):
    goal_key: str | None
    goal_name: str | None
    goal_type: str | None
    is_primary: bool


class ResultItem(NamedTuple):
    result: Any
    variant: Any
    window: str
    goal: GoalOfResult


class TimeseriesItem(NamedTuple):
    series: Any
    row: Any
    is_primary: bool


def variant_items(detail) -> list[VariantItem]:
    return [VariantItem(detail, v) for v in detail.variants]


def result_items(result, *, window: str, goal: GoalOfResult) -> list[ResultItem]:
    """One item per variant of a result, for the `day` or the `cumulative` window."""
    return [ResultItem(result, v, window, goal) for v in result.variants]
