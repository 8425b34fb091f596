"""A run's answers to the requests whose answer does not change while it runs, so each is asked once a run.

Several assets of a run ask the same questions: the experiments listing (experiments, results, timeseries and
segments each need it), the goals each experiment measures (`/metrics`), the company's projects. One `RunAnswers`
is shared by every client of a run (defs/resources.py): the first asset to ask gets the API's answer, the next ones
get it from here.

Only answers are kept. A request that failed is asked again by whoever asks next, so an asset fails, or retries,
exactly as it would alone. A request in flight is awaited by whoever asks it meanwhile in the same event loop, so
the days of a backfill asking together still make one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class RunAnswers:
    def __init__(self) -> None:
        self.answers: dict[Hashable, Any] = {}
        self.flights: dict[Hashable, asyncio.Future] = {}

    async def once(self, key: Hashable, ask: Callable[[], Awaitable[Any]]) -> Any:
        """`ask()`'s answer, asked at most once while it succeeds; `key` names the request (endpoint, path, params)."""
        while key not in self.answers:
            flight = self.flights.get(key)
            if flight is None or flight.get_loop() is not asyncio.get_running_loop():
                return await self._lead(key, ask)
            # Waiting on the flight without awaiting it: a waiter cancelled here must not cancel the leader's request.
            await asyncio.wait([flight])
            if not flight.cancelled() and flight.exception() is not None:
                raise flight.exception()
            # Answered (the loop returns it), or its leader was cancelled: then this caller asks the question itself.
        return self.answers[key]

    async def _lead(self, key: Hashable, ask: Callable[[], Awaitable[Any]]) -> Any:
        flight = self.flights[key] = asyncio.get_running_loop().create_future()
        try:
            answer = await ask()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # read here: a failure nobody else waited for is not "never retrieved"
            raise
        else:
            self.answers[key] = answer
            flight.set_result(None)
            return answer
        finally:
            if self.flights.get(key) is flight:
                del self.flights[key]
