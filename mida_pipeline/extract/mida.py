"""Mida extraction: what a sync fetches and where it lands, without Dagster.

Each unit of work (units.py) is one project (snapshots) or one project-day
(results); a unit writes its partitions only when all its calls succeeded, so
a failure leaves the lake as it was for that unit and the other units go on.
Units run concurrently; the client bounds the calls in flight per API host.

Only the failures a unit can meet in normal operation (an API answer, the
lake refusing a write) are recorded per unit; anything else is a bug and
fails the run with its traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from mida_pipeline import days as cal
from mida_pipeline.extract import rows, units
from mida_pipeline.extract.rows import GoalOfResult
from mida_pipeline.lake.writer import write_partition
from mida_pipeline.sources.mida import validate_project_key


def _snapshot_writer(lake_dir, tables: dict[str, list], *, pk: str | None, captured_at: datetime, tz: str):
    """Writes each table's items into one day's partitions; returns the rows written per table."""

    def write_day(day: date) -> dict[str, int]:
        late = cal.is_late_capture(day, captured_at, tz)
        written = {}
        for table, items in tables.items():
            out = rows.make_rows(table, items, day=day, captured_at=captured_at, project_key=pk, late=late)
            written[table] = write_partition(lake_dir, table, out, day=day, project_key=pk).rows
        return written

    return write_day


async def _snapshot(outcome: units.Outcome, lake_dir, tables: dict[str, list], days, *, pk, captured_at, tz) -> None:
    for written in await units.each_day(
        _snapshot_writer(lake_dir, tables, pk=pk, captured_at=captured_at, tz=tz), days
    ):
        for table, n in written.items():
            outcome.wrote(table, pk, n)


class ExperimentGoal(NamedTuple):
    """An item of `mida_experiment_goals`."""

    test_id: int
    goal_key: str | None
    goal_name: str | None
    goal_type: str | None
    goal_profile_id: str | None
    goal_value: Any
    is_primary: bool
    raw: dict


def experiment_goals(detail, metrics, goal_keys_by_profile: dict[str, str]) -> list[ExperimentGoal]:
    """The primary goal (its key resolved through the project's goals when the detail omits it), then each
    secondary goal of `/metrics` once; a secondary whose key is the primary's is the primary."""
    primary = detail.primary_goal or {}
    key = primary.get("goal_key") or goal_keys_by_profile.get(str(detail.goal_profile_id))
    out = []
    if primary or key:
        out.append(
            ExperimentGoal(
                detail.test_id,
                key,
                primary.get("goal_name"),
                primary.get("goal_type"),
                detail.goal_profile_id,
                primary.get("goal_value"),
                True,
                primary,
            )
        )
    seen = {key}
    for d in metrics.definitions:
        if d.goal_key in seen:
            continue
        seen.add(d.goal_key)
        out.append(
            ExperimentGoal(detail.test_id, d.goal_key, d.goal_name, d.goal_type, None, d.goal_value, False, d.raw)
        )
    return out


async def extract_experiments(
    client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime
) -> units.Outcome:
    """Snapshot each project's experiments (listing + detail), their variants and their goals into every day asked."""
    outcome = units.Outcome()

    async def one(pk: str) -> None:
        listed, goals = await asyncio.gather(
            units.collect(client.list_experiments(pk)), units.collect(client.list_goals(pk))
        )
        details = await asyncio.gather(*(client.get_experiment(pk, e.test_id) for e in listed))
        metrics = await asyncio.gather(*(client.get_metrics(pk, e.test_id) for e in listed))
        keys = {str(g.goal_profile_id): g.goal_key for g in goals if g.goal_key}
        tables = {
            "mida_experiments": list(details),
            "mida_experiment_variants": [v for d in details for v in rows.variant_items(d)],
            "mida_experiment_goals": [
                g for d, m in zip(details, metrics, strict=True) for g in experiment_goals(d, m, keys)
            ],
        }
        await _snapshot(outcome, lake_dir, tables, days, pk=pk, captured_at=captured_at, tz=tz)

    await units.per_project(project_keys, outcome, one)
    return outcome


async def _one(call: Awaitable) -> list:
    return [await call]


# The project-level snapshots: the table and how one project's items are fetched.
SNAPSHOTS: dict[str, Callable[[Any, str], Awaitable[list]]] = {
    "mida_goals": lambda client, pk: units.collect(client.list_goals(pk)),
    "mida_events": lambda client, pk: units.collect(client.list_events(pk)),
    "mida_project_configuration": lambda client, pk: _one(client.get_configuration(pk)),
}


async def extract_snapshot(
    client, lake_dir: Path, table: str, project_keys, days: list[date], tz: str, captured_at: datetime
) -> units.Outcome:
    """Goals, events or configuration: one fetch per project, written into every partition day asked."""
    outcome = units.Outcome()

    async def one(pk: str) -> None:
        items = await SNAPSHOTS[table](client, pk)
        await _snapshot(outcome, lake_dir, {table: items}, days, pk=pk, captured_at=captured_at, tz=tz)

    await units.per_project(project_keys, outcome, one)
    return outcome


async def list_company_projects(client, auth_key: str) -> list:
    """Every project of the company, paused ones included (`is_active` tells them apart)."""
    return await units.collect(client.list_projects(auth_key, include_inactive=True))


async def discover_projects(client, auth_key: str) -> tuple[str, ...]:
    """The company's active projects: what a sync with discovery on asks for."""
    return tuple(
        validate_project_key(p.project_key) for p in await list_company_projects(client, auth_key) if p.is_active
    )


async def extract_projects(
    client, lake_dir: Path, auth_key: str, days: list[date], tz: str, captured_at: datetime
) -> units.Outcome:
    """The company's projects (one listing, through the first configured key), into every day asked."""
    outcome = units.Outcome()

    async def one(pk: str) -> None:
        items = await list_company_projects(client, pk)
        await _snapshot(outcome, lake_dir, {"mida_projects": items}, days, pk=None, captured_at=captured_at, tz=tz)

    await units.per_project([auth_key], outcome, one)
    return outcome


def experiments_with_results(listed, day: date, tz: str) -> list[int]:
    """Experiments that can have results on `day`: not drafts, and created by the day's end."""
    return [
        e.test_id
        for e in listed
        if e.status != "draft" and (e.created_at is None or cal.local_date(e.created_at, tz) <= day)
    ]


class _Listings:
    """One experiment listing per project per run, shared by its days."""

    def __init__(self, client):
        self.client, self.tasks = client, {}

    def __call__(self, pk: str) -> asyncio.Task:
        if pk not in self.tasks:
            self.tasks[pk] = asyncio.ensure_future(units.collect(self.client.list_experiments(pk)))
        return self.tasks[pk]


async def extract_results(
    client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime
) -> units.Outcome:
    """Every goal's result of each experiment for the day alone and cumulative to the day, reproducible for any past day.

    The primary goal is asked without a goal parameter (the API resolves it, as the dashboard does); each
    secondary goal `/metrics` lists is asked by its key. `/metrics` is asked without days: its goal definitions
    are the experiment's, whatever the days (the days change only its coarse counts, which are not used), so it is
    the experiments asset's question and a run asks it once per experiment (sources/answers.py). The day is sent
    as the hour offset of MIDA_TIMEZONE at the day's start. The experiment list comes from one listing call per
    project, not from the experiments snapshot, so results backfill even when snapshots are refused (MIDA_REFUSE_LATE_CAPTURE) or a
    snapshot run failed for another project.
    """
    outcome = units.Outcome()
    listing = _Listings(client)

    async def goal_rows(pk: str, test_id: int, day: date, offset: float, goal: GoalOfResult | None) -> tuple:
        key = None if goal is None else goal.goal_key
        day_result, cumulative = await asyncio.gather(
            client.get_result(pk, test_id, start_date=day, end_date=day, tz=offset, goal_key=key),
            client.get_result(pk, test_id, end_date=day, tz=offset, goal_key=key),
        )
        goal = goal or GoalOfResult(cumulative.goal_key, cumulative.goal_name, cumulative.goal_type, True)
        items = rows.result_items(day_result, window="day", goal=goal) + rows.result_items(
            cumulative, window="cumulative", goal=goal
        )
        return goal, items

    async def fetch(pk: str, test_id: int, day: date) -> list:
        offset = cal.utc_offset_hours(day, tz)
        metrics, (primary, items) = await asyncio.gather(
            client.get_metrics(pk, test_id), goal_rows(pk, test_id, day, offset, None)
        )
        seen, secondary = {primary.goal_key}, []
        for d in metrics.definitions:
            if d.goal_key and d.goal_key not in seen:  # a secondary that is the primary is not asked twice
                seen.add(d.goal_key)
                secondary.append(GoalOfResult(d.goal_key, d.goal_name, d.goal_type, False))
        for _, more in await asyncio.gather(*(goal_rows(pk, test_id, day, offset, g) for g in secondary)):
            items += more
        return items

    async def work(pk: str, day: date) -> None:
        ids = experiments_with_results(await listing(pk), day, tz)
        batches = await asyncio.gather(*(fetch(pk, tid, day) for tid in ids))
        items = [i for batch in batches for i in batch]
        out = rows.make_rows("mida_experiment_results", items, day=day, captured_at=captured_at, project_key=pk)
        await units.write(lake_dir, "mida_experiment_results", out, day=day, project_key=pk)
        outcome.wrote("mida_experiment_results", pk, len(out))

    await units.per_project_day(project_keys, days, outcome, work)
    return outcome


# The most days one timeseries call covers: a quarter, so a 90-day backfill still asks once per experiment and goal,
# while a year's backfill holds a quarter of a project's rows in memory at a time, not the year's.
MAX_STRETCH_DAYS = 92


def offset_stretches(days: list[date], tz: str) -> list[tuple[date, date, float]]:
    """The run's days as (first, last, hour offset) stretches of consecutive days sharing MIDA_TIMEZONE's offset, each
    at most MAX_STRETCH_DAYS long: one stretch for a range of a quarter or less that does not cross a daylight-saving
    change (or skip a day)."""
    stretches: list[tuple[date, date, float]] = []
    for day in sorted(days):
        offset = cal.utc_offset_hours(day, tz)
        if (
            stretches
            and stretches[-1][2] == offset
            and (day - stretches[-1][1]).days == 1
            and (day - stretches[-1][0]).days < MAX_STRETCH_DAYS
        ):
            stretches[-1] = (stretches[-1][0], day, offset)
        else:
            stretches.append((day, day, offset))
    return stretches


async def extract_timeseries(
    client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime
) -> units.Outcome:
    """Every goal's daily rows of each experiment over the run's whole range: one call per experiment and goal (per
    stretch of days sharing an hour offset, a quarter at most), not one per day, so a 90-day backfill costs what a day
    costs.

    The goals are those the results asset asks: the primary (asked without a goal, as the dashboard does) and each
    secondary goal `/metrics` lists, asked without days as the experiments asset asks it (once a run). A project's
    stretches are fetched and written one after the other, at most UNITS_IN_FLIGHT projects at once, so memory holds a stretch of those projects' rows; a stretch's
    days land only when all its calls succeeded, and a project's failure stops its later stretches.
    """
    outcome = units.Outcome()
    stretches = offset_stretches(days, tz)
    gate = asyncio.Semaphore(units.UNITS_IN_FLIGHT)

    async def goal_series(pk: str, test_id: int, key: str | None, stretch: tuple[date, date, float]):
        first, last, offset = stretch
        return await client.get_timeseries(pk, test_id, start_date=first, end_date=last, tz=offset, goal_key=key)

    async def experiment_items(pk: str, test_id: int, stretch, metrics: asyncio.Task) -> list[rows.TimeseriesItem]:
        primary = await goal_series(pk, test_id, None, stretch)
        secondary = [d.goal_key for d in (await metrics).definitions if d.goal_key and d.goal_key != primary.goal_key]
        series = [(primary, True)] + [
            (s, False)
            for s in await asyncio.gather(*(goal_series(pk, test_id, k, stretch) for k in dict.fromkeys(secondary)))
        ]
        return [rows.TimeseriesItem(s, row, is_primary) for s, is_primary in series for row in s.rows]

    async def work(pk: str) -> None:
        async with gate:
            listed = await units.collect(client.list_experiments(pk))
            ids = experiments_with_results(listed, max(days), tz)
            metrics = {t: asyncio.ensure_future(client.get_metrics(pk, t)) for t in ids}
            try:
                for stretch in stretches:
                    batches = await asyncio.gather(*(experiment_items(pk, t, stretch, metrics[t]) for t in ids))
                    wanted = [d for d in days if stretch[0] <= d <= stretch[1]]
                    by_day: dict[date, list] = {day: [] for day in wanted}
                    for item in (i for batch in batches for i in batch):
                        if item.row.day in by_day:
                            by_day[item.row.day].append(item)
                    for day, day_items in sorted(by_day.items()):
                        out = rows.make_rows(
                            "mida_experiment_timeseries", day_items, day=day, captured_at=captured_at, project_key=pk
                        )
                        await units.write(lake_dir, "mida_experiment_timeseries", out, day=day, project_key=pk)
                        outcome.wrote("mida_experiment_timeseries", pk, len(out))
            finally:
                for task in metrics.values():  # a failed stretch leaves no call running, nor an error unread
                    if task.done() and not task.cancelled():
                        task.exception()
                    task.cancel()

    await units.per_project(project_keys, outcome, work)
    return outcome


class SegmentItem(NamedTuple):
    """An item of `mida_experiment_result_segments`: one variant of one segment."""

    test_id: int
    goal_key: str | None
    dimension: str
    segment: Any
    variant: Any
    window_start: date | None
    window_end: date | None


async def extract_segments(
    client, lake_dir: Path, project_keys, days: list[date], tz: str, captured_at: datetime, dimensions: tuple[str, ...]
) -> units.Outcome:
    """Each experiment's cumulative primary-goal result broken down by every dimension asked (MIDA_BREAKDOWNS)."""
    outcome = units.Outcome()
    listing = _Listings(client)

    async def fetch(pk: str, test_id: int, day: date, dimension: str) -> list[SegmentItem]:
        result = await client.get_result(
            pk, test_id, end_date=day, tz=cal.utc_offset_hours(day, tz), breakdown_by=dimension
        )
        return [
            SegmentItem(test_id, result.goal_key, dimension, s, v, result.start_date, result.end_date)
            for s in result.breakdowns
            for v in s.variants
        ]

    async def work(pk: str, day: date) -> None:
        ids = experiments_with_results(await listing(pk), day, tz)
        batches = await asyncio.gather(*(fetch(pk, tid, day, d) for tid in ids for d in dimensions))
        items = [i for batch in batches for i in batch]
        out = rows.make_rows("mida_experiment_result_segments", items, day=day, captured_at=captured_at, project_key=pk)
        await units.write(lake_dir, "mida_experiment_result_segments", out, day=day, project_key=pk)
        outcome.wrote("mida_experiment_result_segments", pk, len(out))

    await units.per_project_day(project_keys, days, outcome, work)
    return outcome
