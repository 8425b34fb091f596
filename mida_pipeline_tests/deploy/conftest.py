"""A Dagster daemon (and webserver) over the pipeline's code location, as a deployment runs them.

The processes are real: `dagster-daemon run` and `dagster-webserver` on the
repository's workspace, against the sandbox, on an instance in a temporary
DAGSTER_HOME. The test process reads the same instance to see what they did.
"""

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
import pytest

from mida_pipeline.defs.dbt_project import prepare_manifest
from mida_pipeline_tests.conftest import REPO

BIN = Path(sys.executable).parent
T = TypeVar("T")

MART = dg.AssetKey(["marts", "fct_experiment_scorecard"])
RAW = dg.AssetKey("mida_experiment_results")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """The code location reads a prepared manifest; the daemon's and webserver's processes must find it."""
    return prepare_manifest()


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


@contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    # The daemon and the code server it starts would both create a new instance's storage, and collide on its
    # schema version: it is created first, once.
    instance(env).dispose()
    with process([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, log) as proc:
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


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): `apt-get install postgresql` "
            "(.ci/run does it) to run the shared-instance tests"
        )
    return found[-1].parent


def _as_owner(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: as root they run as the `postgres` system user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A throwaway PostgreSQL cluster on a free loopback port, in a folder owned by its user, removed afterwards."""
    import shutil
    import tempfile

    bin_dir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="mida-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    run = lambda *args: subprocess.run(_as_owner([str(a) for a in args]), check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(bin_dir / "initdb", "-D", data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        run(
            bin_dir / "pg_ctl",
            "-D",
            data,
            "-l",
            root / "server.log",
            "-w",
            "-t",
            "120",
            "start",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        )
        yield {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(port),
            "DAGSTER_PG_USER": PG_USER,
            "DAGSTER_PG_PASSWORD": "unused-with-trust",
            "DAGSTER_PG_DB": "postgres",
        }
    finally:
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


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
def webserver(env: dict[str, str], log: Path) -> Iterator[str]:
    """`dagster-webserver` on the workspace at a free port; yields its base URL once it answers."""
    import httpx

    port = free_port()
    args = [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
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
