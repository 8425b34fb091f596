"""A sandbox server of its own for the sandbox's specifications."""

from __future__ import annotations

import httpx
import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def server():
    with SandboxServer(SandboxConfig(seed=9, projects=2, experiments_per_project=8, events_per_project=30)) as running:
        yield running


@pytest.fixture
def http(server):
    """A plain HTTP client carrying the sandbox's key: what a test sends is exactly what goes over the socket."""
    server.faults.clear()
    server.requests.clear()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=5) as client:
        yield client
