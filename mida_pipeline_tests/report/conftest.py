"""One real backfill from the sandbox, shared by the report's tests: lake, warehouse, marts and report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline_tests.helpers import run_cli, sandbox_env

LAST = cal.latest_complete_day("UTC")
FIRST = LAST - timedelta(days=6)  # seven days always hold one whole Monday-to-Sunday week


@pytest.fixture(scope="package")
def synced(sandbox, tmp_path_factory) -> dict[str, str]:
    """The environment of a pipeline that backfilled the last seven days; the report is in <data>/report."""
    env = sandbox_env(sandbox, tmp_path_factory.mktemp("synced"))
    sandbox.faults.clear()
    run_cli(env, "backfill", "--start", FIRST.isoformat(), "--end", LAST.isoformat())
    return env


@pytest.fixture(scope="package")
def report_dir(synced) -> Path:
    return Path(synced["MIDA_DUCKDB_PATH"]).parent / "report"


@pytest.fixture
def marts(synced):
    """A read-only connection to the published warehouse, as a BI tool opens it."""
    with duckdb.connect(synced["MIDA_DUCKDB_PATH"], read_only=True) as con:
        yield con
