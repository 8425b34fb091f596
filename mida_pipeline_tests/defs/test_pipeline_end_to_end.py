"""The pipeline end to end: the CLI syncs the sandbox over a socket into the lake and the warehouse.

Numbers are checked against the sandbox's own data, never against the pipeline's output.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline_tests.conftest import run_cli

pytestmark = pytest.mark.slow

YESTERDAY = cal.latest_complete_day("UTC")
DAY = YESTERDAY - timedelta(days=3)


def warehouse(env) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True)


def results(con, day: date, window: str) -> dict:
    rows = con.execute(
        'SELECT project_key, test_id, variant_id, visitors, conversions FROM raw.mida_experiment_results '
        'WHERE date = ? AND "window" = ?', [day, window]
    ).fetchall()
    return {(pk, tid, vid): (v, c) for pk, tid, vid, v, c in rows}


def expected(sandbox, day: date, window: str) -> dict:
    """What the sandbox itself says each variant had, summed from its daily truth."""
    out = {}
    for pk in sandbox.data.project_keys:
        for exp in sandbox.data.experiments(pk):
            if exp["status"] == 9:
                continue
            created = cal.local_date(cal_parse(exp["created_at"]), "UTC")
            if created > day:
                continue
            start = day if window == "day" else created
            for variant_id in sandbox.data.variant_ids(pk, exp["test_id"]):
                counts = [sandbox.data.daily(pk, exp["test_id"], variant_id, d) for d in cal.days(start, day)]
                out[(pk, exp["test_id"], variant_id)] = (sum(c.visitors for c in counts), sum(c.conversions for c in counts))
    return out


def cal_parse(text):
    from datetime import datetime, timezone

    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00")) if "T" in str(text) else datetime.fromisoformat(f"{text}T00:00:00+00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def test_sync_one_day_lands_the_sandbox_numbers(sandbox, pipeline_env):
    run_cli(pipeline_env, "sync", "--date", DAY.isoformat())
    with warehouse(pipeline_env) as con:
        for window in ("day", "cumulative"):
            assert results(con, DAY, window) == expected(sandbox, DAY, window)
        for table in ("mida_experiments", "mida_experiment_variants", "mida_goals", "mida_events", "bss_analytics_daily"):
            assert con.execute(f"SELECT count(*) FROM raw.{table} WHERE date = ?", [DAY]).fetchone()[0] > 0, table
        # Captured three days after the day: today's state, flagged as such.
        assert con.execute("SELECT bool_and(is_late_capture) FROM raw.mida_experiments").fetchone() == (True,)


def test_rerunning_a_day_gives_identical_rows(pipeline_env):
    run_cli(pipeline_env, "sync", "--date", DAY.isoformat())
    with warehouse(pipeline_env) as con:
        first = con.execute("SELECT * EXCLUDE (captured_at) FROM raw.mida_experiment_results ORDER BY ALL").fetchall()
    run_cli(pipeline_env, "sync", "--date", DAY.isoformat())
    with warehouse(pipeline_env) as con:
        again = con.execute("SELECT * EXCLUDE (captured_at) FROM raw.mida_experiment_results ORDER BY ALL").fetchall()
    assert again == first and len(first) > 0


def test_a_thirty_day_backfill_is_one_run_per_job(pipeline_env):
    start = YESTERDAY - timedelta(days=29)
    run_cli(pipeline_env, "backfill", "--start", start.isoformat(), "--end", YESTERDAY.isoformat())
    with warehouse(pipeline_env) as con:
        days = con.execute("SELECT count(DISTINCT date) FROM raw.mida_experiment_results").fetchone()[0]
        weeks = con.execute("SELECT count(*) FROM raw.bss_analytics_weekly").fetchone()[0]
    assert days == 30 and weeks >= 4
    import os

    os.environ["DAGSTER_HOME"] = pipeline_env["DAGSTER_HOME"]
    try:
        runs = dg.DagsterInstance.get().get_runs()
    finally:
        del os.environ["DAGSTER_HOME"]
    jobs = sorted(r.job_name for r in runs)
    assert jobs == ["daily_raw", "models", "weekly_raw"]


def test_a_project_that_fails_is_named_and_the_others_land(pipeline_env, sandbox):
    env = pipeline_env | {"MIDA_PROJECT_KEYS": pipeline_env["MIDA_PROJECT_KEYS"] + ",no-such-project"}
    proc = run_cli(env, "sync", "--date", DAY.isoformat(), check=False)
    assert proc.returncode != 0
    assert "no-such-project" in proc.stderr
    with duckdb.connect() as con:
        landed = con.execute(
            f"SELECT DISTINCT project_key FROM read_parquet('{env['MIDA_LAKE_DIR']}/mida_experiments/**/*.parquet', hive_partitioning=true) ORDER BY 1"
        ).fetchall()
    assert [pk for (pk,) in landed] == sorted(sandbox.data.project_keys)


@pytest.mark.parametrize("sunday", [date(2026, 1, 4), date(2026, 4, 5)], ids=["year-boundary", "month-boundary"])
def test_weekly_partition_of_a_week_across_a_boundary(pipeline_env, sunday):
    env = pipeline_env | {"MIDA_PROJECT_KEYS": "", "MIDA_API_KEY": ""}
    run_cli(env, "sync", "--date", sunday.isoformat())
    with warehouse(env) as con:
        row = con.execute("SELECT date, period_start, period_end FROM raw.bss_analytics_weekly").fetchall()
    monday = sunday - timedelta(days=6)
    assert row == [(monday, monday, sunday)]


def test_a_day_in_a_non_utc_zone(pipeline_env):
    zone = "Pacific/Kiritimati"  # UTC+14: its yesterday can be UTC's today
    day = cal.latest_complete_day(zone) - timedelta(days=2)
    env = pipeline_env | {"MIDA_TIMEZONE": zone}
    run_cli(env, "sync", "--date", day.isoformat())
    with warehouse(env) as con:
        assert con.execute("SELECT DISTINCT date FROM raw.mida_experiment_results").fetchall() == [(day,)]
        windows = con.execute('SELECT DISTINCT window_start, window_end FROM raw.mida_experiment_results WHERE "window" = \'day\'').fetchall()
    assert windows == [(day, day)]


def test_a_day_that_has_not_closed_is_refused_in_one_line(pipeline_env):
    proc = run_cli(pipeline_env, "sync", "--date", (YESTERDAY + timedelta(days=1)).isoformat(), check=False)
    assert proc.returncode != 0 and "has not closed yet" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
