"""The dbt project as Dagster assets: staging views and marts, tests as asset checks.

dbt builds into the private build file and the finished file is published in
one rename (see lake/warehouse.py), so BI tools never see half-built marts.
"""


import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from mida_pipeline.defs.resources import Lake

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def ensure_manifest() -> Path:
    """Parse the project when the manifest is missing or older than a model, so a fresh clone loads.

    Several processes may load the code location at once (two syncs, the
    webserver and a run): the check and the parse hold a lock, and the parse
    writes into a private folder whose manifest is renamed into place, so no
    process ever reads a half-written manifest.
    """
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = [p for p in DBT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".py"} and "target" not in p.parts]
        if manifest.exists() and max(p.stat().st_mtime for p in sources) <= manifest.stat().st_mtime:
            return manifest
        private = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
        try:
            subprocess.run(
                [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet", "--project-dir", str(DBT_DIR),
                 "--profiles-dir", str(DBT_DIR), "--target-path", str(private)],
                check=True, cwd=DBT_DIR, capture_output=True,
            )
            os.replace(private / "manifest.json", manifest)
        finally:
            shutil.rmtree(private, ignore_errors=True)
    return manifest


class Translator(DagsterDbtTranslator):
    """dbt sources are the raw lake assets; models are grouped by their folder (staging, marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> Optional[str]:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=ensure_manifest(),
    project=project,
    dagster_dbt_translator=Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def mida_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, lake: Lake):
    """Refresh raw views, build the dbt project in the private file, then publish it."""
    warehouse = lake.warehouse()
    with warehouse.exclusive() as build_path:
        warehouse.refresh_raw()
        os.environ["MIDA_DBT_BUILD_PATH"] = str(build_path)
        # Raw runs publish the build file too: a failed or killed build must leave no half-built marts in it.
        with warehouse.rebuilding():
            yield from dbt.cli(["build"], context=context).stream()
        warehouse.publish()
    context.log.info(f"published {warehouse.published_path}")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_DIR), dbt_executable=str(Path(sys.executable).with_name("dbt")))
