"""What the Dagster UI shows for a lake table: its columns, and per run the counts and a preview."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from mida_pipeline.defs.rebuild import PARTITIONS_WRITTEN
from mida_pipeline.extract.units import Outcome
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.storage import register
from mida_pipeline.lake.table import sql_type
from mida_pipeline.lake.writer import partition_files


def column_schema(table: str) -> dg.TableSchema:
    """The table's columns as the UI lists them: name, DuckDB type and the declaration's description."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, sql_type(c.type).lower(), description=c.description)
            for c in TABLES[table].all_columns
        ]
    )


def spec_metadata(table: str) -> dict:
    return {"dagster/column_schema": column_schema(table), "dagster/table_name": f"raw.{table}"}


_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float", "M": "timestamp"}


def _cell(value):
    """A value a table record holds: plain numbers and booleans, null, or text."""
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def table(frame: pd.DataFrame) -> dg.TableMetadataValue:
    """Rows as a table in the Dagster UI: the one way the pipeline shows rows in metadata."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(str(c), _KINDS.get(frame[c].dtype.kind, "string")) for c in frame.columns]
    )
    records = [dg.TableRecord({str(c): _cell(v) for c, v in row.items()}) for row in frame.to_dict("records")]
    return dg.MetadataValue.table(records, schema=schema)


def _preview(lake_dir: Path, table_name: str, days: list[date]) -> pd.DataFrame:
    """A few rows of the last partition day written."""
    cols = [f.name for f in TABLES[table_name].schema if f.name != "raw"][:8]
    files = partition_files(lake_dir, table_name, days[-1])
    if not files:
        return pd.DataFrame(columns=cols)
    quoted = ", ".join(f'"{c}"' for c in cols)
    with duckdb.connect() as con:
        register(con, lake_dir)
        return con.execute(f"SELECT {quoted} FROM read_parquet({[str(f) for f in files]}) LIMIT 5").df()


def run_metadata(table_name: str, outcome: Outcome, lake_dir: Path, days: list[date], captured_at: datetime) -> dict:
    by_project = pd.DataFrame(sorted(outcome.rows_by_project.get(table_name, {}).items()), columns=["project", "rows"])
    return {
        "dagster/row_count": outcome.rows.get(table_name, 0),
        "window": f"{days[0]} .. {days[-1]}" if len(days) > 1 else str(days[0]),
        PARTITIONS_WRITTEN: outcome.partitions,
        "captured_at": dg.TimestampMetadataValue(captured_at.timestamp()),
        # When the data was read from the source: what the freshness checks (defs/freshness.py) measure.
        "dagster/last_updated_timestamp": dg.TimestampMetadataValue(captured_at.timestamp()),
        "rows_per_project": table(by_project),
        "preview": table(_preview(lake_dir, table_name, days)),
    }


def fail_on_errors(what: str, outcome: Outcome) -> None:
    """Name every project (or period) that failed; what succeeded stays written."""
    if outcome.errors:
        lines = [f"{key}: {msg}" for key, msg in sorted(outcome.errors.items())]
        raise dg.Failure(
            description=f"{what} failed for {len(lines)} of its units ({', '.join(sorted(outcome.errors))}); "
            + ("the others were written. " if outcome.partitions else "nothing was written. ")
            + lines[0],
            # What was written before the failure: the rule for rebuilding the models reads it (defs/rebuild.py).
            metadata={
                "failures": dg.MetadataValue.md("\n".join(f"- {line}" for line in lines)),
                PARTITIONS_WRITTEN: outcome.partitions,
            },
            allow_retries=False,
        )
