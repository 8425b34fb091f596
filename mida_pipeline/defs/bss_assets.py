"""BSS (MIDA Session Replay) store analytics: one row per closed day, and per closed week."""

import dagster as dg

from mida_pipeline.defs.metadata import fail_on_errors, run_metadata, spec_metadata
from mida_pipeline.defs.partitions import daily, partition_days, weekly
from mida_pipeline.defs.resources import BssApi, Lake
from mida_pipeline.extract.bss import TABLE, extract_bss
from mida_pipeline.extract.units import now_utc

GROUP = "bss_raw"
KINDS = {"python", "parquet"}


def _bss_asset(frequency: str, partitions_def, description: str):
    table = TABLE[frequency]

    @dg.asset(
        name=table,
        description=description,
        group_name=GROUP,
        kinds=KINDS,
        metadata=spec_metadata(table),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="bss_api",
    )
    def _asset(context: dg.AssetExecutionContext, bss: BssApi, lake: Lake) -> dg.MaterializeResult:
        s = bss.settings()
        days = partition_days(context)
        captured_at = now_utc()
        with lake.landing([table], context.log):
            with bss.client() as client:
                outcome = extract_bss(
                    client,
                    lake.lake_dir,
                    frequency,
                    days,
                    s.timezone,
                    captured_at,
                    accept_unstated=s.bss_accept_unstated_period,
                )
            fail_on_errors(table, outcome)
        return dg.MaterializeResult(metadata=run_metadata(table, outcome, lake.lake_dir, days, captured_at))

    return _asset


bss_analytics_daily = _bss_asset(
    "daily",
    daily,
    "Store analytics for one closed day: visitors, sessions, the funnel, orders, revenue, traffic sources, "
    "devices, rage and error clicks. Never labelled with a period the API did not serve.",
)
bss_analytics_weekly = _bss_asset(
    "weekly",
    weekly,
    "Store analytics for one closed week (Monday to Sunday, keyed by its Monday), same metrics as daily.",
)

assets = [bss_analytics_daily, bss_analytics_weekly]
