"""The HTTP layer both clients share: timeouts, retries with backoff, and one error family.

One asynchronous transport serves every caller; plain code (doctor, the BSS
extract) drives it through `asyncio.run`.

What is retried: connection and read failures (including a dropped
connection), 429, 502, 503 and 504 up to `attempts` tries, and a plain 500 a
bounded few times. A Retry-After (seconds or an HTTP date) is honoured up to a
cap; otherwise backoff is exponential with full jitter, so many tasks never
retry in lockstep. Calls in flight are bounded and, after a 429, the whole
host is paused until the Retry-After moment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from mida_pipeline.sources import errors as e
from mida_pipeline.sources.pool import use_pipeline_pool
from mida_pipeline.sources.redact import redact, register_secret


def _spare_sniffio_lookups() -> None:
    """httpcore tries `import sniffio` on every async request; absent, each try rescans sys.path (about a third of
    a millisecond). A None entry makes the failure immediate. Done when an async transport is made, not on import."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules.setdefault("sniffio", None)


log = logging.getLogger(__name__)
RETRY_STATUSES = {429, 502, 503, 504}
MAX_BODY_BYTES = 64 * 1024 * 1024  # the largest documented page (500 items) is well under a megabyte
RETRY_EXCEPTIONS = (httpx.TransportError,)  # connect/read errors, timeouts, dropped connections


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    server_error_attempts: int = 3  # a plain 500 is usually a bug, not load: try it only a few times
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0


def retry_after_seconds(value: str | None, cap: float) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # HTTP dates are GMT; a zone-less one must not be read as local time
            moment = moment.replace(tzinfo=timezone.utc)
        seconds = moment.timestamp() - time.time()
    return max(0.0, min(seconds, cap))


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    return random.uniform(0, min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1)))


