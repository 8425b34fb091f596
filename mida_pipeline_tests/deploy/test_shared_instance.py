"""The shared instance of deploy/dagster.yaml, run for real: PostgreSQL storage, queued runs, pools, the daemon.

Each test gets its own database on one throwaway PostgreSQL cluster (conftest.postgres), a code server, a daemon, and
where the UI is involved a webserver, all real processes laid out as deploy/docker-compose.yaml lays them out, against
the sandbox. The schedule's test runs its daemons over the repository's workspace, so that each starts its own code
server on its own clock.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline.defs import mida_assets
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.in_flight import InFlight
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.deploy.helpers import (
    BIN,
    MART,
    automation_ticks_after,
    code_server,
    daemon,
    dagster,
    instance,
    launch_backfill_as_the_ui_does,
    process,
    runs_of,
    settled,
    shared_instance_env,
    wait_for,
    webserver,
)
from mida_pipeline_tests.helpers import run_cli, sandbox_env

# A daemon, a webserver, run workers and a command-line run each: minutes of work on two CPUs, so the bound on a hung
# test is longer than the suite's default.
pytestmark = [pytest.mark.slow, pytest.mark.dagster, pytest.mark.postgres, pytest.mark.timeout(1500)]

# The group `mida_raw`, as a user selects it in the UI.
MIDA_RAW = [key.to_user_string() for asset in mida_assets.assets for key in asset.keys]
# Recent closed days: the sandbox's experiments have results for the last weeks only.
START = cal.latest_complete_day("UTC") - timedelta(days=6)
DAYS = [(START + timedelta(days=i)).isoformat() for i in range(3)]


def backfill_runs(inst: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    return list(inst.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id})))


def backfill_done(inst: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun] | None:
    runs = backfill_runs(inst, backfill_id)
    return runs if runs and all(r.is_finished for r in runs) else None


def lake_rows(lake: Path, table: str) -> list[tuple]:
    """A table's rows as the lake holds them, without the capture time (the moment each sync ran)."""
    with duckdb.connect() as con:
        rel = con.sql(
            f"SELECT * EXCLUDE (captured_at) FROM read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning = true)"
        )
        return sorted(rel.fetchall(), key=repr)


def lake_files(lake: Path) -> set[str]:
    return {str(p.relative_to(lake)) for p in lake.rglob("*.parquet")}


def test_a_backfill_launched_as_the_ui_launches_it_is_one_run_lands_the_cli_lake_and_the_models_follow(
    postgres, sandbox, tmp_path
):
    sandbox.faults.clear()
    env = shared_instance_env(postgres, sandbox_env(sandbox, tmp_path / "ui"), "ui_backfill")
    with (
        code_server(env, tmp_path / "code.log") as workspace,
        daemon(env, tmp_path / "daemon.log", workspace),
        webserver(env, tmp_path / "webserver.log", workspace) as url,
    ):
        inst = instance(env)
        wait_for("the daemon's first automation tick", lambda: automation_ticks_after(inst, 0) >= 1)
        backfill = launch_backfill_as_the_ui_does(url, MIDA_RAW, DAYS)
        runs = wait_for("the backfill's runs", lambda: backfill_done(inst, backfill))
        # Single-run backfill policy: the whole range of all five assets is one run.
        assert [
            (
                r.status.value,
                r.tags.get("dagster/asset_partition_range_start"),
                r.tags.get("dagster/asset_partition_range_end"),
            )
            for r in runs
        ] == [("SUCCESS", DAYS[0], DAYS[-1])]
        models = wait_for("the models run that follows", lambda: settled(inst) and runs_of(inst, MART))
        assert [r.status.value for r in models] == ["SUCCESS"]
        assert type(inst.run_storage).__name__ == "PostgresRunStorage"

    cli_env = sandbox_env(sandbox, tmp_path / "cli")
    del cli_env["MIDA_BSS_SECRET_KEY"]  # the same work: the Mida tables only
    run_cli(cli_env, "backfill", "--start", DAYS[0], "--end", DAYS[-1])
    ui_lake, cli_lake = Path(env["MIDA_LAKE_DIR"]), Path(cli_env["MIDA_LAKE_DIR"])
    assert lake_files(ui_lake) == lake_files(cli_lake) and lake_files(ui_lake)
    for table in MIDA_RAW:
        assert lake_rows(ui_lake, table) == lake_rows(cli_lake, table), table
    with (
        duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as ui,
        duckdb.connect(cli_env["MIDA_DUCKDB_PATH"], read_only=True) as cli,
    ):
        query = "SELECT * FROM marts.fct_experiment_scorecard ORDER BY ALL"
        assert ui.execute(query).fetchall() == cli.execute(query).fetchall()


