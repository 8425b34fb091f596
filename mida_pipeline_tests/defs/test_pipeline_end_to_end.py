"""The pipeline end to end: the CLI syncs the sandbox over a socket into the lake, the warehouse and the marts.

Numbers are checked against the sandbox's own data (SandboxData), never against the pipeline's output.
One history is built once for the module (a day, then a 30-day backfill over it while BI readers hold the
warehouse open) and many specifications read it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta, timezone

import dagster as dg
import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline.defs.dbt_project import KEEP_RUNS, RUNS_DIR
from mida_pipeline_tests.helpers import expected, instance_at, results, run_cli

pytestmark = pytest.mark.slow

YESTERDAY = cal.latest_complete_day("UTC")
DAY = YESTERDAY - timedelta(days=3)
START = YESTERDAY - timedelta(days=29)
RAW = [
    "mida_experiments",
    "mida_experiment_variants",
    "mida_experiment_results",
    "mida_goals",
    "mida_events",
    "bss_analytics_daily",
]
MARTS = [
    "dim_experiments",
    "dim_goals",
    "dim_events",
    "fct_experiment_variant_daily",
    "fct_experiment_scorecard",
    "fct_store_traffic_daily",
    "fct_store_traffic_weekly",
]

# A BI tool: one read-only connection held through the whole sync, and one that reconnects again and again.
READER = textwrap.dedent("""
    import os, sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    held = duckdb.connect(path, read_only=True)
    print("ready", flush=True)
    while not os.path.exists(stop):
        for con, name in ((held, "held"), (None, "fresh")):
            try:
                con = con or duckdb.connect(path, read_only=True)
                n = con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0]
                con.execute("SELECT count(*) FROM raw.mida_experiment_results").fetchone()
                print(name, n, flush=True)
                if name == "fresh":
                    con.close()
            except Exception as exc:
                print("error", name, type(exc).__name__, str(exc).splitlines()[0], flush=True)
        time.sleep(0.2)
""")


def warehouse(env) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True)


def rows_of_day(con, day: date) -> dict:
    return {
        t: con.execute(f"SELECT * EXCLUDE (captured_at) FROM raw.{t} WHERE date = ? ORDER BY ALL", [day]).fetchall()
        for t in RAW
    }


@pytest.fixture(scope="module")
def history(sandbox, tmp_path_factory):
    """Sync DAY, then backfill the 30 days up to yesterday while two reader processes hold the warehouse open."""
    root = tmp_path_factory.mktemp("history")
    (root / "dagster_home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    env.update(
        MIDA_API_KEY=sandbox.api_key,
        MIDA_PROJECT_KEYS=",".join(sandbox.data.project_keys),
        MIDA_API_BASE_URL=sandbox.mida_base_url,
        MIDA_BSS_SECRET_KEY=sandbox.bss_secret,
        MIDA_BSS_SYNC_URL=sandbox.bss_sync_url,
        MIDA_LAKE_DIR=str(root / "lake"),
        MIDA_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MIDA_START_DATE="2025-01-01",
        DAGSTER_HOME=str(root / "dagster_home"),
        MIDA_REPORT_DIR=str(root / "report"),
    )
    sandbox.faults.clear()
    run_cli(env, "sync", "--date", DAY.isoformat())
    with warehouse(env) as con:
        synced = {
            "day": results(con, DAY, "day"),
            "cumulative": results(con, DAY, "cumulative"),
            "rows": rows_of_day(con, DAY),
            "scorecard": con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0],
        }
    with instance_at(env["DAGSTER_HOME"]) as inst:
        runs_before = {r.run_id for r in inst.get_runs()}

    stop = root / "stop-readers"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, env["MIDA_DUCKDB_PATH"], str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        backfill = run_cli(env, "backfill", "--start", START.isoformat(), "--end", YESTERDAY.isoformat())
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    # Read at once: builds elsewhere (another test worker) may push these out of the last few later.
    kept_runs = [p.name for p in RUNS_DIR.iterdir() if not p.name.startswith(".")]
    with instance_at(env["DAGSTER_HOME"]) as inst:
        new_runs = [r for r in inst.get_runs() if r.run_id not in runs_before]
    yield {
        "env": env,
        "synced": synced,
        "backfill": backfill,
        "runs": new_runs,
        "kept_runs": kept_runs,
        "reads": [line.split() for line in out.splitlines()],
        "reader_exit": reader.returncode,
        "reader_err": err,
    }


def test_a_sync_publishes_the_warehouse_once(history):
    """Raw assets write the lake only; the models publish once per sync. A raw write publishes too only when it
    gave a table its first partition (here: the first closed week of the store's weekly table)."""
    with instance_at(history["env"]["DAGSTER_HOME"]) as inst:
        published = [
            e.user_message
            for r in history["runs"]
            for e in inst.all_logs(r.run_id)
            if (e.user_message or "").startswith("published ")
        ]
    by_models = [m for m in published if "first partition" not in m]
    assert len(by_models) == 1, published
    assert all(m.endswith("(first partition of bss_analytics_weekly)") for m in published if m not in by_models), (
        published
    )


def test_the_builds_leave_their_logs_in_the_last_runs_and_no_target_folder_behind(history):
    """The sync and the backfill each built the models: their dbt logs are among the last few kept, and neither
    left dbt's per-invocation folder (compiled SQL, manifest, megabytes a run) in the code's own folder."""
    runs = {r.run_id[:8] for r in history["runs"]}
    assert len(history["kept_runs"]) <= KEEP_RUNS
    assert {name.rsplit("-", 1)[1] for name in history["kept_runs"]} & runs, "the backfill's build kept no log"
    assert not [p for p in RUNS_DIR.parent.iterdir() if any(r in p.name for r in runs)]


def test_sync_one_day_lands_the_sandbox_numbers_for_the_day_and_the_cumulative_window(history, sandbox):
    for window in ("day", "cumulative"):
        assert history["synced"][window] == expected(sandbox, DAY, window)
    for table in RAW:
        assert history["synced"]["rows"][table], table


def test_a_thirty_day_backfill_is_one_run_of_the_raw_job(history):
    assert sorted(r.job_name for r in history["runs"]) == ["daily_raw", "models", "weekly_raw"]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in history["runs"])
    assert "in 3 runs" in history["backfill"].stdout
    with warehouse(history["env"]) as con:
        assert con.execute(
            "SELECT min(date), max(date), count(DISTINCT date) FROM raw.mida_experiment_results"
        ).fetchone() == (START, YESTERDAY, 30)
        assert con.execute("SELECT count(*) FROM raw.bss_analytics_weekly").fetchone()[0] >= 4


