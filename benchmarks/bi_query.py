"""A BI query: every experiment's scorecard from the mart, against computing the same from the raw Parquet.

The mart side is what a BI tool does: open the published warehouse read-only
and select marts.fct_experiment_scorecard. The raw side reads the results'
Parquet with DuckDB, keeps the latest capture of each key and the cumulative
window, and scores it with the same statistics the mart uses. Both must give
the same rows; the best of several tries is kept.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import duckdb

from benchmarks.common import Figure
from mida_pipeline.lake.catalog import view_sql
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.stats.scorecard import scorecard

BENCH = "BI query"
KEY = ["project_key", "test_id", "is_primary_goal", "goal_key", "variant_id"]


def from_mart(warehouse: Path):
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        return con.execute(
            "SELECT * FROM marts.fct_experiment_scorecard ORDER BY project_key, test_id, is_primary_goal, goal_key, variant_id"
        ).df()


def from_raw(lake: Path):
    results = view_sql(TABLES["mida_experiment_results"], lake)
    sql = f"""
        WITH latest AS (
            SELECT * FROM ({results})
            QUALIFY row_number() OVER (PARTITION BY project_key, date, test_id, is_primary_goal, goal_key, variant_id, "window"
                                      ORDER BY captured_at DESC) = 1
        )
        SELECT project_key, date AS result_date, test_id, goal_key, goal_name, is_primary_goal, test_name, variant_id,
               coalesce(nickname, name) AS variant_name, status, stats_engine,
               is_control, visitors, conversions, coalesce(revenue, 0) AS revenue, traffic_weight / 100.0 AS traffic_weight,
               confidence_threshold_percent, is_mab
        FROM latest WHERE "window" = 'cumulative'
    """
    with contextlib.closing(duckdb.connect()) as con:
        cumulative = con.execute(sql).df()
    return scorecard(cumulative).sort_values(KEY).reset_index(drop=True)


def _best(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def run(warehouse: Path, lake: Path, repeats: int) -> list[Figure]:
    mart_s, mart = _best(lambda: from_mart(warehouse), repeats)
    raw_s, raw = _best(lambda: from_raw(lake), repeats)
    if len(mart) != len(raw) or list(mart[KEY].astype(str).itertuples(index=False)) != list(
        raw[KEY].astype(str).itertuples(index=False)
    ):
        raise RuntimeError(f"the mart ({len(mart)} rows) and the raw computation ({len(raw)} rows) disagree")
    return [
        Figure(BENCH, "scorecard from the mart", mart_s, "s", f"{len(mart)} rows, best of {repeats}"),
        Figure(
            BENCH,
            "scorecard from raw Parquet",
            raw_s,
            "s",
            f"DuckDB over the lake + the same statistics, best of {repeats}",
        ),
        Figure(BENCH, "raw / mart", raw_s / mart_s, "x"),
    ]
