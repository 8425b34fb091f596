"""Asset checks on the raw tables, run after each materialization against the whole lake.

Each check is one SQL query that returns the offending rows; none found means passed.
"""


from pathlib import Path

import dagster as dg
import duckdb

from mida_pipeline.defs.resources import Lake
from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.lake.schemas import TABLES


def _key_unique(table: str) -> str:
    key = ", ".join(f'"{c}"' for c in TABLES[table].key)
    return f"SELECT {key}, count(*) AS n FROM raw.{table} GROUP BY ALL HAVING count(*) > 1"


# (name, table, description, offending-rows SQL)
CHECKS: list[tuple[str, str, str, str]] = [
    *[(f"{t}_key_unique", t, f"Each key {TABLES[t].key} appears once per partition.", _key_unique(t)) for t in TABLES],
    (
        "results_counts_non_negative", "mida_experiment_results", "Visitors, conversions, orders and revenue are never negative.",
        "SELECT * FROM raw.mida_experiment_results WHERE visitors < 0 OR conversions < 0 OR orders < 0 OR revenue < 0",
    ),
    (
        "results_conversions_within_visitors", "mida_experiment_results", "No variant converts more visitors than it had.",
        "SELECT * FROM raw.mida_experiment_results WHERE conversions > visitors",
    ),
    (
        "live_experiments_have_results", "mida_experiment_results",
        "Every experiment live on a synced day has cumulative results for that day.",
        """SELECT e.project_key, e.date, e.test_id FROM raw.mida_experiments e
           WHERE e.status = 'live' AND e.date IN (SELECT DISTINCT date FROM raw.mida_experiment_results)
             AND NOT EXISTS (SELECT 1 FROM raw.mida_experiment_results r WHERE r.project_key = e.project_key
                             AND r.date = e.date AND r.test_id = e.test_id AND r."window" = 'cumulative')""",
    ),
    *[
        (
            f"{t}_counts_non_negative", t, "Store counts are never negative.",
            f"SELECT * FROM raw.{t} WHERE least(total_visitors, total_sessions, successful_orders, abandoned_carts, "
            "product_views, add_to_cart, checkout_started) < 0",
        )
        for t in ("bss_analytics_daily", "bss_analytics_weekly")
    ],
]


def _check(name: str, table: str, description: str, sql: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=table, name=name, description=description, blocking=False)
    def _fn(lake: Lake) -> dg.AssetCheckResult:
        with duckdb.connect() as con:
            refresh_raw_views(con, lake.lake_dir)
            found = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
            sample = con.execute(f"SELECT * FROM ({sql}) LIMIT 5").df().to_markdown(index=False) if found else ""
        return dg.AssetCheckResult(
            passed=found == 0,
            metadata={"offending_rows": found, **({"sample": dg.MetadataValue.md(sample)} if found else {})},
        )

    return _fn


checks = [_check(*c) for c in CHECKS]