def test_after_a_backfill_the_raw_views_hold_the_sandbox_numbers(history, sandbox):
    with warehouse(history["env"]) as con:
        for day in (START, YESTERDAY):
            for window in ("day", "cumulative"):
                assert results(con, day, window) == expected(sandbox, day, window), (day, window)
        bss = con.execute(
            "SELECT total_visitors, successful_orders FROM raw.bss_analytics_daily WHERE date = ?", [START]
        ).fetchone()
    truth = sandbox.data.bss(START, START)
    assert bss == (truth["total_visitors"], truth["successful_orders"])


def test_rerunning_a_day_gives_identical_rows(history):
    with warehouse(history["env"]) as con:
        again = rows_of_day(con, DAY)
    assert again == history["synced"]["rows"]


def test_snapshots_taken_after_their_day_are_flagged_late(history):
    with warehouse(history["env"]) as con:
        flags = dict(
            con.execute(
                "SELECT date, bool_and(is_late_capture) FROM raw.mida_experiments WHERE date IN (?, ?) GROUP BY date",
                [DAY, YESTERDAY],
            ).fetchall()
        )
        goals = con.execute("SELECT bool_and(is_late_capture) FROM raw.mida_goals WHERE date = ?", [DAY]).fetchone()[0]
        captured = con.execute(
            "SELECT max(captured_at) FROM raw.mida_experiments WHERE date = ?", [YESTERDAY]
        ).fetchone()[0]
    # Captured today: three days after DAY is late, the morning after yesterday is on time (unless the backfill ran
    # past the next midnight, when it is two days after and late too).
    on_time = captured.astimezone(timezone.utc).date() <= YESTERDAY + timedelta(days=1)
    assert flags == {DAY: True, YESTERDAY: not on_time} and goals is True


def test_after_a_backfill_every_mart_is_filled(history, sandbox):
    with warehouse(history["env"]) as con:
        for mart in MARTS:
            assert con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] > 0, mart
        scored = con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0]
    # One row per goal and variant of every experiment with results.
    truth = sum(
        len(e.variant_ids) * len(sandbox.data.experiment_goals(pk, e.test_id))
        for pk in sandbox.data.project_keys
        for e in sandbox.data.experiment_records(pk)
        if e.status != 9 and e.created <= YESTERDAY
    )
    assert scored == truth


