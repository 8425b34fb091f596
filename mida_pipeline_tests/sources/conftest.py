"""A sandbox of its own for the client tests, keyed with a sentinel that must never show anywhere."""

from __future__ import annotations

import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import BssClient, MidaClient, RetryPolicy

SENTINEL_KEY = "SENTINEL-KEY-1234"
SENTINEL_BSS = "SENTINEL-BSS-5678"
# Tiny backoffs and a recorded (not real) sleep: retries cost no wall-clock time.
FAST = RetryPolicy(attempts=4, server_error_attempts=2, backoff_base=0.001, backoff_cap=0.01, retry_after_cap=30.0)


@pytest.fixture(scope="session")
def world():
    """8 experiments per project (every status, a MAB, a paused variant) and 620 events (paging past 500)."""
    config = SandboxConfig(seed=5, projects=2, experiments_per_project=8, events_per_project=620)
    with SandboxServer(config, api_key=SENTINEL_KEY, bss_secret=SENTINEL_BSS) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_world(request):
    if "world" in request.fixturenames:
        server = request.getfixturevalue("world")
        server.faults.clear()
        server.requests.clear()
    yield


@pytest.fixture
def waits() -> list[float]:
    """The waits a client asked for, instead of sleeping them."""
    return []


@pytest.fixture
def mida(world, waits):
    with MidaClient(SENTINEL_KEY, base_url=world.mida_base_url, retry=FAST, timeout=5.0, sleep=waits.append) as client:
        yield client


@pytest.fixture
def bss(world, waits):
    with BssClient(SENTINEL_BSS, sync_url=world.bss_sync_url, retry=FAST, sleep=waits.append) as client:
        yield client


@pytest.fixture
def project(world) -> str:
    return world.data.project_keys[0]