def _api_message(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        text = body.get("error") or body.get("message")
        return str(text)[:200] if text else None
    return None


class _Core:
    """Everything but the I/O: URLs, retry decisions, errors, body checks."""

    def __init__(
        self,
        api: str,
        base_url: str,
        headers: dict[str, str],
        secrets: list[str | None],
        retry: RetryPolicy,
        require_success: bool,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise e.InvalidInputError(
                f"{e.URL_VARIABLE.get(api, 'the URL')}={redact(base_url)!r} is not an http(s) URL"
            )
        # Userinfo and query may hold credentials someone pasted into the URL: both count as secrets.
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        for secret in [*secrets, parts.username, parts.password, *self.query.values()]:
            register_secret(secret)
        # Userinfo is dropped (never sent, never logged); the query goes out as default parameters, since httpx
        # would otherwise glue each request path onto it.
        self.base_url = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path.rstrip("/"), "", ""))
        self.api, self.headers, self.retry, self.require_success = api, headers, retry, require_success
        # Answers are read in chunks up to this size, so a runaway body fails in one line instead of exhausting memory.
        self.max_body_bytes = MAX_BODY_BYTES

    def __repr__(self) -> str:
        return f"<{self.api} transport {redact(self.base_url)}>"

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before trying again, or None when this outcome is final."""
        if response is None:
            return _backoff(self.retry, attempt) if attempt < self.retry.attempts else None
        status = response.status_code
        limit = self.retry.server_error_attempts if status == 500 else self.retry.attempts
        if (status in RETRY_STATUSES or status == 500) and attempt < limit:
            hinted = retry_after_seconds(response.headers.get("retry-after"), self.retry.retry_after_cap)
            return hinted if hinted is not None else _backoff(self.retry, attempt)
        return None

    def failure(self, method: str, path: str, response: httpx.Response | None, exc: Exception | None) -> e.SourceError:
        if response is None:
            what = "no answer in time" if isinstance(exc, httpx.TimeoutException) else "connection failed"
            return e.UnreachableError(
                self.api, method, path, detail=f"{what} ({type(exc).__name__}) after {self.retry.attempts} tries"
            )
        status, message = response.status_code, _api_message(response)
        cls = {
            401: e.AuthError,
            403: e.AuthError,
            404: e.NotFoundError,
            400: e.BadRequestError,
            406: e.BadRequestError,
            429: e.RateLimitedError,
        }.get(status)
        if cls is None:
            cls = e.ServerError if status >= 500 else e.BadRequestError
        if message is None and "html" in response.headers.get("content-type", ""):
            message = "an HTML error page"
        if 300 <= status < 400:  # redirects are not followed: a moved API is a wrong URL, not a bad request
            return cls(
                self.api,
                method,
                path,
                status,
                message,
                detail="a redirect",
                hint=f"check {e.URL_VARIABLE.get(self.api, 'the URL')} (scheme, host and path)",
            )
        return cls(self.api, method, path, status, message)

    def too_large(self, method: str, path: str, response: httpx.Response) -> e.MalformedResponseError:
        return e.MalformedResponseError(
            self.api,
            method,
            path,
            response.status_code,
            detail=f"a body over {self.max_body_bytes:,} bytes",
            hint="nothing was written; the answer is far larger than any the API documents, report it",
        )

    def declared_too_large(self, response: httpx.Response) -> bool:
        declared = response.headers.get("content-length", "")
        return declared.isdigit() and int(declared) > self.max_body_bytes

    def whole(self, response: httpx.Response, chunks: list[bytes]) -> httpx.Response:
        """The streamed answer as an ordinary response (its chunks are already decoded)."""
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
        ]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=response.request)

    def body(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        bad = lambda detail: e.MalformedResponseError(self.api, method, path, response.status_code, detail=detail)  # noqa: E731
        text = response.text
        if text.lstrip().startswith("<"):
            raise bad("an HTML page instead of JSON")
        try:
            data = json.loads(text)
        except ValueError:
            raise bad(f"a body that is not JSON or is cut short ({len(text)} bytes)") from None
        if not isinstance(data, dict):
            raise bad(f"a JSON {type(data).__name__} instead of an object")
        if self.require_success and data.get("success") is not True:
            message = data.get("error") or data.get("message")
            raise e.MalformedResponseError(
                self.api,
                method,
                path,
                response.status_code,
                str(message)[:200] if message else None,
                detail="success is " + ("false" if "success" in data else "missing"),
            )
        return data


def _client_kwargs(core: _Core, timeout: float, transport, max_connections: int) -> dict:
    kwargs = dict(
        base_url=core.base_url,
        headers=core.headers,
        params=core.query,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False,
    )
    if transport is not None:
        kwargs["transport"] = transport
    return kwargs


class AsyncTransport:
    """Asynchronous JSON over HTTP with retries, a bound on calls in flight, and a shared pause after 429."""

    def __init__(
        self,
        api: str,
        base_url: str,
        *,
        headers: dict[str, str],
        secrets: list[str | None],
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        require_success: bool = True,
        max_concurrency: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        _spare_sniffio_lookups()
        self.core = _Core(api, base_url, headers, secrets, retry, require_success)
        self.sleep = sleep
        self.client = httpx.AsyncClient(**_client_kwargs(self.core, timeout, transport, max_concurrency))
        if transport is None:  # a transport given (the tests' mock, a benchmark's stock one) is used as it is
            use_pipeline_pool(self.client)
        self.gate = asyncio.Semaphore(max_concurrency)
        self.resume_at = 0.0  # monotonic moment before which nobody calls this host

    def __repr__(self) -> str:
        return repr(self.core)

    async def request_json(
        self, method: str, path: str, *, params: dict | None = None, json: dict | None = None
    ) -> dict:
        attempt, honoured = 0, 0.0  # honoured: the pause this task has already waited out itself
        while True:
            attempt += 1
            response, exc = None, None
            async with self.gate:
                if self.resume_at > honoured:
                    pause = self.resume_at - time.monotonic()
                    if pause > 0:
                        # Spread the held-back tasks a little, so they do not all hit the host in the same instant.
                        await self.sleep(pause + random.uniform(0, min(0.25, pause / 10)))
                try:
                    response = await self._send(method, path, params, json)
                    if response.is_success:
                        return self.core.body(method, path, response)
                except RETRY_EXCEPTIONS as caught:
                    exc = caught
            wait = self.core.delay(attempt, response)
            if wait is None:
                raise self.core.failure(method, path, response, exc) from None
            if response is not None and response.status_code == 429:
                # The host asked everyone to slow down: hold back every task, not just this one.
                honoured = time.monotonic() + wait
                self.resume_at = max(self.resume_at, honoured)
            log.info("%s %s %s: retry %d in %.2fs", self.core.api, method, path, attempt, wait)
            await self.sleep(wait)
            if self.resume_at and self.resume_at <= honoured:
                self.resume_at = 0.0  # the pause this task asked for is over (also when time is simulated)

    async def _send(self, method: str, path: str, params: dict | None, json: dict | None) -> httpx.Response:
        streamed = await self.client.send(
            self.client.build_request(method, path, params=params, json=json), stream=True
        )
        try:
            if self.core.declared_too_large(streamed):
                raise self.core.too_large(method, path, streamed)
            chunks, size = [], 0
            async for chunk in streamed.aiter_bytes():
                size += len(chunk)
                if size > self.core.max_body_bytes:
                    raise self.core.too_large(method, path, streamed)
                chunks.append(chunk)
        finally:
            await streamed.aclose()
        return self.core.whole(streamed, chunks)

    async def aclose(self) -> None:
        await self.client.aclose()