@pytest.fixture(scope="module")
def counted():
    """A sandbox of its own that counts the Mida calls it answers at once."""
    server = SandboxServer(SandboxConfig(seed=11, projects=2, experiments_per_project=5))
    counter = server.wrap(InFlight)  # before the server starts
    with server:
        yield server, counter


def test_two_overlapping_backfills_queue_and_the_pool_limit_holds_across_both(postgres, counted, tmp_path):
    sandbox, counter = counted
    per_step = 2
    # A little latency keeps calls overlapping, so the bound is exercised rather than never reached.
    sandbox.faults.add("/v2/*", "latency", ms=30)
    env = shared_instance_env(postgres, sandbox_env(sandbox, tmp_path), "two_backfills") | {
        "MIDA_MAX_CONCURRENCY": str(per_step)
    }
    dagster(env, "instance", "concurrency", "set", "mida_api", "1")
    with (
        code_server(env, tmp_path / "code.log") as workspace,
        daemon(env, tmp_path / "daemon.log", workspace),
        webserver(env, tmp_path / "webserver.log", workspace) as url,
    ):
        inst = instance(env)
        first = launch_backfill_as_the_ui_does(url, MIDA_RAW, DAYS)
        second = launch_backfill_as_the_ui_does(
            url, MIDA_RAW, [(START - timedelta(days=7 - i)).isoformat() for i in range(3)]
        )
        runs = [wait_for(f"backfill {b}", lambda b=b: backfill_done(inst, b)) for b in (first, second)]
    assert [[r.status.value for r in rs] for rs in runs] == [["SUCCESS"], ["SUCCESS"]]
    # One Mida step at a time across both runs, each with at most `per_step` calls in flight.
    assert 1 <= counter.peak <= 1 * per_step


