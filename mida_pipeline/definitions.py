"""The code location: every asset, check, job, schedule and resource of the pipeline."""

import dagster as dg

from mida_pipeline.defs import (
    alert_assets,
    bss_assets,
    checks,
    dbt_assets,
    freshness,
    mida_assets,
    report_assets,
    schedules,
    source_checks,
)
from mida_pipeline.defs.resources import resources

# Every run executes its steps in the run's own process, one after another, as the command line does: the raw assets
# wait on the APIs (each bounded by its pool and MIDA_MAX_CONCURRENCY), and a process per step would load the code
# location again for each of a run's dozen steps. Pools still hold across runs (the instance enforces them).
defs = dg.Definitions(
    assets=[
        *mida_assets.assets,
        *bss_assets.assets,
        dbt_assets.mida_dbt_models,
        *report_assets.assets,
        *alert_assets.assets,
    ],
    asset_checks=[*checks.checks, *source_checks.checks, *freshness.checks, *alert_assets.checks],
    jobs=schedules.jobs,
    schedules=schedules.schedules,
    sensors=[*schedules.sensors, *freshness.sensors],
    resources={**resources(), "dbt": dbt_assets.dbt_resource()},
    executor=dg.in_process_executor,
)
