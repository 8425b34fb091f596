"""Mida V2 raw assets: experiments, variants, results, goals and events, one daily partition per day."""


import asyncio

import dagster as dg

from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.days import is_late_capture
from mida_pipeline.defs.metadata import fail_on_errors, run_metadata, spec_metadata
from mida_pipeline.defs.partitions import daily, partition_days
from mida_pipeline.defs.resources import Lake, MidaApi
from mida_pipeline.extract.mida import extract_experiments, extract_results, extract_snapshot, now_utc

GROUP = "mida_raw"
POOL = "mida_api"
KINDS = {"python", "parquet"}
SINGLE_RUN = dg.BackfillPolicy.single_run()


def _refuse_late(days, captured_at) -> None:
    s = Settings.from_env()
    if s.refuse_late_capture:
        late = [d for d in days if is_late_capture(d, captured_at, s.timezone)]
        if late:
            raise ConfigError(
                f"refusing to snapshot {len(late)} past day(s) from {late[0]} (MIDA_REFUSE_LATE_CAPTURE is on): "
                "the API only knows today's state; unset it to record today's state flagged is_late_capture"
            )


def _run(table: str, coroutine_factory, context, mida: MidaApi, lake: Lake, *, snapshot: bool):
    days = partition_days(context)
    captured_at = now_utc()
    if snapshot:
        _refuse_late(days, captured_at)
    tz = Settings.from_env().timezone

    async def go():
        client = mida.client()
        async with client:
            return await coroutine_factory(client, lake.lake_dir, mida.projects(), days, tz, captured_at)

    outcome = asyncio.run(go())
    if outcome.partitions:  # nothing written: the published warehouse stays byte for byte as it was
        lake.warehouse().refresh_and_publish()
    return days, captured_at, outcome


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "mida_experiments",
            description="Every experiment of each project as the API described it when the day was synced: "
            "name, URL, status, goal, traffic allocation. A snapshot; late captures are flagged.",
            group_name=GROUP, kinds=KINDS, metadata=spec_metadata("mida_experiments"),
        ),
        dg.AssetSpec(
            "mida_experiment_variants",
            description="The variants of each experiment (id, name, nickname; '0' is control), from the same snapshot.",
            group_name=GROUP, kinds=KINDS, metadata=spec_metadata("mida_experiment_variants"),
        ),
    ],
    partitions_def=daily,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
)
def mida_experiments(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake):
    days, captured_at, outcome = _run("mida_experiments", extract_experiments, context, mida, lake, snapshot=True)
    fail_on_errors("mida_experiments", outcome)
    for table in ("mida_experiments", "mida_experiment_variants"):
        yield dg.MaterializeResult(asset_key=table, metadata=run_metadata(table, outcome, lake.lake_dir, days, captured_at))


# No dependency on the experiments snapshot: results list the experiments themselves, so a snapshot
# that failed for one project (or was refused as late) never holds back the others' results.
@dg.asset(
    description="Each experiment's per-variant results for the day alone (window='day') and cumulative to the day "
    "(window='cumulative'): every field the result API documents (visitors, conversions, conversion rate in %, "
    "revenue, orders, traffic weight, the experiment's totals and settings). Reproducible for any past day.",
    group_name=GROUP, kinds=KINDS, metadata=spec_metadata("mida_experiment_results"),
    partitions_def=daily, backfill_policy=SINGLE_RUN, pool=POOL,
)
def mida_experiment_results(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
    days, captured_at, outcome = _run("mida_experiment_results", extract_results, context, mida, lake, snapshot=False)
    fail_on_errors("mida_experiment_results", outcome)
    return dg.MaterializeResult(metadata=run_metadata("mida_experiment_results", outcome, lake.lake_dir, days, captured_at))


def _snapshot_asset(table: str, description: str):
    async def extract(client, lake_dir, keys, days, tz, captured_at):
        return await extract_snapshot(client, lake_dir, table, keys, days, tz, captured_at)

    @dg.asset(
        name=table, description=description, group_name=GROUP, kinds=KINDS, metadata=spec_metadata(table),
        partitions_def=daily, backfill_policy=SINGLE_RUN, pool=POOL,
    )
    def _asset(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
        days, captured_at, outcome = _run(table, extract, context, mida, lake, snapshot=True)
        fail_on_errors(table, outcome)
        return dg.MaterializeResult(metadata=run_metadata(table, outcome, lake.lake_dir, days, captured_at))

    return _asset


mida_goals = _snapshot_asset(
    "mida_goals",
    "The goals defined in each project (key, name, type, value, purpose), as a snapshot of the synced day.",
)
mida_events = _snapshot_asset(
    "mida_events",
    "The custom events defined in each project (text, properties, creation time), as a snapshot of the synced day.",
)

assets = [mida_experiments, mida_experiment_results, mida_goals, mida_events]
