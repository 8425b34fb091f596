"""The dbt project as Dagster assets: staging views and marts, tests as asset checks.

dbt builds into the private build file, and the finished build is published as
a catalog swapped in with one rename (see lake/warehouse.py), so BI tools never
see half-built marts. The
manifest is read, never made, here (see dbt_project.py).
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from mida_pipeline.defs.automation import MODELS_FOLLOW_RAW
from mida_pipeline.defs.dbt_project import DBT, DBT_DIR, changed_from, growing_tables, project, run_target
from mida_pipeline.defs.rebuild import synced_days
from mida_pipeline.defs.resources import Lake
from mida_pipeline.defs.source_checks import report_build_results


def _manifest() -> Path:
    if not project.manifest_path.exists():
        # One line that says what to do, instead of dagster-dbt's traceback about a missing file.
        raise FileNotFoundError(
            f"the dbt manifest {project.manifest_path} is missing: run `python -m mida_pipeline.defs.dbt_project` "
            "(or `make install`) once, then load the code location again"
        )
    return project.manifest_path


class Translator(DagsterDbtTranslator):
    """dbt sources are the raw lake assets; models are grouped by their folder (staging, marts) and rebuilt by
    the daemon after raw data lands (automation.MODELS_FOLLOW_RAW)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return MODELS_FOLLOW_RAW


class BuildConfig(dg.Config):
    """`full_refresh`: rebuild the marts that grow by the day from every day of the lake (never by default)."""

    full_refresh: bool = False


# A mart every build writes: its last materialization is when the models were last built.
LAST_BUILT = dg.AssetKey(["marts", "fct_experiment_variant_daily"])


def build_vars(context: dg.AssetExecutionContext, lake: Lake, build_path: Path, config: BuildConfig) -> dict:
    """What dbt is told: its build file, the statistics' tuning, and (unless a full refresh is asked) the days the
    raw runs since the last build synced, so the marts that grow by the day read and replace only those."""
    variables = {"mida_build_path": str(build_path), "sequential_tuning": lake.settings().sequential_tuning}
    if not config.full_refresh:
        last = context.instance.get_latest_materialization_event(LAST_BUILT)
        days = synced_days(context.instance, last.timestamp if last else None)
        if days:
            variables.update(sync_start=days[0], sync_end=days[1])
    return variables


@dbt_assets(
    manifest=_manifest(),
    project=project,
    # dbt's tests on the models are asset checks of the models. Its tests on the raw tables run in the same build and
    # are reported to the raw assets' checks (source_checks.py), which are not checks of this asset: a check is
    # selected with its asset, so every raw run would otherwise start the whole dbt build.
    dagster_dbt_translator=Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def mida_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, lake: Lake, config: BuildConfig):
    """Refresh raw views, build the dbt project in the private file, then publish it."""
    warehouse = lake.warehouse()
    with warehouse.exclusive() as build_path:
        warehouse.refresh_raw()
        variables = build_vars(context, lake, build_path, config)
        context.log.info("dbt vars: " + ", ".join(f"{k}={v}" for k, v in variables.items() if k != "mida_build_path"))
        # The build file reaches dbt's profile as a variable: nothing in this process's environment changes.
        build = ["build", "--vars", json.dumps(variables), *(["--full-refresh"] if config.full_refresh else [])]
        # A raw write that lands a first partition publishes the build file too: a failed or killed build must leave
        # no half-built marts in it.
        with warehouse.rebuilding(), run_target(context.run.run_id) as target:
            invocation = dbt.cli(build, context=context, target_path=target)
            try:
                yield from invocation.stream()
            finally:
                report_build_results(context, invocation)
            warehouse.drop_build_leftovers()
        growing = growing_tables(json.loads(_manifest().read_text()))
        changed = None if config.full_refresh else changed_from(growing, variables)
        warehouse.publish({table: column for table, (column, _lead) in growing.items()}, changed)
    context.log.info(f"published {warehouse.published_path}")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_DIR), dbt_executable=str(DBT))
