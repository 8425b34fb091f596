"""The client's CPU per Mida call: the pipeline's connection pool against httpx's stock one, in one run.

Both arms make the same calls (a project's configuration, a small answer, so the HTTP stack is what is measured)
through the pipeline's `AsyncTransport`, `--concurrency` in flight over as many pooled connections, against the
sandbox on a loopback socket, every call delayed `--latency-ms` like a distant API. The only difference: the stock
arm hands the transport httpx's own `AsyncHTTPTransport` (same limits), whose pool is httpcore's own: its idle check
asks AnyIO for the raw socket, and its assignment pass is quadratic (sources/pool.py). CPU is that of the thread running the client's event loop
(`time.thread_time`), so the sandbox, answering from another thread of this process, is not counted. The arms
alternate, best of `--repeats`. Run: `python -m benchmarks.http_pool` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from datetime import datetime, timezone

import httpx

from benchmarks.common import sandbox
from mida_pipeline.sources.transport import AsyncTransport


async def _calls(server, n: int, concurrency: int, stock: bool) -> tuple[float, float]:
    """Wall and client CPU seconds for n calls."""
    given = None
    if stock:
        given = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        )
    transport = AsyncTransport(
        "mida",
        server.mida_base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
        secrets=[server.api_key],
        transport=given,
        max_concurrency=concurrency,
    )
    projects = server.data.project_keys
    started, cpu = time.perf_counter(), time.thread_time()
    try:
        await asyncio.gather(
            *(transport.request_json("GET", f"/project/{projects[i % len(projects)]}/configuration") for i in range(n))
        )
    finally:
        await transport.aclose()
    return time.perf_counter() - started, time.thread_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_pool", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight and pooled connections (16)")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="delay of every Mida call (default 25)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    best: dict[str, tuple[float, float]] = {}
    with sandbox(4, 2, args.latency_ms) as server:
        asyncio.run(_calls(server, 200, args.concurrency, stock=False))  # warm: imports, the sandbox's first answers
        for _ in range(args.repeats):
            for arm, stock in (("stock", True), ("pipeline", False)):
                wall, cpu = asyncio.run(_calls(server, args.calls, args.concurrency, stock))
                if arm not in best or cpu < best[arm][1]:
                    best[arm] = (wall, cpu)
    bound = args.calls * args.latency_ms / 1000 / args.concurrency
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"httpx {httpx.__version__}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(
        f"{args.calls} calls, {args.concurrency} in flight, {args.latency_ms:g} ms each (bound {bound:.1f} s), "
        f"best of {args.repeats}\n"
    )
    print("| pool | wall | client CPU | CPU a call |\n|---|---:|---:|---:|")
    for arm in ("stock", "pipeline"):
        wall, cpu = best[arm]
        print(f"| {arm} | {wall:.2f} s | {cpu:.2f} s | {cpu / args.calls * 1000:.3f} ms |")
    print(f"\nclient CPU, pipeline / stock: {best['pipeline'][1] / best['stock'][1]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
