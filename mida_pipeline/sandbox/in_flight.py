"""Counting the Mida calls the sandbox answers at once, so tests and benchmarks can see the client's bound."""

from __future__ import annotations

import threading


class InFlight:
    """ASGI wrapper: how many Mida calls are being answered now, and the most at any moment."""

    def __init__(self, app):
        self.app, self.now, self.peak, self.lock = app, 0, 0, threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            return await self.app(scope, receive, send)
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.now -= 1
