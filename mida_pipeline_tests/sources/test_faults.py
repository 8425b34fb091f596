"""Every sandbox fault against the real client over a socket: a passing fault ends in the right data,
a lasting one in the right error class with one line naming method, path and status."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from mida_pipeline.sources import (
    AsyncMidaClient,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnreachableError,
)

GOALS = "*/goals"


def listing(world, project):
    return [str(g["goal_profile_id"]) for g in world.data.goals(project)]


def one_line(exc: Exception, project: str, status) -> str:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(f"MIDA GET /project/{project}/goals failed: {status}"), message
    assert " - " in message  # ... followed by what to do
    return message


@pytest.mark.parametrize(
    "kind, params",
    [
        ("latency", {"ms": 30}),
        ("status", {"status": 429, "retry_after": 1}),
        ("status", {"status": 502}),
        ("status", {"status": 503}),
        ("status", {"status": 504}),
        ("status", {"status": 500}),
        ("reset", {}),
        ("html", {"status": 502}),
        ("html", {"status": 503}),
    ],
)
def test_a_passing_fault_is_retried_into_the_right_data(mida, world, project, kind, params, waits):
    world.faults.add(GOALS, kind, times=1, **params)
    assert [g.goal_profile_id for g in mida.list_goals(project)] == listing(world, project)
    assert len(world.requests) == (1 if kind == "latency" else 2)
    assert len(waits) == (0 if kind == "latency" else 1)


def test_a_read_timeout_is_retried_into_the_right_data(world, project, waits, open_mida):
    world.faults.add(GOALS, "timeout", times=1, seconds=1.5)
    with open_mida(timeout=0.3) as client:
        assert [g.goal_profile_id for g in client.list_goals(project)] == listing(world, project)
    assert len(world.requests) == 2


def test_retry_after_seconds_from_the_server_are_waited(mida, world, project, waits):
    world.faults.add(GOALS, "status", times=2, status=429, retry_after=3)
    assert list(mida.list_goals(project))
    assert waits == [3.0, 3.0]


def test_retry_after_as_a_date_from_the_server_is_waited(mida, world, project, waits):
    at = datetime.fromtimestamp(int(time.time()) + 12, timezone.utc)
    world.faults.add(GOALS, "status", times=1, status=503, retry_after_date=format_datetime(at, usegmt=True))
    assert list(mida.list_goals(project))
    assert len(waits) == 1 and 8 < waits[0] <= 12


def test_a_retry_after_beyond_the_cap_waits_only_the_cap(mida, world, project, waits, retry):
    world.faults.add(GOALS, "status", times=1, status=429, retry_after=86400)
    assert list(mida.list_goals(project))
    assert waits == [retry.retry_after_cap]


@pytest.mark.parametrize(
    "kind, params, cls, status, said",
    [
        (
            "status",
            {"status": 429, "retry_after": 1, "message": "Rate limit exceeded"},
            RateLimitedError,
            429,
            '"Rate limit exceeded"',
        ),
        ("status", {"status": 503}, ServerError, 503, '"Sandbox fault 503"'),
        ("status", {"status": 502}, ServerError, 502, '"Sandbox fault 502"'),
        ("status", {"status": 504}, ServerError, 504, '"Sandbox fault 504"'),
        ("status", {"status": 500, "message": "Internal error"}, ServerError, 500, '"Internal error"'),
        ("html", {"status": 502}, ServerError, 502, '"an HTML error page"'),
        ("html", {"status": 200}, MalformedResponseError, 200, "an HTML page instead of JSON"),
        ("truncated", {}, MalformedResponseError, 200, "a body that is not JSON or is cut short"),
        (
            "success_false",
            {"message": "Quota exceeded"},
            MalformedResponseError,
            200,
            '"Quota exceeded" success is false',
        ),
        ("wrong_shape", {}, MalformedResponseError, 200, "unexpected shape: goals is not a list of objects"),
        ("status", {"status": 400, "message": "Invalid limit"}, BadRequestError, 400, '"Invalid limit"'),
        ("status", {"status": 406, "message": "Not acceptable"}, BadRequestError, 406, '"Not acceptable"'),
        ("status", {"status": 404, "message": "Project not found"}, NotFoundError, 404, '"Project not found"'),
    ],
)
def test_a_lasting_fault_ends_in_its_error_class_with_one_clear_line(
    mida, world, project, waits, kind, params, cls, status, said, retry
):
    world.faults.add(GOALS, kind, **params)
    with pytest.raises(cls) as caught:
        list(mida.list_goals(project))
    message = one_line(caught.value, project, status)
    assert said in message
    retried = {
        429: retry.attempts,
        502: retry.attempts,
        503: retry.attempts,
        504: retry.attempts,
        500: retry.server_error_attempts,
    }
    assert len(world.requests) == (retried.get(status, 1) if kind != "html" or status != 200 else 1)


def test_a_connection_reset_every_time_ends_unreachable(mida, world, project, retry):
    world.faults.add(GOALS, "reset")
    with pytest.raises(UnreachableError) as caught:
        list(mida.list_goals(project))
    message = str(caught.value)
    assert message.startswith(
        f"MIDA GET /project/{project}/goals failed: connection failed (RemoteProtocolError) after 4 tries"
    )
    assert message.endswith("check the network and MIDA_API_BASE_URL") and len(world.requests) == retry.attempts


def test_a_server_that_never_answers_in_time_ends_unreachable(world, project, waits, open_mida):
    world.faults.add(GOALS, "timeout", seconds=1.5)
    with open_mida(timeout=0.2) as client:
        with pytest.raises(UnreachableError, match=r"goals failed: no answer in time \(ReadTimeout\) after 4 tries"):
            list(client.list_goals(project))


def test_endless_pages_end_in_the_page_guard(mida, world, project):
    world.faults.add(GOALS, "endless")
    with pytest.raises(MalformedResponseError) as caught:
        list(mida.list_goals(project))
    assert "the listing never ends" in one_line(caught.value, project, 200)


def test_a_closed_port_ends_unreachable(waits, open_mida, retry):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open_mida(base_url=f"http://127.0.0.1:{port}/v2") as client:
        with pytest.raises(UnreachableError, match=r"connection failed \(ConnectError\) after 4 tries"):
            client.get_experiment("shop-alpha", 1)
    assert len(waits) == retry.attempts - 1


def test_faults_on_other_routes_leave_a_route_alone(mida, world, project):
    world.faults.add("*/events", "status", status=500)
    assert [g.goal_profile_id for g in mida.list_goals(project)] == listing(world, project)


def test_the_async_client_rides_out_the_same_faults(world, project, retry):
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    world.faults.add("*/result", "status", times=1, status=429, retry_after=5)
    world.faults.add("*/goals", "reset", times=1)
    world.faults.add("*/events", "status", status=404, message="Project not found")

    async def run():
        async with AsyncMidaClient(
            world.api_key, base_url=world.mida_base_url, retry=retry, sleep=fake_sleep
        ) as client:
            result = await client.get_result(project, 1001)
            goals = [g.goal_profile_id async for g in client.list_goals(project)]
            try:
                [e async for e in client.list_events(project)]
            except NotFoundError as exc:
                return result, goals, exc

    result, goals, error = asyncio.run(run())
    assert result.test_id == 1001 and goals == listing(world, project)
    assert slept[0] == 5.0 and len(slept) == 2
    assert str(error).startswith(f'MIDA GET /project/{project}/events failed: 404 "Project not found"')
