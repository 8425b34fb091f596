"""What the Dagster UI shows for a lake table: its columns, and per run the counts and a preview."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb

from mida_pipeline.extract.mida import Outcome
from mida_pipeline.lake.schemas import TABLES, sql_type
from mida_pipeline.lake.storage import register
from mida_pipeline.lake.writer import partition_files

def column_schema(table: str) -> dg.TableSchema:
    """The table's columns as the UI lists them: name, DuckDB type and the declaration's description."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, sql_type(c.type).lower(), description=c.description) for c in TABLES[table].all_columns]
    )


def spec_metadata(table: str) -> dict:
    return {"dagster/column_schema": column_schema(table), "dagster/table_name": f"raw.{table}"}


def _preview(lake_dir: Path, table: str, days: list[date]) -> str:
    """A markdown table of a few rows of the last partition day written."""
    files = partition_files(lake_dir, table, days[-1])
    if not files:
        return "_no rows_"
    cols = [f.name for f in TABLES[table].schema if f.name != "raw"][:8]
    with duckdb.connect() as con:
        register(con, lake_dir)
        rel = con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM read_parquet({[str(f) for f in files]}) LIMIT 5")
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in rel.fetchall():
            lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "/")[:30] for v in row) + " |")
    return "\n".join(lines)


def run_metadata(table: str, outcome: Outcome, lake_dir: Path, days: list[date], captured_at: datetime) -> dict:
    by_project = "\n".join(f"| {pk} | {n} |" for pk, n in sorted(outcome.rows_by_project.get(table, {}).items()))
    return {
        "dagster/row_count": outcome.rows.get(table, 0),
        "window": f"{days[0]} .. {days[-1]}" if len(days) > 1 else str(days[0]),
        "partitions_written": outcome.partitions,
        "captured_at": dg.TimestampMetadataValue(captured_at.timestamp()),
        "rows_per_project": dg.MetadataValue.md("| project | rows |\n|---|---|\n" + by_project) if by_project else "none",
        "preview": dg.MetadataValue.md(_preview(lake_dir, table, days)),
    }


def fail_on_errors(what: str, outcome: Outcome) -> None:
    """Name every project (or period) that failed; what succeeded stays written."""
    if outcome.errors:
        lines = [f"{key}: {msg}" for key, msg in sorted(outcome.errors.items())]
        raise dg.Failure(
            description=f"{what} failed for {len(lines)} of its units ({', '.join(sorted(outcome.errors))}); "
            + ("the others were written. " if outcome.partitions else "nothing was written. ") + lines[0],
            metadata={"failures": dg.MetadataValue.md("\n".join(f"- {line}" for line in lines)),
                      "partitions_written": outcome.partitions},
            allow_retries=False,
        )
