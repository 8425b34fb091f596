"""Daily and weekly partitions, in the zone that defines a day (MIDA_TIMEZONE).

Daily partitions end with yesterday and weekly ones with last week: a
partition exists once its period has closed, so a schedule never syncs a day
that is still going on.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import dagster as dg

from mida_pipeline.config import DEFAULT_START_DATE, parse_date, parse_timezone

TIMEZONE = os.environ.get("MIDA_TIMEZONE", "UTC").strip() or "UTC"
parse_timezone(TIMEZONE)
START = parse_date(os.environ.get("MIDA_START_DATE", DEFAULT_START_DATE), "MIDA_START_DATE")
# Weekly partitions are keyed by the Monday that starts the week.
FIRST_MONDAY = START + timedelta(days=(7 - START.weekday()) % 7)

daily = dg.DailyPartitionsDefinition(start_date=START.isoformat(), timezone=TIMEZONE)
weekly = dg.WeeklyPartitionsDefinition(start_date=FIRST_MONDAY.isoformat(), timezone=TIMEZONE, day_offset=1)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The partition keys a run covers, as dates (a single-run backfill covers a range)."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def run_days(run: dg.DagsterRun) -> tuple[str, str] | None:
    """The first and last partition key (a day, or a week's Monday) a run was launched for; None for a run of no
    partition, such as the raw_audit job."""
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"], tags["dagster/partition"]
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return (start, end) if start and end else None
