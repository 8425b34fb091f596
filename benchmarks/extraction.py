"""One day's extraction against the same sandbox, two ways: the pipeline and a plain sequential loop (dlt's way,
the third the benchmark compares, is in dlt_rest.py).

The pipeline's figure is its extract layer (what the Dagster assets call),
writing the day's Parquet partitions; Dagster's own cost per run is measured
by the backfill benchmark.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import Figure, count_requests, set_latency
from mida_pipeline.extract.mida import extract_experiments, extract_results, extract_snapshot, now_utc
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import AsyncMidaClient

BENCH = "one-day extraction"


async def _pipeline(server: SandboxServer, day: date, lake: Path, concurrency: int) -> None:
    captured = now_utc()
    keys = server.data.project_keys
    async with AsyncMidaClient(server.api_key, base_url=server.mida_base_url, max_concurrency=concurrency) as client:
        # The snapshots first (results read that day's experiment list), as the asset graph orders them.
        outcomes = await asyncio.gather(
            extract_experiments(client, lake, keys, [day], "UTC", captured),
            extract_snapshot(client, lake, "mida_goals", keys, [day], "UTC", captured),
            extract_snapshot(client, lake, "mida_events", keys, [day], "UTC", captured),
        )
        outcomes.append(await extract_results(client, lake, keys, [day], "UTC", captured))
    errors = {pk: err for o in outcomes for pk, err in o.errors.items()}
    if errors:
        raise RuntimeError(f"pipeline extraction failed: {errors}")


def run_pipeline(server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float) -> list[Figure]:
    _, requests, wall = count_requests(server, lambda: asyncio.run(_pipeline(server, day, workdir / "lake", concurrency)))
    bound = requests * latency_ms / 1000 / concurrency
    return [
        Figure(BENCH, "pipeline requests", requests, "req"),
        Figure(BENCH, "pipeline wall time", wall, "s", f"concurrency {concurrency}"),
        Figure(BENCH, "latency bound", bound, "s", "requests x latency / concurrency"),
        Figure(BENCH, "pipeline / latency bound", wall / bound if bound else float("nan"), "x"),
    ]


def run_floor(server: SandboxServer, day: date, workdir: Path, concurrency: int, latency_ms: float) -> list[Figure]:
    """The same extraction with the latency switched off: the CPU cost of client and sandbox together."""
    set_latency(server, 0)
    try:
        _, requests, wall = count_requests(server, lambda: asyncio.run(_pipeline(server, day, workdir / "lake", concurrency)))
    finally:
        set_latency(server, latency_ms)
    return [Figure(BENCH, "pipeline wall time without latency", wall, "s",
                   f"{1000 * wall / requests:.1f} ms per request: client and in-process sandbox, no waiting")]


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
                for params in ({"start_date": day.isoformat(), "end_date": day.isoformat()}, {"end_date": day.isoformat()}):
                    bodies.append(client.get(f"{base}/experiment/{e['test_id']}/result", params=params).raise_for_status().json())
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"raw": [json.dumps(b) for b in bodies]}), out)
    return len(bodies)


def run_sequential(server: SandboxServer, day: date, workdir: Path) -> list[Figure]:
    _, requests, wall = count_requests(server, lambda: sequential(server, day, workdir / "sequential" / "bodies.parquet"))
    return [Figure(BENCH, "sequential requests", requests, "req"), Figure(BENCH, "sequential wall time", wall, "s", "httpx, one call at a time")]
