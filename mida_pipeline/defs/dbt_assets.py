"""The dbt project as Dagster assets: staging views and marts, tests as asset checks.

dbt builds into the private build file, and the finished build is published as
a catalog swapped in with one rename (see lake/warehouse.py), so BI tools never
see half-built marts. The
manifest is read, never made, here (see dbt_project.py).
"""

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from packaging.version import Version

from mida_pipeline.defs.automation import MODELS_FOLLOW_RAW
from mida_pipeline.defs.dbt_project import (
    DBT,
    DBT_DIR,
    PARTIAL_PARSE,
    changed_from,
    growing_tables,
    project,
    run_target,
    window_flags,
)
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


def build_vars(lake: Lake, build_path: Path) -> dict:
    """What dbt is told through its vars: its build file and the statistics' tuning (the same every build, so dbt
    parses only what changed since the last one)."""
    return {"mida_build_path": str(build_path), "sequential_tuning": lake.settings().sequential_tuning}


def build_args(context: dg.AssetExecutionContext, config: BuildConfig) -> tuple[list[str], tuple[str, str] | None]:
    """What the build covers, as dbt's flags, and its window (dbt/macros/run_window.sql): the days the raw runs since
    the last build synced, so the marts that grow by the day read and replace only those. `--full-refresh` when
    asked; no window (every day brought up to date) when the models were never built here or no raw run says which
    days it covered."""
    if config.full_refresh:
        return ["--full-refresh"], None
    last = context.instance.get_latest_materialization_event(LAST_BUILT)
    window = synced_days(context.instance, last.timestamp if last else None)
    return window_flags(window), window


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
        variables = build_vars(lake, build_path)
        covers, window = build_args(context, config)
        covered = " ".join(covers) or "of every day"
        context.log.info(f"dbt build {covered}, sequential_tuning={variables['sequential_tuning']}")
        # The build file reaches dbt's profile as a variable: nothing in this process's environment changes.
        build = ["build", "--vars", json.dumps(variables), *covers]
        # A raw write that lands a first partition publishes the build file too: a failed or killed build must leave
        # no half-built marts in it.
        parse_cache = build_path.with_name("dbt_" + PARTIAL_PARSE)
        with warehouse.rebuilding(), run_target(context.run.run_id, parse_cache=parse_cache) as target:
            invocation = dbt.cli(build, context=context, target_path=target)
            try:
                yield from invocation.stream()
            finally:
                report_build_results(context, invocation)
            warehouse.drop_build_leftovers()
        growing = growing_tables(json.loads(_manifest().read_text()))
        changed = changed_from(growing, window)
        warehouse.publish({table: column for table, (column, _lead) in growing.items()}, changed)
    context.log.info(f"published {warehouse.published_path}")


class DbtCli(DbtCliResource):
    """dagster-dbt's resource without the two things it prepares in this process before every invocation for features
    the pipeline does not use.

    - It runs `dbt --version` to learn which engine it drives (about 2 s, and a request to PyPI for the latest
      release). The executable is the `dbt` of this environment's dbt-core, so the package's version is the answer.
    - It builds a dbt adapter with the project's macros (about 1.5 s) so that `fetch_column_metadata()` and
      `fetch_row_counts()` can query the warehouse from this process. The pipeline calls neither; dbt itself runs in
      its own process, as before.

    Both are private hooks of dagster-dbt's resource: mida_pipeline_tests/defs/test_dbt_assets.py fails when an
    upgrade renames them, instead of the savings going quietly.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    return DbtCli(project_dir=project, profiles_dir=str(DBT_DIR), dbt_executable=str(DBT))
