"""What the report shows, read from the published warehouse (read-only), nothing computed twice.

Every number on the page comes from a mart: the scorecard for each goal and
variant's totals, lift, intervals and both verdicts; the segment scorecard for
the segments; the daily scorecard for every chart over time (the API's own
cumulative window as of each day, so the charts end exactly where the scorecard
does); the program mart for each project's months; the store traffic marts for the store.
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
    cumulative: pd.DataFrame  # per variant and day of the primary goal: the scorecard as of that day
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)  # marts.fct_experiment_segment_scorecard rows
    program: pd.DataFrame = field(default_factory=pd.DataFrame)  # marts.fct_experiment_program_monthly rows


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


# Each primary goal's scorecard as of every synced day: what the charts over time draw.
SERIES_SQL = (
    "SELECT project_key, test_id, variant_id, as_of_date::DATE AS result_date, visitors, conversions, abs_lift, "
    "ci_low, ci_high, chance_to_beat_control, sequential_p_value "
    "FROM marts.fct_experiment_scorecard_daily WHERE is_primary_goal {where}"
    "ORDER BY project_key, test_id, variant_id, result_date"
)
SERIES_COLUMNS = [
    "project_key",
    "test_id",
    "variant_id",
    "result_date",
    "visitors",
    "conversions",
    "abs_lift",
    "ci_low",
    "ci_high",
    "chance_to_beat_control",
    "sequential_p_value",
]
SERIES_MART = "marts.fct_experiment_scorecard_daily"
SEGMENTS_MART = "marts.fct_experiment_segment_scorecard"
PROGRAM_MART = "marts.fct_experiment_program_monthly"


def _open(warehouse: Path, lake_dir: str | os.PathLike | None) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise ReportDataError(
            f"the warehouse {warehouse} does not exist yet; sync some data first (mida-pipeline sync --date YYYY-MM-DD)"
        )
    con = duckdb.connect(str(warehouse), read_only=True)
    _register_lake(con, lake_dir)
    return con


def load(
    warehouse: Path,
    projects: tuple[str, ...] | None = None,
    lake_dir: str | os.PathLike | None = None,
    with_series: bool = True,
) -> ReportData:
    """The report's inputs for `projects` (default: every project the scorecard knows).

    Without `with_series` the series over time are left empty: they are the largest input (every synced day of
    every experiment), so a build that redraws few experiments asks for theirs alone (`series`).
    """
    with contextlib.closing(_open(warehouse, lake_dir)) as con:
        present = _existing(con)
        missing = [m for m in MARTS if f"marts.{m}" not in present]
        if missing:
            raise ReportDataError(
                f"the warehouse {warehouse} has no marts.{missing[0]}; build the marts first (the 'models' job, or mida-pipeline sync)"
            )
        experiments = _frame(con, "SELECT * FROM marts.dim_experiments ORDER BY project_key, test_id")
        scorecard = _frame(
            con,
            "SELECT * FROM marts.fct_experiment_scorecard "
            "ORDER BY project_key, test_id, is_primary_goal DESC, goal_key, variant_id",
        )
        segments = (
            _frame(con, f"SELECT * FROM {SEGMENTS_MART} ORDER BY ALL")
            if SEGMENTS_MART in present
            else pd.DataFrame(columns=["project_key", "test_id"])
        )
        if with_series and SERIES_MART in present and len(scorecard):
            cumulative = _frame(con, SERIES_SQL.format(where=""))
        else:
            cumulative = pd.DataFrame(columns=SERIES_COLUMNS)
        program = (
            _frame(con, f"SELECT * FROM {PROGRAM_MART} ORDER BY project_key, month_start_date DESC")
            if PROGRAM_MART in present
            else pd.DataFrame(columns=["project_key", "month_start_date"])
        )
        store_daily = _frame(con, "SELECT * FROM marts.fct_store_traffic_daily ORDER BY period_date")
        store_weekly = _frame(con, "SELECT * FROM marts.fct_store_traffic_weekly ORDER BY period_date")
    keys = (
        projects
        if projects is not None
        else tuple(sorted(set(experiments["project_key"]) | set(scorecard["project_key"])))
    )
    data = ReportData(store_daily=store_daily, store_weekly=store_weekly)
    for key in keys:
        data.projects[key] = ProjectData(
            project_key=key,
            experiments=experiments[experiments["project_key"] == key].reset_index(drop=True),
            scorecard=scorecard[scorecard["project_key"] == key].reset_index(drop=True),
            cumulative=cumulative[cumulative["project_key"] == key].reset_index(drop=True),
            segments=segments[segments["project_key"] == key].reset_index(drop=True),
            program=program[program["project_key"] == key].reset_index(drop=True),
        )
    return data


def series(
    warehouse: Path, experiments: list[tuple[str, int]], lake_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """The cumulative series of the given (project, experiment) pairs only.

    The filter names the experiments, so only their rows of the daily scorecard are read.
    """
    if not experiments:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    with contextlib.closing(_open(warehouse, lake_dir)) as con:
        if SERIES_MART not in _existing(con):
            return pd.DataFrame(columns=SERIES_COLUMNS)
        con.execute("CREATE TEMP TABLE wanted (project_key VARCHAR, test_id BIGINT)")
        con.executemany("INSERT INTO wanted VALUES (?, ?)", [(k, int(t)) for k, t in experiments])
        projects = sorted({k for k, _ in experiments})
        where = (
            f"AND project_key IN ({', '.join('?' * len(projects))}) "
            "AND (project_key, test_id) IN (SELECT project_key, test_id FROM wanted) "
        )
        return _frame(con, SERIES_SQL.format(where=where), projects)
