"""BSS analytics extraction: one sync call per daily or weekly partition.

The period a partition is labelled with is the one the response proved (or,
for an endpoint that states none, the latest closed period it documents); the
client refuses anything else, so mislabelled data never reaches the lake.

The client is asynchronous; `extract_bss` drives it from plain code with one
`asyncio.run` and closes it when the partitions are done.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from mida_pipeline import days as cal
from mida_pipeline.extract import rows
from mida_pipeline.extract.units import Outcome
from mida_pipeline.lake.writer import LAKE_ERRORS, write_partition
from mida_pipeline.sources.errors import API_ERRORS

TABLE = {"daily": "bss_analytics_daily", "weekly": "bss_analytics_weekly"}


def period(frequency: str, partition: date) -> tuple[date, date]:
    """The days a partition covers: the day itself, or Monday to Sunday."""
    return (partition, partition) if frequency == "daily" else (partition, partition + timedelta(days=6))


def extract_bss(
    client, lake_dir, frequency: str, partitions: list[date], tz: str, captured_at: datetime, *, accept_unstated: bool
) -> Outcome:
    """Each partition in turn through an async `BssClient`, run to the end on an event loop of its own."""
    return asyncio.run(
        extract_bss_async(client, lake_dir, frequency, partitions, tz, captured_at, accept_unstated=accept_unstated)
    )


async def extract_bss_async(
    client, lake_dir, frequency: str, partitions: list[date], tz: str, captured_at: datetime, *, accept_unstated: bool
) -> Outcome:
    table = TABLE[frequency]
    latest = (
        cal.latest_complete_day(tz, captured_at) if frequency == "daily" else cal.latest_complete_week(tz, captured_at)
    )
    outcome = Outcome()
    async with client:
        for partition in partitions:
            start, end = period(frequency, partition)
            try:
                sync = await client.sync(
                    frequency, start, end, is_latest=partition == latest, allow_unstated_period=accept_unstated
                )
                # Unknown metrics stay in `raw` only.
                row = rows.make_row(table, sync, day=partition, captured_at=captured_at)
                write_partition(lake_dir, table, [row], day=partition)
                outcome.wrote(table, None, 1)
            except (
                *API_ERRORS,
                *LAKE_ERRORS,
            ) as exc:  # the other partitions of a range still land; a bug fails the run
                outcome.errors[partition.isoformat()] = str(exc)
    return outcome
