"""A Dagster daemon (and webserver) over the pipeline's code location, as a deployment runs them.

The processes are real: a code server started as deploy/docker-compose.yaml
starts it, and `dagster-daemon run` and `dagster-webserver` over a workspace
that points at it (as the deployment's, and as `dagster dev` does), against the
sandbox, on an instance in a temporary DAGSTER_HOME. The test process reads the
same instance to see what they did.
The fixtures are here; the helpers the tests call are in helpers.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mida_pipeline_tests.deploy.helpers import PG_USER, free_port


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
