"""dbt's source YAML for the raw views (dbt/models/staging/_sources.yml), written from the lake's declarations.

Each table's columns, types and descriptions, its key's uniqueness, its other checks and its freshness are declared
once, in schemas.py; this module only writes them in dbt's words. `python -m mida_pipeline.lake.dbt_sources` (or
`make dbt-sources`) rewrites the file; a test fails while the committed file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.table import DATE_COLUMN, AtMost, Freshness, NonNegative, Table, sql_type

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt" / "models" / "staging" / "_sources.yml"
# Every table's, unless it declares its own: a daily sync lands each table once a day.
SOURCE_FRESHNESS = Freshness((36, "hour"), (84, "hour"))
HEADER = """\
# Written by `python -m mida_pipeline.lake.dbt_sources` from the declarations in mida_pipeline/lake/schemas.py: edit
# those, then run it (`make dbt-sources`); a test fails while this file differs from what it writes.
# Tests on the raw tables show in Dagster as checks of the raw assets (mida_pipeline/defs/source_checks.py). They
# warn rather than fail: the lake holds what the API sent, and the marts are still built from it (staging keeps the
# latest capture per key).
"""
WARN = {"severity": "warn"}


def _freshness(f: Freshness) -> dict[str, Any]:
    return {
        "warn_after": {"count": f.warn_after[0], "period": f.warn_after[1]},
        "error_after": {"count": f.error_after[0], "period": f.error_after[1]},
    }


def _quoted(column: str) -> str:
    return '"window"' if column == "window" else column  # a reserved word in DuckDB's SQL


def _table(table: Table) -> dict[str, Any]:
    tests: list[dict[str, Any]] = [
        {
            "unique_combination": {
                "name": f"{table.name}_key_unique",
                "arguments": {"columns": [_quoted(k) for k in table.key]},
                "config": WARN,
            }
        }
    ]
    tests += [
        {
            "none_negative": {
                "name": check.name,
                "description": check.description,
                "arguments": {"columns": list(check.columns)},
                "config": WARN,
            }
        }
        for check in table.checks
        if isinstance(check, NonNegative)
    ]
    ceilings = {check.column: check for check in table.checks if isinstance(check, AtMost)}
    columns = []
    for column in table.all_columns:
        entry: dict[str, Any] = {
            "name": column.name,
            "data_type": sql_type(column.type).lower(),
            "description": column.description,
        }
        if column.name in ceilings:
            check = ceilings[column.name]
            entry["data_tests"] = [
                {
                    "not_above": {
                        "name": check.name,
                        "description": check.description,
                        "arguments": {"ceiling": check.ceiling},
                        "config": WARN,
                    }
                }
            ]
        columns.append(entry)
    out: dict[str, Any] = {"name": table.name, "description": table.description}
    # The partition day is the table's event time: a run's tests of it read its window's days (macros/scoped_tests.sql).
    out["config"] = {"event_time": DATE_COLUMN.name}
    if table.window_lead_days:
        out["config"]["meta"] = {"window_lead_days": table.window_lead_days}
    if table.freshness is not None:
        out["freshness"] = _freshness(table.freshness)
    return out | {"data_tests": tests, "columns": columns}


def render() -> str:
    """The whole file, as the declarations say it."""
    source = {
        "name": "raw",
        "schema": "raw",
        "description": "Views over the Parquet lake, one per table, refreshed by the pipeline.",
        "loaded_at_field": "captured_at",
        "freshness": _freshness(SOURCE_FRESHNESS),
        "tables": [_table(t) for t in TABLES.values()],
    }

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    body = yaml.dump(
        {"version": 2, "sources": [source]}, Dumper=NoAliases, sort_keys=False, width=120, allow_unicode=True
    )
    return HEADER + body


def main(path: Path = SOURCES_YML) -> int:
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover - the command that writes the file
    sys.exit(main())
