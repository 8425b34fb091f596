"""Retry decisions, Retry-After, and the error family, specified against scripted answers (httpx.MockTransport).

Each call runs on an event loop of its own (`asyncio.run`): a scripted transport holds no connection between calls.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from mida_pipeline.sources import (
    AuthError,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    UnreachableError,
)
from mida_pipeline.sources.transport import AsyncTransport, retry_after_seconds

POLICY = RetryPolicy(attempts=4, server_error_attempts=2, backoff_base=0.1, backoff_cap=0.3, retry_after_cap=30.0)
OK = {"success": True, "experiments": []}


def scripted(*answers):
    """A transport that gives each answer in turn (a Response, or an exception to raise), and records the calls."""
    calls: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), calls


class Calls:
    """The transport called from a plain test: each request runs to its end."""

    def __init__(self, transport: AsyncTransport):
        self.transport, self.core = transport, transport.core

    def __repr__(self) -> str:
        return repr(self.transport)

    def request_json(self, *args, **kwargs) -> dict:
        return asyncio.run(self.transport.request_json(*args, **kwargs))


def transport(mock, waits, policy=POLICY, base_url="https://api.test/v2", **kwargs) -> Calls:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return Calls(
        AsyncTransport("mida", base_url, headers={}, secrets=[], retry=policy, transport=mock, sleep=sleep, **kwargs)
    )


def fail(status, body=None, headers=None, **kw) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {"error": f"boom {status}"}, headers=headers, **kw)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_slow_down_statuses_are_retried_until_success(status):
    waits: list[float] = []
    mock, calls = scripted(fail(status), fail(status), httpx.Response(200, json=OK))
    assert transport(mock, waits).request_json("GET", "/x") == OK
    assert len(calls) == 3 and len(waits) == 2


def test_backoff_is_exponential_with_jitter_and_capped():
    waits: list[float] = []
    mock, _ = scripted(fail(502))
    with pytest.raises(ServerError):
        transport(mock, waits).request_json("GET", "/x")
    bounds = [0.1, 0.2, 0.3]  # base * 2**(n-1), capped at 0.3
    assert len(waits) == 3 and all(0 <= w <= b for w, b in zip(waits, bounds, strict=True))


def test_retry_after_in_seconds_is_honoured():
    waits: list[float] = []
    mock, _ = scripted(
        fail(429, headers={"Retry-After": "7"}), fail(503, headers={"Retry-After": "2"}), httpx.Response(200, json=OK)
    )
    transport(mock, waits).request_json("GET", "/x")
    assert waits == [7.0, 2.0]


def test_retry_after_as_an_http_date_is_honoured():
    waits: list[float] = []
    at = datetime.fromtimestamp(int(time.time()) + 20, timezone.utc)
    mock, _ = scripted(
        fail(429, headers={"Retry-After": format_datetime(at, usegmt=True)}), httpx.Response(200, json=OK)
    )
    transport(mock, waits).request_json("GET", "/x")
    assert len(waits) == 1 and 15 < waits[0] <= 20


def test_retry_after_is_capped_and_never_negative():
    assert retry_after_seconds("3600", cap=30) == 30
    assert retry_after_seconds("-5", cap=30) == 0
    past = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)
    assert retry_after_seconds(past, cap=30) == 0
    far = format_datetime(datetime.now(timezone.utc) + timedelta(days=1), usegmt=True)
    assert retry_after_seconds(far, cap=30) == 30
    # A date without a zone is GMT (as HTTP dates are), not local time.
    naive = (datetime.now(timezone.utc) + timedelta(seconds=25)).strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert 20 < retry_after_seconds(naive, cap=60) <= 25
    assert retry_after_seconds("soon", cap=30) is None and retry_after_seconds(None, cap=30) is None


def test_an_unreadable_retry_after_falls_back_to_backoff():
    waits: list[float] = []
    mock, _ = scripted(fail(429, headers={"Retry-After": "whenever"}), httpx.Response(200, json=OK))
    transport(mock, waits).request_json("GET", "/x")
    assert 0 <= waits[0] <= 0.1


def test_a_plain_500_is_tried_only_a_few_times():
    waits: list[float] = []
    mock, calls = scripted(fail(500, {"error": "Internal error"}))
    with pytest.raises(ServerError) as caught:
        transport(mock, waits).request_json("GET", "/project/p/experiments")
    assert len(calls) == POLICY.server_error_attempts == 2
    assert str(caught.value).startswith('MIDA GET /project/p/experiments failed: 500 "Internal error" - ')


def test_rate_limiting_past_every_retry_is_its_own_error():
    waits: list[float] = []
    mock, calls = scripted(fail(429, {"error": "Too many requests"}, {"Retry-After": "1"}))
    with pytest.raises(RateLimitedError, match=r'GET /x failed: 429 "Too many requests" - .*MIDA_MAX_CONCURRENCY'):
        transport(mock, waits).request_json("GET", "/x")
    assert len(calls) == POLICY.attempts and waits == [1.0] * (POLICY.attempts - 1)


@pytest.mark.parametrize(
    "status, cls, hint",
    [
        (400, BadRequestError, "dates and ids"),
        (406, BadRequestError, "dates and ids"),
        (401, AuthError, "MIDA_API_KEY"),
        (403, AuthError, "MIDA_API_KEY"),
        (404, NotFoundError, "MIDA_PROJECT_KEYS"),
        (418, BadRequestError, "dates and ids"),
    ],
)
def test_client_errors_are_not_retried_and_name_what_to_do(status, cls, hint):
    waits: list[float] = []
    mock, calls = scripted(fail(status, {"error": "Experiment not found"}))
    with pytest.raises(cls) as caught:
        transport(mock, waits).request_json("GET", "/project/p/experiment/9")
    assert len(calls) == 1 and waits == []
    message = str(caught.value)
    assert message.startswith(f'MIDA GET /project/p/experiment/9 failed: {status} "Experiment not found" - ')
    assert hint in message and "\n" not in message
    assert caught.value.status == status and caught.value.api_message == "Experiment not found"


@pytest.mark.parametrize(
    "exc, said",
    [
        (httpx.ConnectError("refused"), "connection failed (ConnectError)"),
        (httpx.ReadTimeout("slow"), "no answer in time (ReadTimeout)"),
        (httpx.RemoteProtocolError("peer closed"), "connection failed (RemoteProtocolError)"),
    ],
)
def test_connection_failures_are_retried_then_unreachable(exc, said):
    waits: list[float] = []
    mock, calls = scripted(exc)
    with pytest.raises(UnreachableError) as caught:
        transport(mock, waits).request_json("GET", "/x")
    assert len(calls) == POLICY.attempts
    assert str(caught.value) == (
        f"MIDA GET /x failed: {said} after 4 tries - could not reach the API; check the network and MIDA_API_BASE_URL"
    )


def test_a_dropped_connection_then_an_answer_is_a_success():
    waits: list[float] = []
    mock, _ = scripted(httpx.ReadError("reset"), httpx.Response(200, json=OK))
    assert transport(mock, waits).request_json("GET", "/x") == OK


@pytest.mark.parametrize(
    "response, said",
    [
        (httpx.Response(200, text="<html><body>Bad gateway</body></html>"), "an HTML page instead of JSON"),
        (httpx.Response(200, text='{"success": true, "exper'), "a body that is not JSON or is cut short (24 bytes)"),
        (httpx.Response(200, json=[1, 2]), "a JSON list instead of an object"),
        (httpx.Response(200, json={"success": False, "error": "Quota"}), '"Quota" success is false'),
        (httpx.Response(200, json={"experiments": []}), "success is missing"),
    ],
)
def test_malformed_answers_are_not_retried_and_say_what_came(response, said):
    waits: list[float] = []
    mock, calls = scripted(response)
    with pytest.raises(MalformedResponseError) as caught:
        transport(mock, waits).request_json("GET", "/x")
    assert len(calls) == 1
    assert str(caught.value).startswith(f"MIDA GET /x failed: 200 {said} - ")


def test_an_html_error_page_is_named_as_such():
    waits: list[float] = []
    mock, _ = scripted(httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}))
    with pytest.raises(ServerError, match=r'GET /x failed: 502 "an HTML error page"'):
        transport(mock, waits).request_json("GET", "/x")


def test_without_success_flag_requirement_any_object_is_accepted():
    waits: list[float] = []
    mock, _ = scripted(httpx.Response(200, json={"data": {"a": 1}}))
    assert transport(mock, waits, require_success=False).request_json("POST", "/sync", json={}) == {"data": {"a": 1}}


def test_async_429_pauses_every_task_for_the_retry_after():
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds))

    mock, calls = scripted(fail(429, headers={"Retry-After": "9"}), httpx.Response(200, json=OK))

    async def run():
        t = AsyncTransport(
            "mida",
            "https://api.test/v2",
            headers={},
            secrets=[],
            retry=POLICY,
            transport=mock,
            sleep=fake_sleep,
            max_concurrency=1,
        )
        first = await t.request_json("GET", "/a")
        t.resume_at = time.monotonic() + 9  # as another task's 429 would leave it
        second = await t.request_json("GET", "/b")
        await t.aclose()
        return first, second

    assert asyncio.run(run()) == (OK, OK)
    assert slept == [9, 9]  # the 429's own wait, then the second task held back by the shared pause


def test_base_url_credentials_are_never_sent():
    mock, calls = scripted(httpx.Response(200, json=OK))
    t = transport(mock, [], base_url="https://user:pa55word@api.test/v2?token=tok-9876")
    t.request_json("GET", "/project/p/goals", params={"limit": "5"})
    sent = str(calls[0].url)
    assert sent == "https://api.test/v2/project/p/goals?token=tok-9876&limit=5"
    assert "pa55word" not in sent and "tok-9876" not in repr(t)


def test_a_redirect_is_not_followed_and_points_at_the_url_setting():
    waits: list[float] = []
    mock, calls = scripted(httpx.Response(301, headers={"Location": "https://elsewhere.test/v2"}))
    with pytest.raises(BadRequestError) as caught:
        transport(mock, waits).request_json("GET", "/x")
    assert len(calls) == 1
    assert str(caught.value) == "MIDA GET /x failed: 301 a redirect - check MIDA_API_BASE_URL (scheme, host and path)"


def test_a_body_past_the_size_limit_is_refused_in_one_line_without_retrying():
    waits: list[float] = []
    big = httpx.Response(200, json={"success": True, "goals": ["x" * 1000] * 200})  # about 200 kB
    mock, calls = scripted(big)
    t = transport(mock, waits)
    t.core.max_body_bytes = 64 * 1024
    with pytest.raises(MalformedResponseError) as failure:
        t.request_json("GET", "/project/p/goals")
    assert str(failure.value).startswith("MIDA GET /project/p/goals failed: 200 a body over 65,536 bytes")
    assert len(calls) == 1 and waits == []


def test_a_declared_length_past_the_limit_is_refused_before_reading():
    mock, _ = scripted(httpx.Response(200, headers={"content-length": str(10**12)}, content=b"{}"))
    with pytest.raises(MalformedResponseError, match="a body over"):
        transport(mock, []).request_json("GET", "/x")


def test_the_async_transport_refuses_a_body_past_the_limit_too():
    big = httpx.Response(200, json={"success": True, "goals": ["x" * 1000] * 200})
    mock, _ = scripted(big)

    async def run():
        t = AsyncTransport("mida", "https://api.test/v2", headers={}, secrets=[], retry=POLICY, transport=mock)
        t.core.max_body_bytes = 64 * 1024
        try:
            return await t.request_json("GET", "/x")
        finally:
            await t.aclose()

    with pytest.raises(MalformedResponseError, match="a body over 65,536 bytes"):
        asyncio.run(run())


def test_a_compressed_answer_is_read_decompressed():
    import gzip
    import json as jsonlib

    packed = gzip.compress(jsonlib.dumps(OK).encode())
    mock, _ = scripted(httpx.Response(200, headers={"content-encoding": "gzip"}, content=packed))
    assert transport(mock, []).request_json("GET", "/x") == OK
