"""What every benchmark shares: figures, the sandbox under load, and the environment that points the pipeline at it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer

SEED = 7


@dataclass(frozen=True)
class Figure:
    """One measured number, as it appears in the table and in RESULTS.md."""

    bench: str
    name: str
    value: float
    unit: str
    note: str = ""


@dataclass(frozen=True)
class Target:
    """A target of the form `ratio <= limit` (or >= when `at_least`), checked on figures of the same run."""

    name: str
    ratio: float
    limit: float
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.ratio >= self.limit if self.at_least else self.ratio <= self.limit


def yesterday() -> date:
    """The latest closed UTC day: the one a morning sync fetches."""
    return datetime.now(timezone.utc).date() - timedelta(days=1)


@contextmanager
def sandbox(projects: int, experiments: int, latency_ms: float) -> Iterator[SandboxServer]:
    """The sandbox on a loopback socket, every Mida call delayed by `latency_ms` like a distant API."""
    with SandboxServer(SandboxConfig(seed=SEED, projects=projects, experiments_per_project=experiments)) as server:
        set_latency(server, latency_ms)
        yield server


def set_latency(server: SandboxServer, latency_ms: float) -> None:
    """Every Mida call answered after `latency_ms` (0: at once); the sandbox has no other fault here."""
    server.faults.clear()
    if latency_ms > 0:
        server.faults.add("/v2/*", "latency", ms=latency_ms)


def count_requests(server: SandboxServer, work: Callable[[], object]) -> tuple[object, int, float]:
    """Run `work`, returning its result, the API requests the sandbox logged meanwhile, and the wall time."""
    before = len(server.requests)
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    return result, sum(1 for _, path in server.requests[before:] if path.startswith("/v2/")), elapsed


def calls_by_endpoint(requests: list[tuple[str, str]]) -> str:
    """The Mida calls of a sandbox log, by endpoint (`result` holds every goal's and every breakdown's)."""
    counts: dict[str, int] = {}
    for _, path in requests:
        if path.startswith("/v2/project/"):
            parts = path.split("/")[4:]
            kind = parts[2] if len(parts) > 2 else parts[0]
            counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def pipeline_env(server: SandboxServer, workdir, concurrency: int) -> dict[str, str]:
    """The settings a pipeline process reads, pointed at the sandbox and at `workdir` (never ./data)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_HOME"))}
    env.update(
        MIDA_API_KEY=server.api_key,
        MIDA_PROJECT_KEYS=",".join(server.data.project_keys),
        MIDA_API_BASE_URL=server.mida_base_url,
        MIDA_MAX_CONCURRENCY=str(concurrency),
        MIDA_LAKE_DIR=str(workdir / "lake"),
        MIDA_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
    )
    return env


@contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """Replace os.environ for in-process Dagster runs, then put it back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
