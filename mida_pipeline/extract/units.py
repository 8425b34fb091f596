"""Units of extraction work: one project, or one project-day, whose partitions land only when all its calls
succeeded; they run concurrently, a failure stops its unit and is recorded for it, and the others go on.
What a run did is an Outcome, which the assets turn into the metadata the Dagster UI shows.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from mida_pipeline.lake.writer import LAKE_ERRORS, write_partition
from mida_pipeline.sources.errors import API_ERRORS

# Project-days whose results are fetched at once: enough to keep the client's
# connections busy, few enough that memory stays flat however long the range.
UNITS_IN_FLIGHT = 16
# What stops one unit and lets the others go on: the API's answers and the lake's refusals.
UNIT_FAILURES = (*API_ERRORS, *LAKE_ERRORS)


@dataclass
class Outcome:
    """What one asset run did, per project: rows written per table, or the error that stopped it."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows_by_project: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, str] = field(default_factory=dict)
    partitions: int = 0

    def wrote(self, table: str, project_key: str | None, n: int) -> None:
        self.rows[table] += n
        self.rows_by_project[table][project_key or "-"] += n
        self.partitions += 1


async def collect(listing) -> list:
    if hasattr(listing, "__aiter__"):
        return [item async for item in listing]
    if asyncio.iscoroutine(listing):
        listing = await listing
    return list(listing)


async def write(lake_dir, table: str, rows_: list[dict], *, day: date, project_key: str | None) -> None:
    # Encoding and fsync happen in a worker thread, so the event loop keeps other units' calls moving meanwhile.
    await asyncio.to_thread(write_partition, lake_dir, table, rows_, day=day, project_key=project_key)


async def each_day(write_day: Callable[[date], Any], days: list[date]) -> list:
    # A snapshot lands in every day of a range: the days are built and written in the worker threads (a
    # handful at a time, so memory stays flat), not one fsync after another on the event loop.
    return await asyncio.gather(*(asyncio.to_thread(write_day, day) for day in days))


async def per_project(project_keys: Iterable[str], outcome: Outcome, work: Callable[[str], Awaitable[None]]) -> None:
    async def guarded(pk: str) -> None:
        try:
            await work(pk)
        except UNIT_FAILURES as exc:  # one project's failure must not stop the others
            outcome.errors[pk] = str(exc)

    await asyncio.gather(*(guarded(pk) for pk in project_keys))


async def per_project_day(project_keys, days, outcome: Outcome, work: Callable[[str, date], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(UNITS_IN_FLIGHT)

    async def unit(pk: str, day: date) -> None:
        async with gate:
            if pk in outcome.errors:
                return
            try:
                await work(pk, day)
            except UNIT_FAILURES as exc:
                outcome.errors.setdefault(pk, f"{day}: {exc}")

    await asyncio.gather(*(unit(pk, day) for day in days for pk in project_keys))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
