"""Asset checks on the raw tables that dbt cannot state as a test of one source, run after each materialization
on the run's days (every day in the raw_audit job).

Each check is one SQL query that returns the offending rows; none found means passed.
"""

import dagster as dg
import duckdb

from mida_pipeline.defs.metadata import table as table_metadata
from mida_pipeline.defs.partitions import run_days
from mida_pipeline.defs.resources import Lake
from mida_pipeline.lake.catalog import refresh_raw_views

# (name, table, description, offending-rows SQL over {days}, the run's days). Checks of one table are dbt source
# tests (dbt/models/staging/_sources.yml), shown as checks of the same raw assets (source_checks.py); here only what
# spans tables.
CHECKS: list[tuple[str, str, str, str]] = [
    (
        "live_experiments_have_results",
        "mida_experiment_results",
        "Every experiment live on a synced day has cumulative results for that day.",
        """SELECT e.project_key, e.date, e.test_id FROM raw.mida_experiments e
           WHERE {days} AND e.status = 'live'
             AND e.date IN (SELECT DISTINCT date FROM raw.mida_experiment_results WHERE {days})
             AND NOT EXISTS (SELECT 1 FROM raw.mida_experiment_results r WHERE {days} AND r.project_key = e.project_key
                             AND r.date = e.date AND r.test_id = e.test_id AND r."window" = 'cumulative')""",
    ),
]


def _check(name: str, table: str, description: str, sql: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=table, name=name, description=description, blocking=False)
    def _fn(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        days = run_days(context.run)
        # The run's days reach the lake's date= folders as constants, so no other day's files are opened.
        query = sql.format(days=f"date BETWEEN DATE '{days[0]}' AND DATE '{days[1]}'" if days else "true")
        with duckdb.connect() as con:
            refresh_raw_views(con, lake.lake_dir)
            found = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
            sample = con.execute(f"SELECT * FROM ({query}) LIMIT 5").df() if found else None
        return dg.AssetCheckResult(
            passed=found == 0,
            metadata={"offending_rows": found, **({"sample": table_metadata(sample)} if found else {})},
        )

    return _fn


checks = [_check(*c) for c in CHECKS]
