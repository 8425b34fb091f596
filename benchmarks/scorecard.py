"""The scorecard's statistics at scale, against the time DuckDB takes just to hand over the same rows.

Two figures, each beside its reading time:
- the scorecard of `projects` x `experiments` x `goals` experiments-goals of `variants` arms (200 x 50 x 3 x 3 =
  90,000 rows by default), from a synthetic cumulative table held in DuckDB;
- the daily mart's incremental build of one day over `history_days` of history: read that day's cumulative rows
  and the week of day-window rows its days_remaining needs, and score them, as the dbt model does.

The data are generated inside DuckDB (a year of history is tens of millions of rows), with conversion rates that
differ by arm so every statistic has work to do.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from benchmarks.common import Figure
from mida_pipeline.stats import DEFAULT_TUNING
from mida_pipeline.stats.scorecard import scorecard, scorecard_daily

BENCH = "scorecard"
START = date(2025, 1, 1)


def _generate(
    con: duckdb.DuckDBPyConnection, projects: int, experiments: int, goals: int, variants: int, days: int
) -> None:
    """One row per project, experiment, goal, variant and day with that day's and the cumulative counts."""
    con.execute(f"""
        CREATE TABLE results AS
        WITH arms AS (
            SELECT 'p' || p AS project_key, e AS test_id, g, v,
                   50 + (hash(p, e, v) % 400) AS daily_visitors,
                   0.02 + 0.1 * g + 0.004 * v + ((hash(p, e, g, v) % 100) / 20000.0) AS rate
            FROM range({projects}) t(p), range({experiments}) u(e), range({goals}) w(g), range({variants}) x(v)
        )
        SELECT project_key, test_id, CASE WHEN g = 0 THEN NULL ELSE 'goal' || g END AS goal_key,
               'Goal ' || g AS goal_name, g = 0 AS is_primary_goal, CAST(v AS VARCHAR) AS variant_id, v = 0 AS is_control,
               DATE '{START}' + CAST(d AS INTEGER) AS result_date, 'live' AS status, 't' || test_id AS test_name,
               'v' || v AS variant_name, 1.0 / {variants} AS traffic_weight, false AS is_mab,
               CAST(NULL AS DOUBLE) AS confidence_threshold_percent, CAST(NULL AS VARCHAR) AS stats_engine,
               CAST(NULL AS DOUBLE) AS revenue, daily_visitors AS day_visitors,
               CAST(round(daily_visitors * rate) AS BIGINT) AS day_conversions,
               daily_visitors * (d + 1) AS cum_visitors, CAST(round(daily_visitors * rate * (d + 1)) AS BIGINT) AS cum_conversions
        FROM arms, range({days}) y(d)
    """)
    con.execute("""
        CREATE TABLE configuration AS
        SELECT DISTINCT project_key, DATE '2025-01-01' AS config_date,
               CASE WHEN hash(project_key) % 2 = 0 THEN 'bayesian' ELSE 'frequentist' END AS stats_engine,
               1 + CAST(hash(project_key) % 2 AS INTEGER) AS tails, 95.0 AS confidence_threshold_percent
        FROM results
    """)


def _cumulative(con, day: date):
    return con.execute(
        """
        SELECT * EXCLUDE (day_visitors, day_conversions, cum_visitors, cum_conversions),
               cum_visitors AS visitors, cum_conversions AS conversions
        FROM results WHERE result_date = ?""",
        [day],
    ).df()


def _daily(con, first: date, last: date):
    return con.execute(
        """
        SELECT * EXCLUDE (day_visitors, day_conversions, cum_visitors, cum_conversions),
               day_visitors AS visitors, day_conversions AS conversions
        FROM results WHERE result_date BETWEEN ? AND ?""",
        [first, last],
    ).df()


def _best(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def run(
    projects: int = 200,
    experiments: int = 50,
    goals: int = 3,
    variants: int = 3,
    history_days: int = 365,
    repeats: int = 3,
    workdir: Path | None = None,
    sequential_tuning: float = DEFAULT_TUNING,
) -> list[Figure]:
    with contextlib.ExitStack() as stack:
        root = Path(workdir) if workdir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        root.mkdir(parents=True, exist_ok=True)
        con = stack.enter_context(contextlib.closing(duckdb.connect(str(root / "scorecard-bench.duckdb"))))
        con.execute("SET enable_progress_bar = false; DROP TABLE IF EXISTS results; DROP TABLE IF EXISTS configuration")
        _generate(con, projects, experiments, goals, variants, history_days)
        last = START + timedelta(days=history_days - 1)
        week = last - timedelta(days=6)
        configuration = con.execute("SELECT * FROM configuration").df()

        read_s, (cumulative, daily) = _best(lambda: (_cumulative(con, last), _daily(con, week, last)), repeats)
        card_s, card = _best(
            lambda: scorecard(cumulative, configuration, daily, sequential_tuning=sequential_tuning), repeats
        )

        def one_day():
            cum, day_rows = _cumulative(con, last), _daily(con, week, last)
            return scorecard_daily(cum, configuration, day_rows, days=[last], sequential_tuning=sequential_tuning)

        day_s, history_day = _best(one_day, repeats)
        if len(card) != len(cumulative) or len(history_day) != len(cumulative):
            raise RuntimeError(
                f"{len(cumulative)} rows in, {len(card)} scored and {len(history_day)} in the history's day"
            )
        size = f"{projects} projects x {experiments} experiments x {goals} goals x {variants} arms = {len(card)} rows"
        return [
            Figure(BENCH, "scorecard", card_s, "s", f"{size}, best of {repeats}"),
            Figure(
                BENCH,
                "read the same rows from DuckDB",
                read_s,
                "s",
                "cumulative rows of the day and a week of day rows",
            ),
            Figure(BENCH, "scorecard / read", card_s / read_s, "x"),
            Figure(
                BENCH,
                "daily mart: one day's incremental build",
                day_s,
                "s",
                f"read + score the last of {history_days} days of history, best of {repeats}",
            ),
            Figure(BENCH, "daily mart day / read", day_s / read_s, "x"),
        ]


if __name__ == "__main__":
    for figure in run(projects=20, history_days=30, repeats=1):
        print(figure)
