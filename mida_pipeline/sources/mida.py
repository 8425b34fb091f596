"""The Mida V2 read client (async; `asyncio.run` drives it from plain code). Read-only by design: no write endpoint is described here.

Endpoints are data: adding one is an entry in ENDPOINTS, not a new function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from mida_pipeline.sources import records as r
from mida_pipeline.sources import result_records as rr
from mida_pipeline.sources.answers import RunAnswers
from mida_pipeline.sources.coerce import ShapeError
from mida_pipeline.sources.errors import InvalidInputError, MalformedResponseError
from mida_pipeline.sources.project_keys import is_project_key
from mida_pipeline.sources.transport import AsyncTransport, RetryPolicy

REGION_BASE_URLS = {"us": "https://api-us.mida.so/v2", "eu": "https://api-eu.mida.so/v2"}
AUTH_HEADERS = {
    "bearer": lambda key: {"Authorization": f"Bearer {key}"},
    "x-api-key": lambda key: {"x-api-key": key},
    "api-key": lambda key: {"api-key": key},
}
MAX_PAGE = 500


@dataclass(frozen=True)
class Endpoint:
    path: str  # under /project/{project_key}
    parse: Callable[[dict], Any]
    item_key: str | None = None  # where the item (or the page's list) sits; None: the body itself
    paged: bool = False
    # The answer describes the project as it is (a listing, a definition), not a measurement over days: a client given
    # a run's answers (sources/answers.py) asks it once a run, whichever asset asks first.
    per_run: bool = False


ENDPOINTS: dict[str, Endpoint] = {
    "experiments": Endpoint("/experiments", r.parse_experiment, "experiments", paged=True, per_run=True),
    "experiment": Endpoint("/experiment/{test_id}", r.parse_experiment_detail, "experiment", per_run=True),
    "result": Endpoint("/experiment/{test_id}/result", rr.parse_result),
    "timeseries": Endpoint("/experiment/{test_id}/timeseries", rr.parse_timeseries),
    "share_link": Endpoint("/experiment/{test_id}/share-link", r.parse_share_link),
    "goals": Endpoint("/goals", r.parse_goal, "goals", paged=True, per_run=True),
    "goal": Endpoint("/goal/{goal_profile_id}", r.parse_goal, "goal", per_run=True),
    "events": Endpoint("/events", r.parse_event, "events", paged=True, per_run=True),
    "event": Endpoint("/event/{event_id}", r.parse_event, "event", per_run=True),
    "metrics": Endpoint("/experiment/{test_id}/metrics", rr.parse_metrics, per_run=True),
    "configuration": Endpoint("/configuration", r.parse_configuration, "configuration", per_run=True),
    "projects": Endpoint("/projects", r.parse_project, "projects", paged=True, per_run=True),
}


def validate_project_key(key: str) -> str:
    if not is_project_key(key):
        shown = str(key).encode("unicode_escape").decode()[:40]
        raise InvalidInputError(
            f"{shown!r} is not a Mida project key (letters, digits, '-', '_', '.'); check MIDA_PROJECT_KEYS"
        )
    return key


def _segment(name: str, value: Any) -> str:
    """One id as one path segment: '/' and '?' encoded, and '.' or '..' (which URL parsers resolve away) too."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise InvalidInputError(f"{name} is empty; pass the id of an existing item")
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if set(text) == {"."} else encoded


def _path(endpoint: Endpoint, project_key: str, ids: dict[str, Any]) -> str:
    segments = {name: _segment(name, value) for name, value in ids.items()}
    return f"/project/{quote(validate_project_key(project_key), safe='')}" + endpoint.path.format(**segments)


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"  # an hour offset: 0, -5, 5.5
    return str(value)


def _params(**values: Any) -> dict[str, str]:
    return {k: _text(v) for k, v in values.items() if v is not None}


