"""Jobs, schedules and automation: yesterday's data every morning, last week's every Monday, and the
models rebuilt after every raw run however it was launched.

A day's partition exists once the day has closed in MIDA_TIMEZONE, so the
daily schedule runs just after midnight there and syncs the day that closed.
"""

from __future__ import annotations

import functools
import operator

import dagster as dg

from mida_pipeline.defs import bss_assets, mida_assets
from mida_pipeline.defs.partitions import daily, weekly

DAILY_RAW = dg.AssetSelection.groups("mida_raw") | dg.AssetSelection.assets("bss_analytics_daily")
WEEKLY_RAW = dg.AssetSelection.assets("bss_analytics_weekly")
MODELS = dg.AssetSelection.groups("staging", "marts", "report")

daily_raw_job = dg.define_asset_job("daily_raw", selection=DAILY_RAW, partitions_def=daily)
weekly_raw_job = dg.define_asset_job("weekly_raw", selection=WEEKLY_RAW, partitions_def=weekly)
models_job = dg.define_asset_job("models", selection=MODELS)

daily_schedule = dg.build_schedule_from_partitioned_job(daily_raw_job, hour_of_day=1, minute_of_hour=0)
weekly_schedule = dg.build_schedule_from_partitioned_job(weekly_raw_job, day_of_week=1, hour_of_day=1, minute_of_hour=30)

AC = dg.AutomationCondition
RAW_KEYS = [key for asset in (*mida_assets.assets, *bss_assets.assets) for key in asset.keys]


def _any_raw(condition: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    return functools.reduce(operator.or_, (AC.asset_matches(key, condition) for key in RAW_KEYS)).with_label(label)


# A raw run that fails for one project has still written (and published) the others' partitions, but a failed
# step records no materialization: its failure is what says new data may have landed. One broken project never
# holds the rest of the marts back.
_landed = (AC.newly_updated() | AC.execution_failed().newly_true()).with_label("materialized or failed")

# Every model and the report, whichever raw table landed: the same set the command line's `models` job builds,
# so they are requested on the same tick and run as one run. Nothing is requested while any raw run (or
# backfill) is still going, so a burst of overlapping raw runs is followed by one models run, after the last.
MODELS_FOLLOW_RAW = (
    _any_raw(_landed, "raw data landed").since_last_handled()
    & ~_any_raw(AC.in_progress(), "a raw run in progress")
    & ~AC.in_progress()
).with_label("models_follow_raw")

# The daemon evaluates the conditions of the models and the report: they run whichever way the raw assets were
# materialized (a schedule, the command line, a backfill or a materialization from the UI).
models_automation = dg.AutomationConditionSensorDefinition(
    "models_follow_raw",
    target=MODELS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    use_user_code_server=False,
    minimum_interval_seconds=30,
)

jobs = [daily_raw_job, weekly_raw_job, models_job]
schedules = [daily_schedule, weekly_schedule]
sensors = [models_automation]
