"""One day's extraction against the same sandbox, two ways: the pipeline and a plain sequential loop (dlt's way,
the third the benchmark compares, is in dlt_rest.py).

The pipeline's figure is its extract layer (what the Dagster assets call),
writing the day's Parquet partitions; Dagster's own cost per run is measured
by the backfill benchmark. It is measured twice: as a sync runs by default
(every experiment's secondary goals, and segments by one dimension, MIDA_BREAKDOWNS'
default), and for experiments that measure their primary goal alone with
MIDA_BREAKDOWNS empty, so the figures say what the extra calls cost, and without the timeseries, so they say
what revenue's moments cost. The primary-goal day (no timeseries either: dlt's source fetches none) is measured a
third way, extract alone: the same calls and rows with the Parquet write left out, to set against dlt's
extract step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date
from pathlib import Path
from unittest import mock

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import Figure, calls_by_endpoint, count_requests, set_latency
from mida_pipeline.config import Settings
from mida_pipeline.extract import mida as mida_extract
from mida_pipeline.extract.mida import (
    extract_experiments,
    extract_projects,
    extract_results,
    extract_segments,
    extract_snapshot,
    extract_timeseries,
)
from mida_pipeline.extract.units import now_utc
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import AsyncMidaClient
from mida_pipeline.sources.answers import RunAnswers

BENCH = "one-day extraction"
BREAKDOWNS = Settings().breakdowns  # MIDA_BREAKDOWNS' default: one dimension
PRIMARY_ONLY = "primary goal only"


class PrimaryGoalOnly(AsyncMidaClient):
    """Reads `/metrics` as every sync does, and finds no secondary goal there: the experiments of a company
    that measures each one's primary goal alone, without changing the sandbox's numbers."""

    async def get_metrics(self, *args, **kwargs):
        return dataclasses.replace(await super().get_metrics(*args, **kwargs), definitions=[])


async def _pipeline(
    server: SandboxServer,
    day: date,
    lake: Path,
    concurrency: int,
    secondary_goals: bool = True,
    breakdowns: tuple[str, ...] = BREAKDOWNS,
    timeseries: bool = True,
) -> None:
    captured = now_utc()
    keys = server.data.project_keys
    client_class = AsyncMidaClient if secondary_goals else PrimaryGoalOnly
    # One run's answers, as a sync's assets share them (defs/resources.py): the listings and `/metrics` asked once.
    async with client_class(
        server.api_key, base_url=server.mida_base_url, max_concurrency=concurrency, answers=RunAnswers()
    ) as client:
        # The snapshots first, then the day's results and segments, as a sync's asset order has them.
        outcomes = await asyncio.gather(
            extract_experiments(client, lake, keys, [day], "UTC", captured),
            *(
                extract_snapshot(client, lake, table, keys, [day], "UTC", captured)
                for table in ("mida_goals", "mida_events", "mida_project_configuration")
            ),
            extract_projects(client, lake, keys[0], [day], "UTC", captured),
        )
        outcomes += await asyncio.gather(
            extract_results(client, lake, keys, [day], "UTC", captured),
            extract_segments(client, lake, keys if breakdowns else [], [day], "UTC", captured, breakdowns),
            extract_timeseries(client, lake, keys if timeseries else [], [day], "UTC", captured),
        )
    errors = {pk: err for o in outcomes for pk, err in o.errors.items()}
    if errors:
        raise RuntimeError(f"pipeline extraction failed: {errors}")


def run_pipeline(server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float) -> list[Figure]:
    """A day as a sync extracts it by default: every goal, and segments by MIDA_BREAKDOWNS' default."""
    before = len(server.requests)
    _, requests, wall = count_requests(
        server, lambda: asyncio.run(_pipeline(server, day, workdir / "lake", concurrency))
    )
    bound = requests * latency_ms / 1000 / concurrency
    return [
        Figure(BENCH, "pipeline requests", requests, "req", calls_by_endpoint(server.requests[before:])),
        Figure(
            BENCH,
            "pipeline wall time",
            wall,
            "s",
            f"concurrency {concurrency}; secondary goals, breakdown by {', '.join(BREAKDOWNS)}",
        ),
        Figure(BENCH, "latency bound", bound, "s", "requests x latency / concurrency"),
        Figure(BENCH, "pipeline / latency bound", wall / bound if bound else float("nan"), "x"),
    ]


def run_primary_only(
    server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float
) -> list[Figure]:
    """The same day with no secondary goal on any experiment and MIDA_BREAKDOWNS empty."""
    before = len(server.requests)
    _, requests, wall = count_requests(
        server,
        lambda: asyncio.run(
            _pipeline(
                server, day, workdir / "lake", concurrency, secondary_goals=False, breakdowns=(), timeseries=False
            )
        ),
    )
    bound = requests * latency_ms / 1000 / concurrency
    return [
        Figure(BENCH, f"{PRIMARY_ONLY}: requests", requests, "req", calls_by_endpoint(server.requests[before:])),
        Figure(
            BENCH,
            f"{PRIMARY_ONLY}: wall time",
            wall,
            "s",
            f"concurrency {concurrency}; no secondary goal, MIDA_BREAKDOWNS empty",
        ),
        Figure(BENCH, f"{PRIMARY_ONLY}: latency bound", bound, "s", "requests x latency / concurrency"),
        Figure(BENCH, f"{PRIMARY_ONLY} / latency bound", wall / bound if bound else float("nan"), "x"),
    ]


