"""Mida V2 raw assets: experiments and their goals, every goal's results and daily rows, segments, goals, events, the projects'
configuration and the company's projects, one daily partition per day.

Raw assets write the lake only: the raw views read it in place, and the warehouse is published once per
run, by the models that follow (defs/dbt_assets.py); a raw write publishes only when it gave a table its
first partition (Lake.landing).
"""

import asyncio

import dagster as dg

from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.days import is_late_capture
from mida_pipeline.defs.metadata import fail_on_errors, run_metadata, spec_metadata
from mida_pipeline.defs.partitions import daily, partition_days
from mida_pipeline.defs.resources import Lake, MidaApi
from mida_pipeline.extract import mida as extract
from mida_pipeline.extract import units
from mida_pipeline.lake.schemas import TABLES

GROUP = "mida_raw"
POOL = "mida_api"
KINDS = {"python", "parquet"}
SINGLE_RUN = dg.BackfillPolicy.single_run()


def _refuse_late(days, captured_at, s: Settings) -> None:
    if s.refuse_late_capture:
        late = [d for d in days if is_late_capture(d, captured_at, s.timezone)]
        if late:
            raise ConfigError(
                f"refusing to snapshot {len(late)} past day(s) from {late[0]} (MIDA_REFUSE_LATE_CAPTURE is on): "
                "the API only knows today's state; unset it to record today's state flagged is_late_capture"
            )


def _run(extract_fn, context, mida: MidaApi, *, snapshot: bool, company: bool = False):
    """Runs `extract_fn(client, keys, days, tz, captured_at)` for the run's days and projects (inside `lake.landing`)."""
    s = mida.settings()
    days = partition_days(context)
    captured_at = units.now_utc()
    if snapshot:
        _refuse_late(days, captured_at, s)

    async def go():
        async with mida.client() as client:
            keys = mida.configured_projects()[:1] if company else await mida.projects(client)
            return await extract_fn(client, keys, days, s.timezone, captured_at)

    return days, captured_at, asyncio.run(go())


def _spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        table, description=TABLES[table].description, group_name=GROUP, kinds=KINDS, metadata=spec_metadata(table)
    )


def _results(table: str, outcome, lake: Lake, days, captured_at):
    fail_on_errors(table, outcome)
    return dg.MaterializeResult(
        asset_key=table, metadata=run_metadata(table, outcome, lake.lake_dir, days, captured_at)
    )


EXPERIMENT_TABLES = ("mida_experiments", "mida_experiment_variants", "mida_experiment_goals")


@dg.multi_asset(
    specs=[_spec(t) for t in EXPERIMENT_TABLES], partitions_def=daily, backfill_policy=SINGLE_RUN, pool=POOL
)
def mida_experiments(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake):
    """Experiments as the API described them when the day was synced, their variants, and every goal each one
    measures (primary and secondary). A snapshot; late captures are flagged."""
    with lake.landing(EXPERIMENT_TABLES, context.log):
        days, captured_at, outcome = _run(
            lambda client, keys, *rest: extract.extract_experiments(client, lake.lake_dir, keys, *rest),
            context,
            mida,
            snapshot=True,
        )
        fail_on_errors("mida_experiments", outcome)
    for table in EXPERIMENT_TABLES:
        yield dg.MaterializeResult(
            asset_key=table, metadata=run_metadata(table, outcome, lake.lake_dir, days, captured_at)
        )


