"""Jobs and schedules: yesterday's data every morning, last week's every Monday.

A day's partition exists once the day has closed in MIDA_TIMEZONE, so the
daily schedule runs just after midnight there and syncs the day that closed.
"""

from __future__ import annotations

import dagster as dg

from mida_pipeline.defs.partitions import TIMEZONE, daily, weekly

DAILY_RAW = dg.AssetSelection.groups("mida_raw") | dg.AssetSelection.assets("bss_analytics_daily")
WEEKLY_RAW = dg.AssetSelection.assets("bss_analytics_weekly")
MODELS = dg.AssetSelection.groups("staging", "marts", "report")

daily_raw_job = dg.define_asset_job("daily_raw", selection=DAILY_RAW, partitions_def=daily)
weekly_raw_job = dg.define_asset_job("weekly_raw", selection=WEEKLY_RAW, partitions_def=weekly)
models_job = dg.define_asset_job("models", selection=MODELS)

daily_schedule = dg.build_schedule_from_partitioned_job(daily_raw_job, hour_of_day=1, minute_of_hour=0)
weekly_schedule = dg.build_schedule_from_partitioned_job(weekly_raw_job, day_of_week=1, hour_of_day=1, minute_of_hour=30)


def _rebuild_models_after(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=f"rebuild_models_after_{status.value.lower()}",
        run_status=status,
        monitored_jobs=[daily_raw_job, weekly_raw_job],
        request_job=models_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"models-after-{context.dagster_run.run_id}")

    return _sensor


# Rebuild the marts and the report after new raw data lands. A raw run that failed for one project has
# still written the others' partitions, so it triggers a rebuild too: one broken project never holds
# the rest of the marts back.
rebuild_models = _rebuild_models_after(dg.DagsterRunStatus.SUCCESS)
rebuild_models_after_failure = _rebuild_models_after(dg.DagsterRunStatus.FAILURE)


jobs = [daily_raw_job, weekly_raw_job, models_job]
schedules = [daily_schedule, weekly_schedule]
sensors = [rebuild_models, rebuild_models_after_failure]