def _run_worker(inst: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing the run, from the engine event that records it."""
    for record in inst.all_logs(run_id):
        message = record.message or ""
        if message.startswith("Started process for run (pid: "):
            return int(message.split("pid: ")[1].split(")")[0])
    return None


def _with_descendants(pid: int) -> list[int]:
    """`pid` and every process below it (its step processes), from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family = [pid]
    for member in family:
        family += [child for child, parent in parents.items() if parent == member]
    return family


def _step_started(inst: dg.DagsterInstance, run_id: str) -> bool:
    return any(r.dagster_event and r.dagster_event.event_type_value == "STEP_START" for r in inst.all_logs(run_id))


def test_a_killed_run_worker_is_marked_failed_and_the_re_execution_lands_the_same_data(postgres, sandbox, tmp_path):
    sandbox.faults.clear()
    sandbox.faults.add("/v2/*", "latency", ms=200)  # long enough to kill the run in the middle of its steps
    env = shared_instance_env(
        postgres,
        sandbox_env(sandbox, tmp_path / "killed"),
        "killed_worker",
        run_monitoring={"poll_interval_seconds": 5},
    )
    try:
        with (
            code_server(env, tmp_path / "code.log") as workspace,
            daemon(env, tmp_path / "daemon.log", workspace),
            webserver(env, tmp_path / "webserver.log", workspace) as url,
        ):
            inst = instance(env)
            backfill = launch_backfill_as_the_ui_does(url, ["mida_experiment_results"], DAYS)
            run = wait_for("the backfill's run", lambda: backfill_runs(inst, backfill))[0]
            wait_for("a step under way", lambda: _step_started(inst, run.run_id), every=0.2)
            worker = wait_for("the run worker", lambda: _run_worker(inst, run.run_id))
            for pid in _with_descendants(worker):
                os.kill(pid, signal.SIGKILL)
            failed = wait_for("the run marked failed", lambda: (r := inst.get_run_by_id(run.run_id)).is_finished and r)
            assert failed.status.value == "FAILURE"
            sandbox.faults.clear()
            # deploy/dagster.yaml retries a failed run once: the re-execution is Dagster's own.
            retry = wait_for(
                "the re-execution",
                lambda: [
                    r for r in inst.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": run.run_id})) if r.is_finished
                ],
            )
            assert [r.status.value for r in retry] == ["SUCCESS"]
    finally:
        sandbox.faults.clear()
    undisturbed = sandbox_env(sandbox, tmp_path / "undisturbed")
    del undisturbed["MIDA_BSS_SECRET_KEY"]
    dagster(
        undisturbed,
        "asset",
        "materialize",
        "-m",
        "mida_pipeline.definitions",
        "--select",
        "mida_experiment_results",
        "--partition-range",
        f"{DAYS[0]}...{DAYS[-1]}",
    )
    lake, reference = Path(env["MIDA_LAKE_DIR"]), Path(undisturbed["MIDA_LAKE_DIR"])
    assert lake_files(lake) == lake_files(reference)
    assert lake_rows(lake, "mida_experiment_results") == lake_rows(reference, "mida_experiment_results")


FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def at(env: dict[str, str], moment_utc: str) -> dict[str, str]:
    """`env` whose processes see the clock start at `moment_utc` and run on from there (libfaketime)."""
    if not FAKETIME.exists():
        pytest.fail(
            f"{FAKETIME} is missing: `apt-get install faketime` (.ci/run does it) to tick the schedule at a "
            "chosen moment",
            pytrace=False,
        )
    return env | {"LD_PRELOAD": str(FAKETIME), "FAKETIME": f"@{moment_utc}", "TZ": "UTC"}


def test_the_daily_schedule_ticked_by_the_daemon_launches_the_day_that_closed_in_mida_timezone(
    postgres, sandbox, tmp_path
):
    sandbox.faults.clear()
    # 01:00 on 2 March in Auckland (UTC+13) is 12:00 on 1 March in UTC: the day that closed there is 1 March, and
    # a schedule that thought in UTC would sync 28 February.
    env = shared_instance_env(postgres, sandbox_env(sandbox, tmp_path), "schedule") | {
        "MIDA_TIMEZONE": "Pacific/Auckland"
    }

    def dagster_at(moment: str | None, *args: str, log: str) -> None:
        # The command starts a code server that outlives it: its process group is ended once the command is done.
        with process(
            [str(BIN / "dagster"), *args, "-w", "workspace.yaml"], at(env, moment) if moment else env, tmp_path / log
        ) as command:
            assert command.wait(timeout=600) == 0, (tmp_path / log).read_text()[-3000:]

    dagster_at("2026-03-01 11:58:00", "schedule", "start", "daily_raw_schedule", log="schedule-start.log")
    inst = instance(env)
    # The scheduler's clock starts just after 01:00 in Auckland: its first look covers the 01:00 tick since the
    # schedule was started. libfaketime also stalls the daemon's timed waits, so the faked daemon only ticks the
    # schedule, and a daemon on the real clock runs what it queued.
    with daemon(at(env, "2026-03-01 12:00:30"), tmp_path / "daemon-at-01h.log"):
        wait_for("the scheduled run", lambda: list(inst.get_runs(dg.RunsFilter(job_name="daily_raw"))))
    dagster_at(None, "schedule", "stop", "daily_raw_schedule", log="schedule-stop.log")  # no catch-up to today
    with daemon(env, tmp_path / "daemon.log"):
        scheduled = wait_for(
            "the scheduled run to end",
            lambda: (
                (runs := list(inst.get_runs(dg.RunsFilter(job_name="daily_raw"))))
                and all(r.is_finished for r in runs)
                and runs
            ),
        )
    assert [
        (r.tags.get("dagster/schedule_name"), r.tags.get("dagster/partition"), r.status.value) for r in scheduled
    ] == [("daily_raw_schedule", "2026-03-01", "SUCCESS")]
    landed = {p.parent.name for p in Path(env["MIDA_LAKE_DIR"]).glob("mida_experiments/*/*/part.parquet")}
    assert landed == {"date=2026-03-01"}