def run_extract_alone(server: SandboxServer, day: date, concurrency: int) -> list[Figure]:
    """The primary-goal day's calls, their JSON and the lake rows made from it, nothing written: what dlt's
    extract step does (its calls and their items), for the pipeline."""

    def keep_rows_only(lake_dir, table, rows, **_):
        return mock.Mock(rows=len(rows))

    with mock.patch.object(mida_extract, "write_partition", keep_rows_only):
        _, requests, wall = count_requests(
            server,
            lambda: asyncio.run(
                _pipeline(
                    server,
                    day,
                    Path("/nonexistent"),
                    concurrency,
                    secondary_goals=False,
                    breakdowns=(),
                    timeseries=False,
                )
            ),
        )
    return [
        Figure(
            BENCH,
            f"{PRIMARY_ONLY}: extract alone",
            wall,
            "s",
            f"{requests} requests, rows made, no Parquet written (set against dlt's extract step)",
        )
    ]


def extra_calls(figures: list[Figure]) -> list[Figure]:
    """What secondary goals and one breakdown add to the day, from the two runs above."""
    f = {x.name: x.value for x in figures}
    full, primary = f.get("pipeline wall time"), f.get(f"{PRIMARY_ONLY}: wall time")
    if full is None or primary is None:
        return []
    return [
        Figure(
            BENCH,
            "secondary goals and breakdown: extra requests",
            f["pipeline requests"] - f[f"{PRIMARY_ONLY}: requests"],
            "req",
        ),
        Figure(
            BENCH,
            "secondary goals and breakdown: wall time ratio",
            full / primary,
            "x",
            f"x{f['pipeline requests'] / f[f'{PRIMARY_ONLY}: requests']:.2f} the requests",
        ),
    ]


WITHOUT_TIMESERIES = "without the timeseries"


def run_without_timeseries(
    server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float
) -> list[Figure]:
    """The default day without the timeseries asset: what revenue's moments add to a sync's calls and time."""
    _, requests, wall = count_requests(
        server, lambda: asyncio.run(_pipeline(server, day, workdir / "lake", concurrency, timeseries=False))
    )
    return [
        Figure(BENCH, f"{WITHOUT_TIMESERIES}: requests", requests, "req"),
        Figure(BENCH, f"{WITHOUT_TIMESERIES}: wall time", wall, "s", f"concurrency {concurrency}"),
    ]


def timeseries_cost(figures: list[Figure]) -> list[Figure]:
    """What the timeseries (one call per experiment and goal) adds to the default day, from the runs above."""
    f = {x.name: x.value for x in figures}
    full, without = f.get("pipeline wall time"), f.get(f"{WITHOUT_TIMESERIES}: wall time")
    if full is None or without is None:
        return []
    extra = f["pipeline requests"] - f[f"{WITHOUT_TIMESERIES}: requests"]
    return [
        Figure(BENCH, "timeseries: extra requests", extra, "req", f"{extra / f['pipeline requests']:.0%} of the day's"),
        Figure(BENCH, "timeseries: wall time ratio", full / without, "x", "the day with it against the day without"),
    ]


def run_floor(server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float) -> list[Figure]:
    """The same extraction with the latency switched off: the CPU cost of client and sandbox together."""
    set_latency(server, 0)
    try:
        _, requests, wall = count_requests(
            server, lambda: asyncio.run(_pipeline(server, day, workdir / "lake", concurrency))
        )
    finally:
        set_latency(server, latency_ms)
    return [
        Figure(
            BENCH,
            "pipeline wall time without latency",
            wall,
            "s",
            f"{1000 * wall / requests:.1f} ms per request: client and in-process sandbox, no waiting",
        )
    ]


def _listing(client: httpx.Client, path: str, key: str) -> list[dict]:
    items, offset = [], 0
    while True:
        page = client.get(path, params={"limit": 500, "offset": offset}).raise_for_status().json()[key]
        items += page
        offset += len(page)
        if len(page) < 500:
            return items


def sequential(server: SandboxServer, day: date, out: Path) -> int:
    """What a user writes first: one call after another on one keep-alive client, then one file."""
    bodies = []
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.mida_base_url, headers=headers, timeout=30) as client:
        for pk in server.data.project_keys:
            base = f"/project/{pk}"
            experiments = _listing(client, f"{base}/experiments", "experiments")
            bodies += [client.get(f"{base}/experiment/{e['test_id']}").raise_for_status().json() for e in experiments]
            bodies += _listing(client, f"{base}/goals", "goals") + _listing(client, f"{base}/events", "events")
            for e in experiments:
                if e["status"] == 9 or str(e["created_at"])[:10] > day.isoformat():
                    continue  # drafts, and experiments created after the day, have no results; the pipeline skips both
                for params in (
                    {"start_date": day.isoformat(), "end_date": day.isoformat()},
                    {"end_date": day.isoformat()},
                ):
                    bodies.append(
                        client.get(f"{base}/experiment/{e['test_id']}/result", params=params).raise_for_status().json()
                    )
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"raw": [json.dumps(b) for b in bodies]}), out)
    return len(bodies)


def run_sequential(server: SandboxServer, day: date, workdir: Path) -> list[Figure]:
    _, requests, wall = count_requests(
        server, lambda: sequential(server, day, workdir / "sequential" / "bodies.parquet")
    )
    return [
        Figure(BENCH, "sequential requests", requests, "req"),
        Figure(BENCH, "sequential wall time", wall, "s", "httpx, one call at a time"),
    ]
