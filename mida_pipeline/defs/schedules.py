"""Jobs, schedules and automation: yesterday's data every morning, last week's every Monday, and the
models rebuilt after every raw run however it was launched.

A day's partition exists once the day has closed in MIDA_TIMEZONE, so the
daily schedule runs just after midnight there and syncs the day that closed.
"""

from __future__ import annotations

import os

import dagster as dg

from mida_pipeline.config import automation_interval
from mida_pipeline.defs.partitions import daily, weekly
from mida_pipeline.defs.source_checks import CHECK_KEYS

# The raw tables' dbt tests run in the models' build that follows a raw run (source_checks.py), not in the raw run.
IN_THE_BUILD = dg.AssetSelection.checks(*CHECK_KEYS)
DAILY_RAW = dg.AssetSelection.groups("mida_raw") | dg.AssetSelection.assets("bss_analytics_daily")
WEEKLY_RAW = dg.AssetSelection.assets("bss_analytics_weekly")
MODELS = dg.AssetSelection.groups("staging", "marts", "report")

daily_raw_job = dg.define_asset_job("daily_raw", selection=DAILY_RAW - IN_THE_BUILD, partitions_def=daily)
weekly_raw_job = dg.define_asset_job("weekly_raw", selection=WEEKLY_RAW - IN_THE_BUILD, partitions_def=weekly)
models_job = dg.define_asset_job("models", selection=MODELS)
# Every check of the raw tables over the whole lake: what a daily run checks for its day, for every day.
raw_audit_job = dg.define_asset_job(
    "raw_audit",
    selection=(DAILY_RAW | WEEKLY_RAW) - (DAILY_RAW | WEEKLY_RAW).without_checks(),  # their checks alone
    description="Every check of the raw tables (their dbt tests among them) over every day of the lake.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(daily_raw_job, hour_of_day=1, minute_of_hour=0)
weekly_schedule = dg.build_schedule_from_partitioned_job(
    weekly_raw_job, day_of_week=1, hour_of_day=1, minute_of_hour=30
)

# The daemon evaluates the conditions of the models and the report: they run whichever way the raw assets were
# materialized (a schedule, the command line, a backfill or a materialization from the UI). Its interval is part of
# the sensor's definition, so it is read when the code location loads, as the partitions' time zone is.
models_automation = dg.AutomationConditionSensorDefinition(
    "models_follow_raw",
    target=MODELS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    use_user_code_server=False,
    minimum_interval_seconds=automation_interval(os.environ),
)

jobs = [daily_raw_job, weekly_raw_job, models_job, raw_audit_job]
schedules = [daily_schedule, weekly_schedule]
sensors = [models_automation]
