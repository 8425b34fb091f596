"""The sandbox application: both APIs, auth, the request log, injectable faults and control routes."""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mida_pipeline.sandbox import bss_api, mida_api
from mida_pipeline.sandbox.data import SandboxConfig, SandboxData
from mida_pipeline.sandbox.faults import FaultBook, mutate

DEFAULT_API_KEY = "sandbox-mida-key"
DEFAULT_BSS_SECRET = "sandbox-bss-secret"
CONTROL = "/_sandbox"


def _control_routes() -> list[Route]:
    async def faults(request: Request):
        book: FaultBook = request.app.state.faults
        if request.method == "DELETE":
            book.clear()
            return JSONResponse({"cleared": True})
        spec = await request.json()
        try:
            book.add(spec.pop("route", "*"), spec.pop("kind"), spec.pop("times", None), **spec)
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"added": True})

    async def requests(request: Request):
        log = request.app.state.requests
        if request.method == "DELETE":
            log.clear()
            return JSONResponse({"cleared": True})
        return JSONResponse({"requests": [{"method": m, "path": p} for m, p in log]})

    async def projects(request: Request):
        # A project created while the server runs, for a sandbox in another process (in-process: data.add_project).
        try:
            spec = await request.json()
            added = request.app.state.data.add_project(spec["project_key"], spec.get("name"))
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"POST {CONTROL}/projects needs a new project_key: {exc}"}, status_code=400)
        return JSONResponse({"added": True, "project": added}, status_code=201)

    return [
        Route(f"{CONTROL}/faults", faults, methods=["POST", "DELETE"]),
        Route(f"{CONTROL}/requests", requests, methods=["GET", "DELETE"]),
        Route(f"{CONTROL}/projects", projects, methods=["POST"]),
    ]


def _mutating(send, params: dict):
    """`send` that holds the JSON body back and passes it on with the `mutate` fault's changes."""
    start, chunks = {}, []

    async def wrapped(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = json.dumps(mutate(json.loads(b"".join(chunks)), params)).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


class SandboxMiddleware:
    """Pure ASGI, so faults can break the connection itself, not just the response."""

    def __init__(self, app, *, api_key: str, data: SandboxData):
        self.app, self.api_key, self.data = app, api_key, data

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(CONTROL):
            return await self.app(scope, receive, send)
        state = scope["app"].state
        path = scope["path"]
        state.requests.append((scope["method"], path))
        fault = state.faults.take(path)
        if fault and fault.kind == "mutate":
            send = _mutating(send, fault.params)
        if fault:
            handled = await self._fault(fault, scope, receive, send)
            if handled:
                return
        if path.startswith("/v2/"):
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            bearer = headers.get("authorization", "")
            offered = {
                bearer[7:] if bearer.lower().startswith("bearer ") else None,
                headers.get("x-api-key"),
                headers.get("api-key"),
            }
            if self.api_key not in offered:
                return await JSONResponse({"success": False, "error": "Invalid API key"}, status_code=401)(
                    scope, receive, send
                )
            if scope["method"] != "GET":
                return await JSONResponse({"success": False, "error": "Method not allowed"}, status_code=405)(
                    scope, receive, send
                )
            parts = path.split("/")
            if len(parts) > 3 and parts[2] == "project" and not self.data.has_project(parts[3]):
                return await JSONResponse({"success": False, "error": "Project not found"}, status_code=404)(
                    scope, receive, send
                )
        await self.app(scope, receive, send)

    async def _fault(self, fault, scope, receive, send) -> bool:
        p = fault.params
        if fault.kind == "latency":
            await asyncio.sleep(float(p.get("ms", 50)) / 1000)
            return False
        if fault.kind == "timeout":
            await asyncio.sleep(float(p.get("seconds", 5)))
            return False
        if fault.kind == "endless":
            return False
        if fault.kind == "status":
            headers = {}
            if "retry_after" in p:
                headers["Retry-After"] = str(p["retry_after"])
            if "retry_after_date" in p:
                headers["Retry-After"] = str(p["retry_after_date"])
            status = int(p.get("status", 503))
            await JSONResponse(
                {"success": False, "error": p.get("message", f"Sandbox fault {status}")},
                status_code=status,
                headers=headers,
            )(scope, receive, send)
            return True
        if fault.kind == "html":
            body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
            await self._raw(send, int(p.get("status", 502)), body, b"text/html")
            return True
        if fault.kind == "truncated":
            await self._raw(
                send, 200, b'{"success": true, "experiments": [{"test_id": 1, "test_na', b"application/json"
            )
            return True
        if fault.kind == "success_false":
            await JSONResponse({"success": False, "error": p.get("message", "Something went wrong")})(
                scope, receive, send
            )
            return True
        if fault.kind == "wrong_shape":
            body = {
                "success": True,
                "experiments": "oops",
                "goals": "oops",
                "events": "oops",
                "experiment": "oops",
                "goal": "oops",
                "event": "oops",
                "variants": "oops",
                "test_id": 1,
                "timeseries": "oops",
                "data": "oops",
                "metric_definitions": "oops",
                "metrics": "oops",
                "configuration": "oops",
                "projects": "oops",
                "project": "oops",
                "breakdowns": "oops",
                "selected_goal": "oops",
            }
            await JSONResponse(body)(scope, receive, send)
            return True
        if fault.kind == "reset":
            # Promise a body, send part of it, then stop: the client sees the connection dropped mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"success": true, "exp', "more_body": True})
            raise ConnectionResetError("sandbox fault: connection reset")
        return False

    @staticmethod
    async def _raw(send, status: int, body: bytes, content_type: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(
    data: SandboxData | None = None,
    *,
    api_key: str = DEFAULT_API_KEY,
    bss_secret: str = DEFAULT_BSS_SECRET,
    bss_header: str = "x-mida-secret-key",
    bss_mode: str = "echo",
    bss_key_style: str = "snake",
    bss_layout: str = "data",
    bss_numbers: str = "numbers",
) -> Starlette:
    """Both APIs. BSS knobs: `bss_mode` echo|documented, `bss_key_style` snake|camel|title,
    `bss_layout` data|top, `bss_numbers` numbers|strings."""
    data = data or SandboxData(SandboxConfig())
    app = Starlette(
        routes=[
            *_control_routes(),
            *mida_api.routes(data),
            *bss_api.routes(
                data,
                secret=bss_secret,
                header=bss_header,
                mode=bss_mode,
                key_style=bss_key_style,
                layout=bss_layout,
                numbers=bss_numbers,
            ),
        ]
    )
    app.state.faults = FaultBook()
    app.state.requests = []
    app.state.data = data
    app.add_middleware(SandboxMiddleware, api_key=api_key, data=data)
    return app
