"""When raw runs are followed by a rebuild of the models: the one statement of the rule, read from Dagster's records.

The command line (runner.py) and the sensors ask the same question of the same records: every raw run
succeeded, or one failed but something landed anyway. One broken project never holds the others' marts back,
and a run that wrote nothing leaves the published warehouse exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import dagster as dg

# The metadata key a raw asset's materialization, and its failure, carry: how many partitions it wrote.
PARTITIONS_WRITTEN = "partitions_written"


def landed(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run wrote to the lake: it materialized an asset, or a step failed after writing partitions."""
    if instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1).records:
        return True
    failures = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    for record in failures:
        user = record.event_log_entry.dagster_event.step_failure_data.user_failure_data
        written = user.metadata.get(PARTITIONS_WRITTEN) if user else None
        if written is not None and written.value:
            return True
    return False


def rebuild_models(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> bool:
    """Whether the models should be rebuilt after these raw runs."""
    run_ids = list(run_ids)
    runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
    if all(run is not None and run.status == dg.DagsterRunStatus.SUCCESS for run in runs):
        return True
    return any(landed(instance, run_id) for run_id in run_ids)


RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def synced_days(instance: dg.DagsterInstance, since: float | None) -> tuple[str, str] | None:
    """The first and last partition day of the raw runs started after `since` (the models' last build): the build's
    window (dbt/macros/run_window.sql). None (every day brought up to date) when the models were never built or no
    raw run says which days it covered. A weekly run's key is its Monday, which the weekly marts are keyed by."""
    if since is None:
        return None
    records = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(since, timezone.utc)))
    days = []
    for record in records:
        tags = record.dagster_run.tags
        if all(tag in tags for tag in RANGE_TAGS):
            days += [tags[RANGE_TAGS[0]], tags[RANGE_TAGS[1]]]
        elif "dagster/partition" in tags:
            days.append(tags["dagster/partition"])
    days = [d for d in days if len(d) == 10]
    return (min(days), max(days)) if days else None