# No dependency on the experiments snapshot: results list the experiments themselves, so a snapshot
# that failed for one project (or was refused as late) never holds back the others' results.
@dg.asset(
    description="Each experiment's per-variant results for every goal it measures (the primary goal and each secondary "
    "goal), for the day alone (window='day') and cumulative to the day (window='cumulative'): every field the result API "
    "documents. Days are cut at MIDA_TIMEZONE's midnight (sent as its hour offset). Reproducible for any past day.",
    group_name=GROUP,
    kinds=KINDS,
    metadata=spec_metadata("mida_experiment_results"),
    partitions_def=daily,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
)
def mida_experiment_results(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
    with lake.landing(["mida_experiment_results"], context.log):
        days, captured_at, outcome = _run(
            lambda client, keys, *rest: extract.extract_results(client, lake.lake_dir, keys, *rest),
            context,
            mida,
            snapshot=False,
        )
        return _results("mida_experiment_results", outcome, lake, days, captured_at)


@dg.asset(
    description="Each experiment's daily rows for every goal it measures, per variant, as the dashboard's chart has "
    "them: visitors, conversions, revenue, orders and, for revenue goals, the per-visitor second moments the "
    "revenue-per-visitor and order-value statistics rest on. One call per experiment and goal for the run's whole "
    "range, whatever its length.",
    group_name=GROUP,
    kinds=KINDS,
    metadata=spec_metadata("mida_experiment_timeseries"),
    partitions_def=daily,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
)
def mida_experiment_timeseries(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
    with lake.landing(["mida_experiment_timeseries"], context.log):
        days, captured_at, outcome = _run(
            lambda client, keys, *rest: extract.extract_timeseries(client, lake.lake_dir, keys, *rest),
            context,
            mida,
            snapshot=False,
        )
        return _results("mida_experiment_timeseries", outcome, lake, days, captured_at)


@dg.asset(
    description="Each experiment's cumulative primary-goal result broken down by every dimension in MIDA_BREAKDOWNS "
    "(default: device): visitors, conversions and revenue per segment and variant. Exploratory: read it to find where "
    "an effect lives, not to call a winner. Empty when MIDA_BREAKDOWNS is empty.",
    group_name=GROUP,
    kinds=KINDS,
    metadata=spec_metadata("mida_experiment_result_segments"),
    partitions_def=daily,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
)
def mida_experiment_result_segments(
    context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake
) -> dg.MaterializeResult:
    dims = mida.settings().breakdowns
    with lake.landing(["mida_experiment_result_segments"], context.log):
        days, captured_at, outcome = _run(
            lambda client, keys, *rest: extract.extract_segments(
                client, lake.lake_dir, keys if dims else [], *rest, dims
            ),
            context,
            mida,
            snapshot=False,
        )
        return _results("mida_experiment_result_segments", outcome, lake, days, captured_at)


def _snapshot_asset(table: str, description: str):
    @dg.asset(
        name=table,
        description=description,
        group_name=GROUP,
        kinds=KINDS,
        metadata=spec_metadata(table),
        partitions_def=daily,
        backfill_policy=SINGLE_RUN,
        pool=POOL,
    )
    def _asset(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
        with lake.landing([table], context.log):
            days, captured_at, outcome = _run(
                lambda client, keys, *rest: extract.extract_snapshot(client, lake.lake_dir, table, keys, *rest),
                context,
                mida,
                snapshot=True,
            )
            return _results(table, outcome, lake, days, captured_at)

    return _asset


mida_goals = _snapshot_asset(
    "mida_goals",
    "The goals defined in each project (key, name, type, value, purpose), as a snapshot of the synced day.",
)
mida_events = _snapshot_asset(
    "mida_events",
    "The custom events defined in each project (text, properties, creation time), as a snapshot of the synced day.",
)
mida_project_configuration = _snapshot_asset(
    "mida_project_configuration",
    "Each project's statistics settings as Mida's Global Settings hold them (Bayesian or frequentist, one or two "
    "tails, the threshold, the primary and secondary goals): the rule the scorecard's verdict follows.",
)


@dg.asset(
    description="Every project of the company (active and paused), listed through the first key of MIDA_PROJECT_KEYS. "
    "With MIDA_DISCOVER_PROJECTS on, the active ones are the projects every sync covers.",
    group_name=GROUP,
    kinds=KINDS,
    metadata=spec_metadata("mida_projects"),
    partitions_def=daily,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
)
def mida_projects(context: dg.AssetExecutionContext, mida: MidaApi, lake: Lake) -> dg.MaterializeResult:
    with lake.landing(["mida_projects"], context.log):
        days, captured_at, outcome = _run(
            lambda client, keys, *rest: extract.extract_projects(client, lake.lake_dir, keys[0], *rest),
            context,
            mida,
            snapshot=True,
            company=True,
        )
        return _results("mida_projects", outcome, lake, days, captured_at)


assets = [
    mida_experiments,
    mida_experiment_results,
    mida_experiment_timeseries,
    mida_experiment_result_segments,
    mida_goals,
    mida_events,
    mida_project_configuration,
    mida_projects,
]
