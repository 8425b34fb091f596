"""One real backfill from the sandbox, shared by the report's tests: lake, warehouse, marts and report."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline_tests.conftest import run_cli

LAST = cal.latest_complete_day("UTC")
FIRST = LAST - timedelta(days=6)  # seven days always hold one whole Monday-to-Sunday week


@pytest.fixture(scope="package")
def synced(sandbox, tmp_path_factory) -> dict[str, str]:
    """The environment of a pipeline that backfilled the last seven days; the report is in <data>/report."""
    data = tmp_path_factory.mktemp("synced")
    (data / "dagster_home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    env.update(
        MIDA_API_KEY=sandbox.api_key,
        MIDA_PROJECT_KEYS=",".join(sandbox.data.project_keys),
        MIDA_API_BASE_URL=sandbox.mida_base_url,
        MIDA_BSS_SECRET_KEY=sandbox.bss_secret,
        MIDA_BSS_SYNC_URL=sandbox.bss_sync_url,
        MIDA_LAKE_DIR=str(data / "lake"),
        MIDA_DUCKDB_PATH=str(data / "warehouse.duckdb"),
        MIDA_START_DATE="2025-01-01",
        DAGSTER_HOME=str(data / "dagster_home"),
    )
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
