"""What the report shows, read from the published warehouse (read-only), nothing computed twice.

Every number on the page comes from a mart: the scorecard for each variant's
totals, lift, interval and verdict; the store traffic marts for the store. The
one series no mart holds, each variant's cumulative result on every synced day,
comes from the staging view of the API's own cumulative window, so the chart
ends exactly where the scorecard does (a running sum of daily visitors would
not: a visitor seen on two days is one visitor cumulatively).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from mida_pipeline.lake.storage import register


class ReportDataError(Exception):
    """The warehouse cannot give the report its inputs; the message says which and what to do."""


@dataclass
class ProjectData:
    project_key: str
    experiments: pd.DataFrame  # marts.dim_experiments rows of the project
    scorecard: pd.DataFrame  # marts.fct_experiment_scorecard rows of the project
    cumulative: pd.DataFrame  # per variant and day: result_date, visitors, conversions


@dataclass
class ReportData:
    projects: dict[str, ProjectData] = field(default_factory=dict)
    store_daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    store_weekly: pd.DataFrame = field(default_factory=pd.DataFrame)


MARTS = ("dim_experiments", "fct_experiment_scorecard", "fct_store_traffic_daily", "fct_store_traffic_weekly")


def _existing(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _register_lake(con: duckdb.DuckDBPyConnection, lake_dir: str | os.PathLike | None) -> None:
    """Staging views read the lake: an object-storage lake needs its filesystem on this connection."""
    if lake_dir is not None:
        register(con, lake_dir)  # nothing to do for a local lake


def load(warehouse: Path, projects: tuple[str, ...] | None = None, lake_dir: str | os.PathLike | None = None) -> ReportData:
    """The report's inputs for `projects` (default: every project the scorecard knows)."""
    if not warehouse.exists():
        raise ReportDataError(
            f"the warehouse {warehouse} does not exist yet; sync some data first (mida-pipeline sync --date YYYY-MM-DD)"
        )
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        _register_lake(con, lake_dir)
        present = _existing(con)
        missing = [m for m in MARTS if f"marts.{m}" not in present]
        if missing:
            raise ReportDataError(
                f"the warehouse {warehouse} has no marts.{missing[0]}; build the marts first (the 'models' job, or mida-pipeline sync)"
            )
        experiments = _frame(con, "SELECT * FROM marts.dim_experiments ORDER BY project_key, test_id")
        scorecard = _frame(con, "SELECT * FROM marts.fct_experiment_scorecard ORDER BY project_key, test_id, variant_id")
        cumulative = _frame(
            con,
            "SELECT project_key, test_id, variant_id, result_date, visitors, conversions "
            "FROM staging.stg_mida_experiment_results WHERE result_window = 'cumulative' "
            "ORDER BY project_key, test_id, variant_id, result_date",
        ) if "staging.stg_mida_experiment_results" in present and len(scorecard) else pd.DataFrame(
            columns=["project_key", "test_id", "variant_id", "result_date", "visitors", "conversions"]
        )
        store_daily = _frame(con, "SELECT * FROM marts.fct_store_traffic_daily ORDER BY date")
        store_weekly = _frame(con, "SELECT * FROM marts.fct_store_traffic_weekly ORDER BY week_start")
    keys = projects if projects is not None else tuple(sorted(set(experiments["project_key"]) | set(scorecard["project_key"])))
    data = ReportData(store_daily=store_daily, store_weekly=store_weekly)
    for key in keys:
        data.projects[key] = ProjectData(
            project_key=key,
            experiments=experiments[experiments["project_key"] == key].reset_index(drop=True),
            scorecard=scorecard[scorecard["project_key"] == key].reset_index(drop=True),
            cumulative=cumulative[cumulative["project_key"] == key].reset_index(drop=True),
        )
    return data
