"""Mida extraction: what a sync fetches and where it lands, without Dagster.

Each unit of work is one project (snapshots) or one project-day (results); a
unit writes its partitions only when all its calls succeeded, so a failure
leaves the lake as it was for that unit and the other units go on. Units run
concurrently; the client bounds the calls in flight per API host.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

from mida_pipeline import days as cal
from mida_pipeline.extract import rows
from mida_pipeline.lake.writer import write_partition

# Project-days whose results are fetched at once: enough to keep the client's
# connections busy, few enough that memory stays flat however long the range.
UNITS_IN_FLIGHT = 16


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


async def _collect(listing) -> list:
    if hasattr(listing, "__aiter__"):
        return [item async for item in listing]
    if asyncio.iscoroutine(listing):
        listing = await listing
    return list(listing)


async def _write(lake_dir, table: str, rows_: list[dict], *, day: date, project_key: str) -> None:
    # Encoding and fsync happen in a worker thread, so the event loop keeps other units' calls moving meanwhile.
    await asyncio.to_thread(write_partition, lake_dir, table, rows_, day=day, project_key=project_key)


async def _each_day(write_day: Callable[[date], Any], days: list[date]) -> list:
    # A snapshot lands in every day of a range: the days are built and written in the worker threads (a
    # handful at a time, so memory stays flat), not one fsync after another on the event loop.
    return await asyncio.gather(*(asyncio.to_thread(write_day, day) for day in days))


async def _per_project(project_keys: Iterable[str], outcome: Outcome, work: Callable[[str], Awaitable[None]]) -> None:
    async def guarded(pk: str) -> None:
        try:
            await work(pk)
        except Exception as exc:  # one project's failure must not stop the others
            outcome.errors[pk] = str(exc)

    await asyncio.gather(*(guarded(pk) for pk in project_keys))


async def extract_experiments(client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime) -> Outcome:
    """Snapshot each project's experiments (listing + detail) into every partition day asked."""
    outcome = Outcome()

    async def one(pk: str) -> None:
        listed = await _collect(client.list_experiments(pk))
        details = await asyncio.gather(*(client.get_experiment(pk, e.test_id) for e in listed))

        def write_day(day: date) -> tuple[int, int]:
            late = cal.is_late_capture(day, captured_at, tz)
            exp = [rows.experiment_row(d, project_key=pk, day=day, captured_at=captured_at, late=late) for d in details]
            var = [r for d in details for r in rows.variant_rows(d, project_key=pk, day=day, captured_at=captured_at, late=late)]
            write_partition(lake_dir, "mida_experiments", exp, day=day, project_key=pk)
            write_partition(lake_dir, "mida_experiment_variants", var, day=day, project_key=pk)
            return len(exp), len(var)

        for n_exp, n_var in await _each_day(write_day, days):
            outcome.wrote("mida_experiments", pk, n_exp)
            outcome.wrote("mida_experiment_variants", pk, n_var)

    await _per_project(project_keys, outcome, one)
    return outcome


async def extract_snapshot(
    client, lake_dir: Path, table: str, project_keys, days: list[date], tz: str, captured_at: datetime
) -> Outcome:
    """Goals or events: one listing per project, written into every partition day asked."""
    listing, to_row = {
        "mida_goals": (client.list_goals, rows.goal_row),
        "mida_events": (client.list_events, rows.event_row),
    }[table]
    outcome = Outcome()

    async def one(pk: str) -> None:
        items = await _collect(listing(pk))

        def write_day(day: date) -> int:
            late = cal.is_late_capture(day, captured_at, tz)
            out = [to_row(i, project_key=pk, day=day, captured_at=captured_at, late=late) for i in items]
            return write_partition(lake_dir, table, out, day=day, project_key=pk).rows

        for n in await _each_day(write_day, days):
            outcome.wrote(table, pk, n)

    await _per_project(project_keys, outcome, one)
    return outcome


def experiments_with_results(listed, day: date, tz: str) -> list[int]:
    """Experiments that can have results on `day`: not drafts, and created by the day's end."""
    return [
        e.test_id
        for e in listed
        if e.status != "draft" and (e.created_at is None or cal.local_date(e.created_at, tz) <= day)
    ]


async def extract_results(client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime) -> Outcome:
    """Each experiment's result for the day alone and cumulative to the day: both reproducible for any past day.

    The experiment list comes from one listing call per project, not from the
    experiments snapshot, so results backfill even when snapshots are refused
    (MIDA_REFUSE_LATE_CAPTURE) or a snapshot run failed for another project.
    """
    outcome = Outcome()
    gate = asyncio.Semaphore(UNITS_IN_FLIGHT)
    listings: dict[str, asyncio.Task] = {}

    def listing(pk: str) -> asyncio.Task:
        if pk not in listings:
            listings[pk] = asyncio.ensure_future(_collect(client.list_experiments(pk)))
        return listings[pk]

    async def fetch(pk: str, test_id: int, day: date) -> list[dict[str, Any]]:
        day_result, cumulative = await asyncio.gather(
            client.get_result(pk, test_id, start_date=day, end_date=day, tz=tz),
            client.get_result(pk, test_id, end_date=day, tz=tz),
        )
        common = dict(project_key=pk, day=day, captured_at=captured_at)
        return rows.result_rows(day_result, window="day", **common) + rows.result_rows(cumulative, window="cumulative", **common)

    async def unit(pk: str, day: date) -> None:
        async with gate:
            if pk in outcome.errors:
                return
            try:
                ids = experiments_with_results(await listing(pk), day, tz)
                batches = await asyncio.gather(*(fetch(pk, tid, day) for tid in ids))
                out = [r for batch in batches for r in batch]
                await _write(lake_dir, "mida_experiment_results", out, day=day, project_key=pk)
                outcome.wrote("mida_experiment_results", pk, len(out))
            except Exception as exc:
                outcome.errors.setdefault(pk, f"{day}: {exc}")

    await asyncio.gather(*(unit(pk, day) for day in days for pk in project_keys))
    return outcome


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
