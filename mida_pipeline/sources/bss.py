"""The MIDA Session Replay (BSS Commerce) analytics sync client: one POST per period.

Its response format is not published, so parsing is tolerant (top level or
under `data`, any key style, numbers as strings), and its period is checked:
data is never labelled with a period it was not for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from mida_pipeline.sources.coerce import snake_case, to_date, to_float, to_int, to_str
from mida_pipeline.sources.errors import (
    AuthError,
    InvalidInputError,
    MalformedResponseError,
    PeriodMismatchError,
    ServerError,
)
from mida_pipeline.sources.redact import register_secret
from mida_pipeline.sources.transport import AsyncTransport, RetryPolicy

DEFAULT_SYNC_URL = "https://mida-session-recording-replay.bsscommerce.com/apiv1/analytics/sync"
COUNTS = (
    "total_visitors",
    "total_sessions",
    "total_pageviews",
    "product_views",
    "add_to_cart",
    "checkout_started",
    "successful_orders",
    "abandoned_carts",
    "traffic_sources_organic",
    "traffic_sources_paid",
    "traffic_sources_referral",
    "traffic_sources_direct",
    "devices_desktop",
    "devices_mobile",
    "devices_tablet",
    "rage_clicks",
    "error_clicks",
)
KNOWN_METRICS = (*COUNTS[:8], "revenue", "currency", *COUNTS[8:])
# Keys that describe the period rather than measure anything.
PERIOD_KEYS = {
    "start_date": "start",
    "date_from": "start",
    "from": "start",
    "period_start": "start",
    "end_date": "end",
    "date_to": "end",
    "to": "end",
    "period_end": "end",
    "date": "both",
}
SKIP_KEYS = {"frequency", "status", "success", "message"}


@dataclass(frozen=True)
class BssSync:
    frequency: str
    start_date: date
    end_date: date
    period_stated: bool
    metrics: dict[str, Any]
    raw: dict = field(repr=False)


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}_{snake_case(str(key))}" if prefix else snake_case(str(key))
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


class UnreadableMetricError(ValueError):
    """A known metric is present in the body but is not a number the lake can hold."""

    def __init__(self, name: str, value: Any):
        self.name, self.value_type = name, type(value).__name__
        super().__init__(f"metric {name} is a {self.value_type} that is no whole number ({str(value)[:20]!r})")


UNREADABLE = date.min  # a period key whose value is no date: stated, but not provably the one asked for


def parse_metrics(body: dict) -> tuple[dict[str, Any], tuple[date | None, date | None] | None]:
    """Metrics as snake_case columns, and the period the body states (None when it states none)."""
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    flat = _flatten(data)
    start = end = None
    metrics: dict[str, Any] = {}
    for key, value in flat.items():
        role = PERIOD_KEYS.get(key)
        if role:
            day = to_date(value) if value not in (None, "") else None
            day = UNREADABLE if day is None and value not in (None, "") else day
            start = day if role in ("start", "both") else start
            end = day if role in ("end", "both") else end
        elif key not in SKIP_KEYS:
            metrics[key] = value
    for name in KNOWN_METRICS:  # a known metric the body lacks is unknown (null), never zero
        raw = metrics.get(name)
        metrics[name] = to_str(raw) if name == "currency" else (to_float(raw) if name == "revenue" else to_int(raw))
        if metrics[name] is None and raw not in (None, ""):
            # Present but no number (a word, a fraction of a visitor, beyond 2^62): never stored as unknown.
            raise UnreadableMetricError(name, raw)
    stated = (start, end) if start or end else None
    return metrics, stated


class BssClient:
    """POSTs the sync request with the secret in a configurable header (the vendor names it two ways).

    Asynchronous like the Mida client: use it in `async with`, or hand it to one `asyncio.run` that closes it
    (`extract.bss.extract_bss` does); plain `with` only guarantees it is closed afterwards.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        sync_url: str = DEFAULT_SYNC_URL,
        header_name: str = "x-mida-secret-key",
        timeout: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep=None,
    ):
        if not secret_key or not secret_key.strip():
            raise InvalidInputError("MIDA_BSS_SECRET_KEY is empty; set it to the app's API secret key")
        if any(c.isspace() or not c.isprintable() for c in secret_key.strip()):
            raise InvalidInputError(
                "MIDA_BSS_SECRET_KEY holds spaces or control characters; paste it again without them"
            )
        secret_key = secret_key.strip()
        # The client's base is the origin, so the request goes to the sync path exactly (no added slash).
        parts = urlsplit(sync_url)
        for value in (parts.username, parts.password, *(v for _, v in parse_qsl(parts.query))):
            register_secret(value)
        # Messages name the path alone; a query the URL carries goes out as parameters.
        self.path_shown = parts.path or "/"
        self.params = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
        extra = {"sleep": sleep} if sleep else {}
        self.http = AsyncTransport(
            "bss",
            urlunsplit((parts.scheme, parts.netloc, "", "", "")),
            headers={header_name: secret_key, "Content-Type": "application/json"},
            secrets=[secret_key],
            retry=retry,
            timeout=timeout,
            transport=transport,
            require_success=False,
            **extra,
        )

    def __repr__(self) -> str:
        return f"BssClient({self.http!r})"

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # The run that used the client closed it; one never used is closed here, on a loop of its own.
        if not self.http.client.is_closed:
            asyncio.run(self.aclose())

    async def sync(
        self, frequency: str, start: date, end: date, *, is_latest: bool, allow_unstated_period: bool = False
    ) -> BssSync:
        """The metrics for [start, end]. `is_latest`: this is the latest closed day or week (what the endpoint serves)."""
        if frequency not in ("daily", "weekly"):
            raise InvalidInputError(f"frequency must be daily or weekly, not {frequency!r}")
        body = await self.http.request_json(
            "POST",
            self.path_shown,
            params=self.params,
            json={"frequency": frequency, "start_date": start.isoformat(), "end_date": end.isoformat()},
        )
        if str(body.get("status", "")).lower() == "error" or body.get("success") is False:
            # A failure told in a 200 body: "Invalid API key" or "Sync failed" (the documented texts).
            message = str(body.get("message") or body.get("error") or "no message")[:200]
            cls = AuthError if "key" in message.lower() else ServerError
            raise cls("bss", "POST", self.path_shown, 200, message)
        try:
            metrics, stated = parse_metrics(body)
        except UnreadableMetricError as exc:
            raise MalformedResponseError(
                "bss",
                "POST",
                self.path_shown,
                200,
                detail=str(exc),
                hint="nothing was written; the sync endpoint sent a metric that is not a number, report it with the raw body",
            ) from None
        if all(metrics[name] is None for name in KNOWN_METRICS):
            raise MalformedResponseError(
                "bss",
                "POST",
                self.path_shown,
                200,
                detail=f"no known metric in a body with keys {sorted(body)[:8]}",
                hint="nothing was written; the sync endpoint's answer changed shape, report it with the raw body",
            )
        asked = f"{frequency} {start}..{end}"
        if stated is not None:
            got = (stated[0] or stated[1], stated[1] or stated[0])
            if got != (start, end):
                shown = "an unreadable period" if UNREADABLE in got else f"{got[0]}..{got[1]}"
                raise PeriodMismatchError(
                    "bss",
                    "POST",
                    self.path_shown,
                    200,
                    detail=f"served {shown} when asked for {asked}",
                    hint="nothing was written; check the app's sync frequency setting matches this asset",
                )
        elif not (is_latest or allow_unstated_period):
            raise PeriodMismatchError(
                "bss",
                "POST",
                self.path_shown,
                200,
                detail=f"the response states no period, and {asked} is not the latest closed one",
                hint="the endpoint documents only the previous day or week, so older partitions cannot be proven; "
                "set MIDA_BSS_ACCEPT_UNSTATED_PERIOD=true only if your endpoint honours the dates asked",
            )
        return BssSync(frequency, start, end, stated is not None, metrics, body)
