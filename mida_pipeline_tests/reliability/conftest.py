"""The reliability suite's fixtures: one sandbox with sentinel keys, and the fault-free run every test measures
against. The helpers the tests call are in helpers.py.

Every process this suite starts is registered, so the secrets test can search all it left behind.
"""

from __future__ import annotations

import pytest

from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.reliability.helpers import (
    ARTIFACTS,
    SANDBOX,
    SENTINEL_BSS,
    SENTINEL_KEY,
    Baseline,
    KeepQuery,
    QueryFaultBook,
    lake_rows,
    make_env,
    marts,
    sync,
)


@pytest.fixture(scope="session", autouse=True)
def _artifacts(request, tmp_path_factory):
    """The folder where this run's processes are registered: the run's own temporary root, which every xdist
    worker's folder sits in."""
    base = tmp_path_factory.getbasetemp()
    ARTIFACTS.folder = (base.parent if hasattr(request.config, "workerinput") else base) / "reliability-artifacts"
    ARTIFACTS.folder.mkdir(exist_ok=True)


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    if ARTIFACTS.folder is not None:
        ARTIFACTS.ended(nodeid)


@pytest.fixture(scope="session")
def rel_sandbox():
    """Three active projects of two experiments (and one paused): every endpoint is called for every project,
    and little else."""
    server = SandboxServer(SANDBOX, api_key=SENTINEL_KEY, bss_secret=SENTINEL_BSS)
    server.app.add_middleware(KeepQuery)  # outermost: the query is known before the sandbox takes a fault
    server.app.state.faults = QueryFaultBook()
    with server:
        yield server


@pytest.fixture(scope="session")
def baseline(rel_sandbox, tmp_path_factory) -> Baseline:
    """One fault-free sync of DAY: what every faulted, crashed or concurrent run must end identical to."""
    root = tmp_path_factory.mktemp("baseline")
    rel_sandbox.faults.clear()
    sync(make_env(rel_sandbox, root))
    return Baseline(root, lake_rows(root / "lake"), marts(root / "warehouse.duckdb"))