def test_a_reader_holding_the_warehouse_open_neither_blocks_nor_breaks_a_sync(history):
    reads = history["reads"]
    assert history["reader_exit"] == 0, history["reader_err"]
    assert [r for r in reads if r[0] == "error"] == []
    held = {int(n) for name, n in reads if name == "held"}
    fresh = {int(n) for name, n in reads if name == "fresh"}
    assert held and fresh
    # The held connection keeps the file it opened; new connections see the old marts or the new, never half of them.
    assert held == {history["synced"]["scorecard"]}
    with warehouse(history["env"]) as con:
        final = con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0]
    assert fresh <= {history["synced"]["scorecard"], final}


def test_a_project_that_fails_is_named_and_the_others_land(pipeline_env, sandbox):
    env = pipeline_env | {"MIDA_PROJECT_KEYS": pipeline_env["MIDA_PROJECT_KEYS"] + ",no-such-project"}
    proc = run_cli(env, "sync", "--date", DAY.isoformat(), check=False)
    assert proc.returncode != 0
    # One line per failed step, each naming the project and the endpoint's answer; in a fresh DAGSTER_HOME
    # too, where Dagster's own first-run notices would otherwise come first.
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("mida-pipeline: mida_")
    per_project = {
        "mida_events",
        "mida_experiment_results",
        "mida_experiment_timeseries",
        "mida_experiments",
        "mida_goals",
        "mida_experiment_result_segments",
        "mida_project_configuration",
    }
    assert all(line.split(":", 1)[0] in {"mida-pipeline", *per_project} for line in lines), lines
    assert all("no-such-project" in line and "404" in line for line in lines)
    with duckdb.connect() as con:
        for table in (
            "mida_experiments",
            "mida_experiment_results",
            "mida_experiment_timeseries",
            "mida_goals",
            "mida_events",
            "mida_experiment_goals",
            "mida_experiment_result_segments",
            "mida_project_configuration",
        ):
            landed = con.execute(
                f"SELECT DISTINCT project_key FROM read_parquet('{env['MIDA_LAKE_DIR']}/{table}/**/*.parquet', hive_partitioning=true) ORDER BY 1"
            ).fetchall()
            assert [pk for (pk,) in landed] == sorted(sandbox.data.project_keys), table


def test_weekly_partition_of_a_week_across_a_month_boundary(pipeline_env):
    sunday = date(2026, 4, 5)  # the week of Monday 30 March
    env = pipeline_env | {"MIDA_PROJECT_KEYS": "", "MIDA_API_KEY": ""}
    run_cli(env, "sync", "--date", sunday.isoformat())
    with warehouse(env) as con:
        row = con.execute("SELECT date, period_start, period_end FROM raw.bss_analytics_weekly").fetchall()
        assert con.execute("SELECT period_date FROM marts.fct_store_traffic_weekly").fetchall() == [
            (date(2026, 3, 30),)
        ]
    assert row == [(date(2026, 3, 30), date(2026, 3, 30), sunday)]


def test_a_day_in_a_non_utc_zone(pipeline_env, sandbox):
    zone = "Pacific/Kiritimati"  # UTC+14: its yesterday can be UTC's today
    day = cal.latest_complete_day(zone) - timedelta(days=2)
    env = pipeline_env | {"MIDA_TIMEZONE": zone}
    run_cli(env, "sync", "--date", day.isoformat())
    with warehouse(env) as con:
        assert con.execute("SELECT DISTINCT date FROM raw.mida_experiment_results").fetchall() == [(day,)]
        windows = con.execute(
            "SELECT DISTINCT window_start, window_end FROM raw.mida_experiment_results WHERE \"window\" = 'day'"
        ).fetchall()
        captured = con.execute("SELECT max(captured_at) FROM raw.mida_experiments").fetchone()[0]
    assert windows == [(day, day)]
    # Captured two days after `day` closed in Kiritimati: late there, whatever the UTC date says.
    assert cal.is_late_capture(day, captured, zone)


def test_a_day_that_has_not_closed_is_refused_in_one_line(pipeline_env):
    tomorrow = cal.latest_complete_day("UTC") + timedelta(days=2)
    proc = run_cli(pipeline_env, "sync", "--date", tomorrow.isoformat(), check=False)
    assert proc.returncode != 0 and "has not closed yet" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
