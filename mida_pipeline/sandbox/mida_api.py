"""The Mida V2 read endpoints: query parsing, errors and routing, the bodies coming from `mida_bodies`."""

from __future__ import annotations

import json
import math
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mida_pipeline.sandbox import segments
from mida_pipeline.sandbox.company import COMPANY_ID
from mida_pipeline.sandbox.data import Experiment, SandboxData
from mida_pipeline.sandbox.mida_bodies import (
    detail,
    distribution,
    metrics,
    result,
    timeseries,
)

__all__ = ["detail", "distribution", "error", "metrics", "result", "routes", "timeseries"]
MAX_LIMIT = 500
PHASES = ("pre_deploy", "post_deploy", "all_time")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "error": message}, status_code=status)


def _page(request: Request, items: list[dict], key: str, default_limit: int = 50) -> JSONResponse:
    try:
        limit = int(request.query_params.get("limit", default_limit))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return error(400, "limit and offset must be integers")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return error(400, f"limit must be between 1 and {MAX_LIMIT}")
    if request.app.state.faults.take(request.url.path, "endless"):
        # A broken server: every page full, the same page over and over.
        items, offset = (items * (limit // max(len(items), 1) + 1))[:limit] or [{"x": 1}] * limit, 0
    page = items[offset : offset + limit]
    return JSONResponse({"success": True, "company_id": COMPANY_ID, "count": len(page), key: page})


class BadQuery(ValueError):
    """A malformed query parameter: answered 400 with the documented error body."""


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        raise BadQuery("start_date and end_date must be YYYY-MM-DD") from None


def _tz(request: Request) -> float:
    """Documented: `tz` is the dashboard's hour offset (a number, default 0), never a zone name."""
    value = request.query_params.get("tz", "0")
    try:
        offset = float(value)
    except ValueError:
        offset = math.nan
    if not math.isfinite(offset) or not -12 <= offset <= 14:
        raise BadQuery(f"tz must be an hour offset between -12 and 14 such as 0, 2, -5 or 5.5, not {value!r}")
    return offset


def _window(request: Request) -> tuple[date | None, date | None, float, str]:
    """The query the reporting routes share: dates, tz, report_phase."""
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if start and end and start > end:
        raise BadQuery("start_date is after end_date")
    phase = request.query_params.get("report_phase", "all_time")
    if phase not in PHASES:
        raise BadQuery("report_phase must be pre_deploy, post_deploy or all_time")
    return start, end, _tz(request), phase


def _keys(value: str | None) -> list[str] | None:
    """`metric_keys` / `goal_keys`: a comma-separated string or a JSON array."""
    if not value:
        return None
    if value.lstrip().startswith("["):
        try:
            keys = json.loads(value)
        except ValueError:
            raise BadQuery("metric_keys must be a comma-separated list or a JSON array of strings") from None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise BadQuery("metric_keys must be a comma-separated list or a JSON array of strings")
        return keys
    return [k.strip() for k in value.split(",") if k.strip()]


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise BadQuery(f"{name} must be true or false")
    return value in ("true", "1")


def _answers(handler):
    """A handler whose BadQuery becomes the documented 400."""

    async def run(request: Request):
        try:
            return await handler(request)
        except BadQuery as exc:
            return error(400, str(exc))

    return run


def routes(data: SandboxData) -> list[Route]:
    def experiment_or_none(request: Request) -> Experiment | None:
        try:
            test_id = int(request.path_params["test_id"])
        except ValueError:
            return None
        return data.experiment(request.path_params["project_key"], test_id)

    def named_goal(request: Request, e: Experiment) -> dict | None:
        """The goal named by `goal_key` (preferred) or `goal_profile_id`; None when neither is given."""
        key, profile = request.query_params.get("goal_key"), request.query_params.get("goal_profile_id")
        if not (key or profile):
            return None
        goals = data.goals(e.project_key)
        found = (
            next((g for g in goals if g["goal_key"] == key), None)
            if key
            else next((g for g in goals if str(g["goal_profile_id"]) == profile), None)
        )
        if found is None:
            raise LookupError("Goal not found")
        return found

    def inactive(request: Request) -> JSONResponse | None:
        # Documented for the routes that use the key as the project's own context (projects, configuration, details).
        return None if data.is_active(request.path_params["project_key"]) else error(403, "Project is inactive")

    async def experiments(request: Request):
        return _page(request, data.experiments(request.path_params["project_key"]), "experiments")

    async def experiment(request: Request):
        e = experiment_or_none(request)
        return (
            JSONResponse({"success": True, "experiment": detail(data, e)}) if e else error(404, "Experiment not found")
        )

    async def experiment_result(request: Request):
        e = experiment_or_none(request)
        if not e:
            return error(404, "Experiment not found")
        start, end, tz, phase = _window(request)
        dimension = request.query_params.get("breakdown_by")
        if dimension is not None and dimension not in segments.DIMENSIONS:
            return error(400, f"breakdown_by must be one of {', '.join(segments.DIMENSIONS)}")
        try:
            goal = named_goal(request, e)
        except LookupError as exc:
            return error(404, str(exc))
        return JSONResponse(result(data, e, start, end, goal, phase, tz_offset=tz, breakdown_by=dimension))

    async def experiment_metrics(request: Request):
        e = experiment_or_none(request)
        if not e:
            return error(404, "Experiment not found")
        if "breakdown_by" in request.query_params:
            return error(400, "breakdown_by is not supported for metrics")
        start, end, tz, _ = _window(request)
        keys = _keys(request.query_params.get("metric_keys")) or _keys(request.query_params.get("goal_keys"))
        return JSONResponse(metrics(data, e, start, end, tz_offset=tz, keys=keys))

    async def experiment_timeseries(request: Request):
        e = experiment_or_none(request)
        if not e:
            return error(404, "Experiment not found")
        start, end, tz, _ = _window(request)
        try:
            goal = named_goal(request, e)
        except LookupError as exc:
            return error(404, str(exc))
        return JSONResponse(timeseries(data, e, start, end, goal, tz_offset=tz))

    async def experiment_distribution(request: Request):
        e = experiment_or_none(request)
        return JSONResponse(distribution(e)) if e else error(404, "Experiment not found")

    async def share_link(request: Request):
        e = experiment_or_none(request)
        if not e:
            return error(404, "Experiment not found")
        return JSONResponse(
            {
                "success": True,
                "test_id": e.test_id,
                "company_id": COMPANY_ID,
                "share_link": f"https://app.mida.so/share/{e.test_id}",
                "is_public": e.test_id % 2 == 0,
            }
        )

    async def projects(request: Request):
        refused = inactive(request)
        if refused:
            return refused
        return _page(request, data.projects(include_inactive=_flag(request, "include_inactive")), "projects", 100)

    async def project(request: Request):
        pk = request.path_params["project_key"]
        return inactive(request) or JSONResponse(
            {
                "success": True,
                "project": next(p for p in data.projects(include_inactive=True) if p["project_key"] == pk),
            }
        )

    async def configuration(request: Request):
        return inactive(request) or JSONResponse(
            {"success": True, "configuration": data.configuration(request.path_params["project_key"])}
        )

    def lookup(kind: str, id_name: str):
        async def one(request: Request):
            pk = request.path_params["project_key"]
            items = (data.goals if kind == "goals" else data.events)(pk) if data.has_project(pk) else []
            found = next((i for i in items if str(i[id_name]) == request.path_params[id_name]), None)
            if not found:
                return error(404, f"{kind[:-1].capitalize()} not found")
            return JSONResponse({"success": True, kind[:-1]: found})

        async def many(request: Request):
            pk = request.path_params["project_key"]
            items = (data.goals if kind == "goals" else data.events)(pk)
            if kind == "events":
                start, end = _date(request, "start_date"), _date(request, "end_date")
                text = request.query_params.get("event_text")
                items = [
                    i
                    for i in items
                    if (not text or i["event_text"] == text)
                    and (not start or i["created_at"][:10] >= start.isoformat())
                    and (not end or i["created_at"][:10] <= end.isoformat())
                ]
            if kind == "goals":  # the goal listing lacks the detail's status and created_at, as documented
                items = [{k: v for k, v in i.items() if k not in ("status", "created_at")} for i in items]
            return _page(request, items, kind)

        return one, many

    goal, goals = lookup("goals", "goal_profile_id")
    event, events = lookup("events", "event_id")
    base = "/v2/project/{project_key}"
    table = [
        (base, project),
        (f"{base}/projects", projects),
        (f"{base}/configuration", configuration),
        (f"{base}/experiments", experiments),
        (f"{base}/experiment/{{test_id}}", experiment),
        (f"{base}/experiment/{{test_id}}/result", experiment_result),
        (f"{base}/experiment/{{test_id}}/metrics", experiment_metrics),
        (f"{base}/experiment/{{test_id}}/timeseries", experiment_timeseries),
        (f"{base}/experiment/{{test_id}}/distribution", experiment_distribution),
        (f"{base}/experiment/{{test_id}}/share-link", share_link),
        (f"{base}/goals", goals),
        (f"{base}/goal/{{goal_profile_id}}", goal),
        (f"{base}/events", events),
        (f"{base}/event/{{event_id}}", event),
    ]
    return [Route(path, _answers(handler)) for path, handler in table]
