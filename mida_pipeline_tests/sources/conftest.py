"""A sandbox of its own for the client tests, keyed with a sentinel that must never show anywhere.

The clients are asynchronous; `Blocking` drives one from a plain test on the test's own event loop, so a test
reads as a list of calls and their answers.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import AsyncMidaClient, BssClient, RetryPolicy

SENTINEL_KEY = "SENTINEL-KEY-1234"
SENTINEL_BSS = "SENTINEL-BSS-5678"
# Tiny backoffs and a recorded (not real) sleep: retries cost no wall-clock time.
FAST = RetryPolicy(attempts=4, server_error_attempts=2, backoff_base=0.001, backoff_cap=0.01, retry_after_cap=30.0)


class Blocking:
    """An async client called from plain code: each call runs to its end on `loop`; listings stay lazy iterators."""

    def __init__(self, client, loop: asyncio.AbstractEventLoop):
        self.client, self.loop = client, loop

    def __repr__(self) -> str:
        return repr(self.client)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())

    def __getattr__(self, name):
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self.loop.run_until_complete(result)
            if hasattr(result, "__anext__"):
                return self._items(result)
            return result

        return call

    def _items(self, listing):
        while True:
            try:
                yield self.loop.run_until_complete(anext(listing))
            except StopAsyncIteration:
                return


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
def retry() -> RetryPolicy:
    """The clients' retry policy here: a few tries, tiny backoffs."""
    return FAST


@pytest.fixture
def waits() -> list[float]:
    """The waits a client asked for, instead of sleeping them."""
    return []


@pytest.fixture
def sleep(waits):
    """The clients' sleep: records the wait in `waits` and returns at once."""

    async def record(seconds: float) -> None:
        waits.append(seconds)

    return record


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture
def open_mida(world, loop, sleep, retry):
    """A Mida client on the sandbox (sentinel key, fast retries, recorded waits); keyword arguments override."""
    opened: list[Blocking] = []

    def open_(api_key: str = SENTINEL_KEY, **kwargs) -> Blocking:
        kwargs = {"base_url": world.mida_base_url, "retry": retry, "timeout": 5.0, "sleep": sleep} | kwargs
        opened.append(Blocking(AsyncMidaClient(api_key, **kwargs), loop))
        return opened[-1]

    yield open_
    for client in opened:
        client.close()


@pytest.fixture
def open_bss(world, loop, sleep, retry):
    """A BSS client on the sandbox (sentinel secret, fast retries, recorded waits); keyword arguments override."""
    opened: list[Blocking] = []

    def open_(secret_key: str = SENTINEL_BSS, **kwargs) -> Blocking:
        kwargs = {"sync_url": world.bss_sync_url, "retry": retry, "sleep": sleep} | kwargs
        opened.append(Blocking(BssClient(secret_key, **kwargs), loop))
        return opened[-1]

    yield open_
    for client in opened:
        client.close()


@pytest.fixture
def mida(open_mida):
    with open_mida() as client:
        yield client


@pytest.fixture
def bss(open_bss):
    with open_bss() as client:
        yield client


@pytest.fixture
def project(world) -> str:
    return world.data.project_keys[0]
