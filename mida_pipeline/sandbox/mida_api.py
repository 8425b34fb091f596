"""The Mida V2 read endpoints, served from SandboxData in the documented shapes and inconsistencies."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mida_pipeline.sandbox.data import Experiment, SandboxData

STATUS_WORDS = {9: "draft", 1: "live", 0: "inactive"}
NICKNAMES = ["Control", "Bold CTA", "Social proof", "Urgency «today»", "Minimal"]
MAX_LIMIT = 500


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "error": message}, status_code=status)


def _variant_names(e: Experiment, k: int) -> tuple[str, str | None]:
    # Documented inconsistency: sometimes `name` is the nickname, sometimes "Variant N" with a separate nickname.
    nickname = NICKNAMES[k % len(NICKNAMES)]
    if e.test_id % 2:
        return nickname, None
    return ("Original" if k == 0 else f"Variant {k}"), nickname


def detail(data: SandboxData, e: Experiment) -> dict:
    goal = data.goals(e.project_key)[0 if e.revenue_goal else 1]
    variants = []
    for k, vid in enumerate(e.variant_ids):
        name, nick = _variant_names(e, k)
        variants.append({"variant_id": int(vid), "name": f"Variant {k}" if k else "Control", "nickname": nick or name,
                         "customCSS": "", "customJS": "", "data": None})
    return {**data.list_item(e), "goal_profile_id": goal["goal_profile_id"], "variants": variants,
            "configuration": {"traffic_allocation": 100, "confidence_interval": e.threshold},
            "targeting": {"devices": ["desktop", "mobile"], "browsers": [], "countries": []},
            "primary_goal": {k: goal[k] for k in ("goal_profile_id", "goal_name", "goal_type", "goal_value")}}


def result(data: SandboxData, e: Experiment, start: date | None, end: date | None, goal: dict | None = None,
           phase: str = "all_time") -> dict:
    """The result body. A named goal is echoed as the primary goal (the numbers stay the primary goal's: a simplification)."""
    span = data.running_days(e)
    start = start or (span[0] if span else e.created)
    end = end or data.today
    goal = goal or data.goals(e.project_key)[0 if e.revenue_goal else 1]
    counts = [data.window(e.project_key, e.test_id, vid, start, end) for vid in e.variant_ids]
    control_rate = counts[0].conversions / counts[0].visitors if counts[0].visitors else None
    control_rpv = counts[0].revenue / counts[0].visitors if counts[0].visitors else None
    variants = []
    for k, (vid, c) in enumerate(zip(e.variant_ids, counts)):
        name, nick = _variant_names(e, k)
        rate = c.conversions / c.visitors if c.visitors else 0.0
        rpv = c.revenue / c.visitors if c.visitors else 0.0
        v = {"variant_id": vid, "name": name, "visitors": c.visitors, "conversions": c.conversions,
             "conversion_rate": round(rate * 100, 4), "is_control": k == 0,
             "traffic_weight": None if e.weights is None else round(e.weights[k] * 100, 2),
             "variant_status": "paused" if (e.paused_variant and k == len(e.variant_ids) - 1) else "active"}
        if nick:
            v["nickname"] = nick
        if k and control_rate:
            v["improvement"] = round((rate / control_rate - 1) * 100, 4)
        if e.revenue_goal:
            v.update(revenue=c.revenue, orders=c.orders, rpv=round(rpv, 4), aov=round(c.revenue / c.orders, 4) if c.orders else 0,
                     currency="USD")
            if k and control_rpv:
                v["revenue_per_visitor_improvement"] = round((rpv / control_rpv - 1) * 100, 4)
        variants.append(v)
    body = {
        "success": True, "test_id": e.test_id, "test_name": e.name, "status": STATUS_WORDS[e.status], "status_code": e.status,
        "start_date": start.isoformat(), "end_date": end.isoformat(),
        "days_running": max(0, (min(end, span[1]) - span[0]).days + 1) if span else 0,
        "primary_goal": {k: goal[k] for k in ("goal_profile_id", "goal_key", "goal_name", "goal_type")},
        "stats_engine": "bayesian" if e.test_id % 3 else "frequentist", "confidence_threshold_percent": e.threshold,
        "serving_variant_id": None, "is_serving": e.status == 1, "report_phase": phase, "traffic_allocation": 100,
        "distribution_mode": "mab" if e.weights is None else ("equal" if len(set(e.weights)) == 1 else "custom"),
        "is_mab": e.weights is None, "total_visitors": sum(c.visitors for c in counts),
        "total_conversions": sum(c.conversions for c in counts), "has_revenue": e.revenue_goal, "variants": variants,
    }
    if e.revenue_goal:
        revenue, orders = round(sum(c.revenue for c in counts), 2), sum(c.orders for c in counts)
        body.update(total_revenue=revenue, total_orders=orders, currency="USD",
                    rpv=round(revenue / body["total_visitors"], 4) if body["total_visitors"] else 0,
                    aov=round(revenue / orders, 4) if orders else 0)
    return body


def _page(request: Request, items: list[dict], key: str) -> JSONResponse:
    try:
        limit = int(request.query_params.get("limit", 50))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return error(400, "limit and offset must be integers")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return error(400, f"limit must be between 1 and {MAX_LIMIT}")
    if request.app.state.faults.take(request.url.path, "endless"):
        # A broken server: every page full, the same page over and over.
        items, offset = (items * (limit // max(len(items), 1) + 1))[:limit] or [{"x": 1}] * limit, 0
    page = items[offset:offset + limit]
    return JSONResponse({"success": True, "company_id": 42, "count": len(page), key: page})


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    return date.fromisoformat(value[:10]) if value else None


def routes(data: SandboxData) -> list[Route]:
    def experiment_or_404(request: Request):
        pk = request.path_params["project_key"]
        try:
            test_id = int(request.path_params["test_id"])
        except ValueError:
            return None
        return data.experiment(pk, test_id)

    async def experiments(request: Request):
        return _page(request, data.experiments(request.path_params["project_key"]), "experiments")

    async def experiment(request: Request):
        e = experiment_or_404(request)
        return JSONResponse({"success": True, "experiment": detail(data, e)}) if e else error(404, "Experiment not found")

    async def experiment_result(request: Request):
        e = experiment_or_404(request)
        if not e:
            return error(404, "Experiment not found")
        try:
            start, end = _date(request, "start_date"), _date(request, "end_date")
        except ValueError:
            return error(400, "start_date and end_date must be YYYY-MM-DD")
        if start and end and start > end:
            return error(400, "start_date is after end_date")
        phase = request.query_params.get("report_phase", "all_time")
        if phase not in ("pre_deploy", "post_deploy", "all_time"):
            return error(400, "report_phase must be pre_deploy, post_deploy or all_time")
        goal = None
        named = request.query_params.get("goal_profile_id"), request.query_params.get("goal_key")
        if any(named):
            goal = next((g for g in data.goals(e.project_key)
                         if str(g["goal_profile_id"]) == named[0] or g["goal_key"] == named[1]), None)
            if goal is None:
                return error(404, "Goal not found")
        return JSONResponse(result(data, e, start, end, goal, phase))

    async def timeseries(request: Request):
        e = experiment_or_404(request)
        if not e:
            return error(404, "Experiment not found")
        span = data.running_days(e)
        rows = []
        if span:
            day = max(span[0], span[1] - timedelta(days=30))
            while day <= span[1]:
                for vid in e.variant_ids:
                    c = data.daily(e.project_key, e.test_id, vid, day)
                    rows.append({"variant_id": int(vid), "visitors": c.visitors, "converted": c.conversions,
                                 "conversion": c.conversions, "revenue": c.revenue, "currency": "USD",
                                 "created_at": day.isoformat(), "updated_at": day.isoformat()})
                day += timedelta(days=1)
        return JSONResponse({"success": True, "test_id": e.test_id, "test_name": e.name, "goal": detail(data, e)["primary_goal"],
                             "count": len(rows), "timeseries": rows})

    async def share_link(request: Request):
        e = experiment_or_404(request)
        if not e:
            return error(404, "Experiment not found")
        return JSONResponse({"success": True, "test_id": e.test_id, "company_id": 42,
                             "share_link": f"https://app.mida.so/share/{e.test_id}", "is_public": e.test_id % 2 == 0})

    def lookup(kind: str, id_name: str):
        async def one(request: Request):
            pk = request.path_params["project_key"]
            items = (data.goals if kind == "goals" else data.events)(pk) if pk in data.project_keys else []
            found = next((i for i in items if str(i[id_name]) == request.path_params[id_name]), None)
            if not found:
                return error(404, f"{kind[:-1].capitalize()} not found")
            return JSONResponse({"success": True, kind[:-1]: found})

        async def many(request: Request):
            pk = request.path_params["project_key"]
            items = (data.goals if kind == "goals" else data.events)(pk)
            if kind == "events":
                try:
                    start, end = _date(request, "start_date"), _date(request, "end_date")
                except ValueError:
                    return error(400, "start_date and end_date must be YYYY-MM-DD")
                text = request.query_params.get("event_text")
                items = [i for i in items if (not text or i["event_text"] == text)
                         and (not start or i["created_at"][:10] >= start.isoformat())
                         and (not end or i["created_at"][:10] <= end.isoformat())]
            if kind == "goals":  # the goal listing lacks the detail's status and created_at, as documented
                items = [{k: v for k, v in i.items() if k not in ("status", "created_at")} for i in items]
            return _page(request, items, kind)

        return one, many

    goal, goals = lookup("goals", "goal_profile_id")
    event, events = lookup("events", "event_id")
    base = "/v2/project/{project_key}"
    return [
        Route(f"{base}/experiments", experiments), Route(f"{base}/experiment/{{test_id}}", experiment),
        Route(f"{base}/experiment/{{test_id}}/result", experiment_result),
        Route(f"{base}/experiment/{{test_id}}/timeseries", timeseries),
        Route(f"{base}/experiment/{{test_id}}/share-link", share_link),
        Route(f"{base}/goals", goals), Route(f"{base}/goal/{{goal_profile_id}}", goal),
        Route(f"{base}/events", events), Route(f"{base}/event/{{event_id}}", event),
    ]
