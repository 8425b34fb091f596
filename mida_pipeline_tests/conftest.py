"""Shared fixtures: a sandbox over a real socket, and an environment that points the pipeline at it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("mida-pipeline")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """The dbt manifest the code location reads, prepared once (as `make install` does), never on import."""
    from mida_pipeline.defs.dbt_project import prepare_manifest

    return prepare_manifest()


@pytest.fixture(scope="session")
def sandbox():
    with SandboxServer(SandboxConfig(seed=11, projects=2, experiments_per_project=5)) as server:
        yield server


def sandbox_env(sandbox, root: Path) -> dict[str, str]:
    """The environment of a pipeline process synced from `sandbox` into `root` (lake, warehouse, DAGSTER_HOME)."""
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
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
    )
    return env


@pytest.fixture
def pipeline_env(sandbox, tmp_path) -> dict[str, str]:
    """The environment of a pipeline process synced from the sandbox into tmp_path."""
    sandbox.faults.clear()
    return sandbox_env(sandbox, tmp_path)


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`mida-pipeline ARGS` in its own process, as a user runs it."""
    proc = subprocess.run([str(CLI), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"mida-pipeline {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture
def cli():
    """`run_cli` for tests: `cli(env, *args, check=True)` runs the command as a user does."""
    return run_cli
