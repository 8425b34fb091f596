"""Shared fixtures: a sandbox over a real socket, and an environment that points the pipeline at it."""

from __future__ import annotations

import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.helpers import run_cli, sandbox_env

pytest_plugins = ["mida_pipeline_tests.kinds", "mida_pipeline_tests.scheduling"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """The dbt manifest the code location reads, prepared once (as `make install` does) before any test, never on
    import; a parse it needs is no test's work."""
    from mida_pipeline.defs.dbt_project import prepare_manifest

    prepare_manifest()


@pytest.fixture(scope="session")
def sandbox():
    with SandboxServer(SandboxConfig(seed=11, projects=2, experiments_per_project=5)) as server:
        yield server


@pytest.fixture
def pipeline_env(sandbox, tmp_path) -> dict[str, str]:
    """The environment of a pipeline process synced from the sandbox into tmp_path."""
    sandbox.faults.clear()
    return sandbox_env(sandbox, tmp_path)


@pytest.fixture
def cli():
    """`run_cli` for tests: `cli(env, *args, check=True)` runs the command as a user does."""
    return run_cli