def _parse(name: str, path: str, body: dict) -> Any:
    endpoint = ENDPOINTS[name]
    item = body.get(endpoint.item_key) if endpoint.item_key else body
    try:
        if endpoint.paged:
            if not isinstance(item, list) or not all(isinstance(i, dict) for i in item):
                raise ShapeError(f"{endpoint.item_key} is not a list of objects")
            return [endpoint.parse(i) for i in item]
        if not isinstance(item, dict):
            raise ShapeError(f"{endpoint.item_key or 'body'} is not an object")
        return endpoint.parse(item)
    except ShapeError as exc:
        raise MalformedResponseError("mida", "GET", path, 200, detail=f"unexpected shape: {exc}") from None


class _Pager:
    """limit/offset paging until a short page; `count` is never trusted as a total."""

    def __init__(self, name: str, path: str, page_size: int, max_pages: int):
        self.name, self.path, self.limit, self.max_pages = name, path, min(page_size, MAX_PAGE), max_pages
        self.pages, self.previous = 0, None

    def params(self, offset: int, filters: dict) -> dict:
        return {**filters, "limit": str(self.limit), "offset": str(offset)}

    def take(self, body: dict) -> tuple[list, bool]:
        """The page's items and whether another page may follow."""
        self.pages += 1
        raw = body.get(ENDPOINTS[self.name].item_key)
        if raw == self.previous and raw:
            raise MalformedResponseError(
                "mida", "GET", self.path, 200, detail="the same page came back twice; the listing never ends"
            )
        self.previous = raw
        items = _parse(self.name, self.path, body)
        more = len(items) >= self.limit
        if more and self.pages >= self.max_pages:
            raise MalformedResponseError(
                "mida", "GET", self.path, 200, detail=f"more than {self.max_pages} pages; the listing never ends"
            )
        return items, more


def _transport_args(api_key: str, region: str, base_url: str | None, auth_header: str) -> tuple[str, dict]:
    if not api_key or not api_key.strip():
        raise InvalidInputError("MIDA_API_KEY is empty; set it to the key from Mida's API settings")
    if any(c.isspace() or not c.isprintable() for c in api_key.strip()):
        raise InvalidInputError("MIDA_API_KEY holds spaces or control characters; paste the key again without them")
    if auth_header not in AUTH_HEADERS:
        raise InvalidInputError(f"auth_header must be one of {sorted(AUTH_HEADERS)}")
    if base_url is None and region not in REGION_BASE_URLS:
        raise InvalidInputError(f"MIDA_REGION={region!r} is not a region; use us or eu")
    return base_url or REGION_BASE_URLS[region], AUTH_HEADERS[auth_header](api_key.strip())


def _request(path: str, params: dict[str, str]) -> tuple:
    """A GET request as the key of its answer in a run's answers."""
    return ("GET", path, tuple(sorted(params.items())))


async def _collect(items: AsyncIterator) -> list:
    return [item async for item in items]


