"""`mida-pipeline sandbox --port N` serves both APIs, as a user starts it."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from datetime import date, timedelta

import httpx

from mida_pipeline.sandbox.app import DEFAULT_API_KEY, DEFAULT_BSS_SECRET
from mida_pipeline.sources import AsyncMidaClient, BssClient, RetryPolicy
from mida_pipeline_tests.helpers import CLI, REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the sandbox exited {proc.returncode}: {proc.stderr.read()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the sandbox did not start within 60 s")


def test_the_sandbox_command_serves_both_apis():
    port = free_port()
    proc = subprocess.Popen(
        [str(CLI), "sandbox", "--port", str(port), "--projects", "2", "--experiments", "3"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base + "/_sandbox/requests", proc)
        policy = RetryPolicy(attempts=2, backoff_base=0.01)
        yesterday = date.today() - timedelta(days=1)

        async def calls():
            async with AsyncMidaClient(DEFAULT_API_KEY, base_url=f"{base}/v2", retry=policy) as mida:
                experiments = [e async for e in mida.list_experiments("shop-alpha")]
                result = await mida.get_result("shop-beta", 2001)
            async with BssClient(DEFAULT_BSS_SECRET, sync_url=f"{base}/apiv1/analytics/sync", retry=policy) as bss:
                return experiments, result, await bss.sync("daily", yesterday, yesterday, is_latest=True)

        experiments, result, sync = asyncio.run(calls())
        assert len(experiments) == 3 and result.test_id == 2001 and sync.metrics["total_visitors"] > 0
        log = httpx.get(base + "/_sandbox/requests").json()["requests"]
        assert [r["method"] for r in log] == ["GET", "GET", "POST"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"MIDA_API_BASE_URL=http://127.0.0.1:{port}/v2" in out
