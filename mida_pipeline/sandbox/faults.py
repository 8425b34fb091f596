"""Faults switched on per route: each rule matches paths by glob and fires `times` times (or always)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

KINDS = {
    "latency": "delay the answer by `ms` milliseconds, then answer normally",
    "status": "answer `status` (429, 500, 502, 503, 504...) with optional `retry_after` (seconds) or `retry_after_date`",
    "reset": "drop the connection after part of the body",
    "timeout": "sleep `seconds` before answering (longer than the client waits)",
    "html": "an HTML error page with `status` (default 502)",
    "truncated": "a 200 whose JSON body is cut short",
    "success_false": 'a 200 with {"success": false}',
    "wrong_shape": "a 200 whose list or item key holds a string",
    "endless": "listing pages that are always full and always the same",
    "mutate": "the normal answer, changed: `set` {field: value} where the field exists, `drop` [fields], "
    "`add` {field: value} to every object holding the field `where` (schema drift, hostile values)",
}


@dataclass
class Fault:
    route: str
    kind: str
    times: int | None = None  # None: always
    params: dict[str, Any] = field(default_factory=dict)


class FaultBook:
    def __init__(self):
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, route: str, kind: str, times: int | None = None, **params) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        fault = Fault(route, kind, times, params)
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[Fault]:
        """Rules with uses left: after a run, a counted rule still here never fired."""
        with self._lock:
            return [f for f in self._rules if f.times is not None]

    def take(self, path: str, kind: str | None = None) -> Fault | None:
        """The first live rule for `path` (of `kind`, if given), counting one use of it."""
        with self._lock:
            for fault in self._rules:
                if (
                    (kind is None or fault.kind == kind)
                    and (kind is not None or fault.kind != "endless")
                    and fnmatch(path, fault.route)
                ):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._rules.remove(fault)
                    return fault
        return None


def mutate(value: Any, params: dict[str, Any]) -> Any:
    """A JSON value with the `mutate` fault's changes applied to every object in it, however deep."""
    if isinstance(value, list):
        return [mutate(v, params) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: mutate(v, params) for k, v in value.items() if k not in params.get("drop", ())}
    out.update({k: v for k, v in params.get("set", {}).items() if k in value})
    if params.get("where") in value:
        out.update(params.get("add", {}))
    return out