class AsyncMidaClient:
    """Asynchronous Mida V2 reads for fan-out: at most `max_concurrency` calls in flight, pooled connections."""

    def __init__(
        self,
        api_key: str,
        *,
        region: str = "us",
        base_url: str | None = None,
        auth_header: str = "bearer",
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        page_size: int = MAX_PAGE,
        max_pages: int = 10_000,
        max_concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep=None,
        answers: RunAnswers | None = None,
    ):
        url, headers = _transport_args(api_key, region, base_url, auth_header)
        extra = {"sleep": sleep} if sleep else {}
        self.http = AsyncTransport(
            "mida",
            url,
            headers=headers,
            secrets=[api_key],
            retry=retry,
            timeout=timeout,
            transport=transport,
            max_concurrency=max_concurrency,
            **extra,
        )
        self.page_size, self.max_pages = page_size, max_pages
        self.answers = answers

    def __repr__(self) -> str:
        return f"AsyncMidaClient({self.http!r})"

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def _once(self, name: str) -> bool:
        return self.answers is not None and ENDPOINTS[name].per_run

    async def _get(self, name: str, project_key: str, params: dict | None = None, **ids) -> Any:
        path = _path(ENDPOINTS[name], project_key, ids)

        async def ask() -> Any:
            return _parse(name, path, await self.http.request_json("GET", path, params=params))

        if self._once(name):
            return await self.answers.once(_request(path, params or {}), ask)
        return await ask()

    async def _list(self, name: str, project_key: str, **filters) -> AsyncIterator:
        path = _path(ENDPOINTS[name], project_key, {})
        if self._once(name):
            # A listing asked once a run is kept whole; the listings kept so are a project's states, a few pages.
            key = _request(path, _params(**filters))
            for item in await self.answers.once(key, lambda: _collect(self._pages(name, path, filters))):
                yield item
            return
        async for item in self._pages(name, path, filters):
            yield item

    async def _pages(self, name: str, path: str, filters: dict) -> AsyncIterator:
        pager, offset, more = _Pager(name, path, self.page_size, self.max_pages), 0, True
        while more:
            items, more = pager.take(
                await self.http.request_json("GET", path, params=pager.params(offset, _params(**filters)))
            )
            for item in items:
                yield item
            offset += len(items)

    def list_experiments(self, project_key: str) -> AsyncIterator[r.Experiment]:
        return self._list("experiments", project_key)

    async def get_experiment(self, project_key: str, test_id: int) -> r.ExperimentDetail:
        return await self._get("experiment", project_key, test_id=test_id)

    async def get_result(
        self,
        project_key: str,
        test_id: int,
        *,
        start_date=None,
        end_date=None,
        tz: float | None = None,
        goal_profile_id=None,
        goal_key=None,
        report_phase=None,
        breakdown_by: str | None = None,
    ) -> rr.Result:
        """`tz` is the dashboard's hour offset (days.utc_offset_hours), never a zone name."""
        params = _params(
            start_date=start_date,
            end_date=end_date,
            tz=tz,
            goal_profile_id=goal_profile_id,
            goal_key=goal_key,
            report_phase=report_phase,
            breakdown_by=breakdown_by,
        )
        return await self._get("result", project_key, params, test_id=test_id)

    async def get_metrics(
        self, project_key: str, test_id: int, *, start_date=None, end_date=None, tz: float | None = None
    ) -> rr.Metrics:
        params = _params(start_date=start_date, end_date=end_date, tz=tz)
        return await self._get("metrics", project_key, params, test_id=test_id)

    async def get_configuration(self, project_key: str) -> r.Configuration:
        return await self._get("configuration", project_key)

    def list_projects(self, project_key: str, *, include_inactive: bool = False) -> AsyncIterator[r.Project]:
        """Every project of the company `project_key` belongs to (the key is only the auth context)."""
        return self._list("projects", project_key, include_inactive=include_inactive or None)

    async def get_timeseries(
        self,
        project_key: str,
        test_id: int,
        *,
        start_date=None,
        end_date=None,
        tz: float | None = None,
        goal_profile_id=None,
        goal_key=None,
        report_phase=None,
    ) -> rr.Timeseries:
        """One row per variant per day of the range, for a goal (default: the experiment's primary)."""
        params = _params(
            start_date=start_date,
            end_date=end_date,
            tz=tz,
            goal_profile_id=goal_profile_id,
            goal_key=goal_key,
            report_phase=report_phase,
        )
        return await self._get("timeseries", project_key, params, test_id=test_id)

    async def get_share_link(self, project_key: str, test_id: int) -> r.ShareLink:
        return await self._get("share_link", project_key, test_id=test_id)

    def list_goals(self, project_key: str) -> AsyncIterator[r.Goal]:
        return self._list("goals", project_key)

    async def get_goal(self, project_key: str, goal_profile_id) -> r.Goal:
        return await self._get("goal", project_key, goal_profile_id=goal_profile_id)

    def list_events(
        self, project_key: str, *, event_text=None, start_date=None, end_date=None
    ) -> AsyncIterator[r.Event]:
        return self._list("events", project_key, event_text=event_text, start_date=start_date, end_date=end_date)

    async def get_event(self, project_key: str, event_id) -> r.Event:
        return await self._get("event", project_key, event_id=event_id)
