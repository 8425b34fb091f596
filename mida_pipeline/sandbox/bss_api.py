"""The BSS analytics sync endpoint: the sandbox shape, echoing the period asked or (documented mode) ignoring it."""

from __future__ import annotations

import json
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mida_pipeline.sandbox.data import SandboxData

SYNC_PATH = "/apiv1/analytics/sync"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _title(key: str) -> str:
    return " ".join(p.capitalize() for p in key.split("_"))


def restyle(value, style: str):
    if style == "snake" or not isinstance(value, dict):
        return value
    convert = _camel if style == "camel" else _title
    return {convert(k): restyle(v, style) for k, v in value.items()}


def stringify(value):
    """Every number as a string, as an API that formats its numbers might send them."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def routes(
    data: SandboxData,
    *,
    secret: str,
    header: str,
    mode: str,
    key_style: str,
    layout: str = "data",
    numbers: str = "numbers",
) -> list[Route]:
    """`layout`: metrics under "data" or at the top level; `numbers`: as JSON numbers or as strings."""

    async def sync(request: Request):
        if request.headers.get(header) != secret:
            return JSONResponse({"status": "error", "message": "Invalid API key"}, status_code=401)
        try:
            body = json.loads(await request.body() or b"{}")
            frequency = body.get("frequency", "daily")
            start = date.fromisoformat(body["start_date"]) if body.get("start_date") else None
            end = date.fromisoformat(body["end_date"]) if body.get("end_date") else None
        except (ValueError, KeyError, AttributeError):
            return JSONResponse({"status": "error", "message": "Sync failed"}, status_code=500)
        if frequency not in ("daily", "weekly"):
            return JSONResponse({"status": "error", "message": "Sync failed"}, status_code=500)
        if mode == "documented" or start is None or end is None:
            # What the vendor documents: the previous day, or the previous Monday-Sunday week; no period stated.
            yesterday = data.today - timedelta(days=1)
            if frequency == "daily":
                start = end = yesterday
            else:
                start = data.today - timedelta(days=data.today.weekday() + 7)
                end = start + timedelta(days=6)
            payload = data.bss(start, end)
        else:
            payload = {
                "frequency": frequency,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                **data.bss(start, end),
            }
        payload = restyle(stringify(payload) if numbers == "strings" else payload, key_style)
        return JSONResponse(payload if layout == "top" else {"data": payload})

    return [Route(SYNC_PATH, sync, methods=["POST"])]
