"""Plain helpers of the deployment tests: real Dagster processes (daemon, webserver, `dagster`) over the
repository's workspace, the instance they share read from the test process, and a shared instance on PostgreSQL
configured from deploy/dagster.yaml."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dagster as dg

from mida_pipeline_tests.helpers import REPO

BIN = Path(sys.executable).parent
T = TypeVar("T")

MART = dg.AssetKey(["marts", "fct_experiment_scorecard"])
RAW = dg.AssetKey("mida_experiment_results")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T], *, timeout: float = 600, every: float = 1.0) -> T:
    """Poll until `probe` returns something truthy; the timeout only bounds a hung test, it measures nothing."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(every)


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A long-running Dagster process in its own process group, stopped (with its children) afterwards."""
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            # The whole group: a command that has exited may have left a code server of its own running.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever of the group outlived its leader (a code server waiting out its heartbeat)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


# The models' automation looks every few seconds here, not every 30 (the default): the tests wait on its ticks. It is
# read where the definitions load, so it goes to whatever process loads them.
AUTOMATION = {"MIDA_AUTOMATION_INTERVAL_SECONDS": "3"}


@contextmanager
def code_server(env: dict[str, str], log: Path) -> Iterator[Path]:
    """The code location served once, by the command of deploy/docker-compose.yaml's `code` service; yields a
    workspace file that points at it (deploy/workspace.docker.yaml with this host and port).

    The daemon and the webserver load the code location from it, as in the deployment and in `dagster dev`. Each
    started over workspace.yaml would start a code server of its own instead, and the daemon would start its own
    again every minute (it refreshes its workspace that often), loading the definitions each time.
    """
    import yaml

    # The daemon and the code server would both create a new instance's storage, and collide on its schema version:
    # it is created first, once.
    instance(env).dispose()
    port = free_port()
    command = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())["services"]["code"]["command"]
    listen = {"-h": "127.0.0.1", "-p": str(port)}
    args = [str(BIN / command[0])]
    for arg in command[1:]:
        args.append(listen.get(args[-1], arg))  # the values after -h and -p are this test's
    workspace = yaml.safe_load((DEPLOY / "workspace.docker.yaml").read_text())
    for location in workspace["load_from"]:
        location["grpc_server"].update(host="127.0.0.1", port=port)
    path = Path(env["DAGSTER_HOME"]) / "workspace.yaml"
    path.write_text(yaml.safe_dump(workspace))
    with process(args, AUTOMATION | env, log) as proc:
        # The server loads the definitions before it says it started.
        wait_for("the code server", lambda: proc.poll() is not None or "Started Dagster code" in log.read_text())
        assert proc.poll() is None, f"the code server exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        dagster(env, "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port))
        yield path


@contextmanager
def daemon(env: dict[str, str], log: Path, workspace: Path | None = None) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` over `workspace` (a `code_server`'s), or over workspace.yaml, starting its own."""
    if workspace is None:
        instance(env).dispose()  # as in code_server
        env = AUTOMATION | env
    with process([str(BIN / "dagster-daemon"), "run", "-w", str(workspace or "workspace.yaml")], env, log) as proc:
        yield proc


def dagster(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`dagster ARGS` as a user types it; fails the test with its output when it fails."""
    proc = subprocess.run([str(BIN / "dagster"), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (
        f"dagster {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def instance(env: dict[str, str]) -> dg.DagsterInstance:
    """The instance the daemon uses, read by the test process (a shared one names its database by variables)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_PG_")})
    return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])


def runs_of(inst: dg.DagsterInstance, key: dg.AssetKey) -> list[dg.DagsterRun]:
    """Every run that targets `key`, oldest first."""
    runs = inst.get_runs()
    return sorted(
        (r for r in runs if r.asset_selection and key in r.asset_selection),
        key=lambda r: inst.get_run_record_by_id(r.run_id).create_timestamp,
    )


def finished(runs: list[dg.DagsterRun]) -> bool:
    return bool(runs) and all(r.is_finished for r in runs)


def automation_ticks_after(inst: dg.DagsterInstance, after: float) -> int:
    """How many times the daemon evaluated the models' automation since `after` (epoch seconds)."""
    states = [s for s in inst.all_instigator_state() if s.name == "models_follow_raw"]
    return sum(len(inst.get_ticks(s.instigator_origin_id, s.selector_id, after=float(after))) for s in states)


def settled(inst: dg.DagsterInstance, ticks: int = 2) -> bool:
    """Every run has finished and the automation has looked again `ticks` times since the last one ended."""
    records = inst.get_run_records()
    if not records or not all(r.dagster_run.is_finished for r in records):
        return False
    last_end = max(r.end_time or 0.0 for r in records)
    return automation_ticks_after(inst, last_end) >= ticks


DEPLOY = REPO / "deploy"
PG_USER, PG_DB = "dagster", "dagster"


def _create_database(pg: dict[str, str], name: str) -> None:
    import psycopg2

    con = psycopg2.connect(host=pg["DAGSTER_PG_HOST"], port=int(pg["DAGSTER_PG_PORT"]), user=PG_USER, dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    con.close()


def shared_instance_env(pg: dict[str, str], env: dict[str, str], name: str, **overrides) -> dict[str, str]:
    """`env` on an instance configured from deploy/dagster.yaml, with a database of its own.

    The file is used as shipped except the server's port (it says 5432; the test cluster has a free one) and any
    `overrides` (a test may need run monitoring to look sooner than every two minutes).
    """
    import yaml

    _create_database(pg, name)
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    config["storage"]["postgres"]["postgres_db"]["port"] = int(pg["DAGSTER_PG_PORT"])
    for section, values in overrides.items():
        config[section] = {**config.get(section, {}), **values}
    home = Path(env["DAGSTER_HOME"])
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return env | pg | {"DAGSTER_PG_DB": name}


GRAPHQL_LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on UnauthorizedError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}
"""


@contextmanager
def webserver(env: dict[str, str], log: Path, workspace: Path | None = None) -> Iterator[str]:
    """`dagster-webserver` at a free port over `workspace` (a `code_server`'s), or over workspace.yaml, starting its
    own; yields its base URL once it answers."""
    import httpx

    port = free_port()
    args = [
        str(BIN / "dagster-webserver"),
        "-w",
        str(workspace or "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with process(args, env, log):
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(f"{url}/server_info", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the webserver", up, timeout=300)
        yield url


def launch_backfill_as_the_ui_does(url: str, assets: list[str], partitions: list[str]) -> str:
    """The mutation and parameters the UI's Materialize dialog sends for a range of partitions of an asset
    selection (LaunchAssetChoosePartitionsDialog: assetSelection, partitionNames, fromFailure, the from_ui tag)."""
    import httpx

    params = {
        "tags": [{"key": "dagster/from_ui", "value": "true"}],
        "assetSelection": [{"path": [a]} for a in assets],
        "partitionNames": partitions,
        "fromFailure": False,
    }
    answer = httpx.post(
        f"{url}/graphql", json={"query": GRAPHQL_LAUNCH_BACKFILL, "variables": {"backfillParams": params}}, timeout=120
    ).json()
    result = answer.get("data", {}).get("launchPartitionBackfill") or {}
    assert "backfillId" in result, answer
    return result["backfillId"]
