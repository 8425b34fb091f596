"""The dbt project and its manifest, prepared before the code location loads.

The manifest is made by `prepare_manifest()`: from the command line (`python -m
mida_pipeline.defs.dbt_project`, which `make install` runs), from `mida-pipeline`
before it loads the definitions, from the tests, and under `dagster dev`, whose
`prepare_if_dev` calls the same function. Importing this module starts nothing
outside `dagster dev`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject
from filelock import FileLock

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
DBT = Path(sys.executable).with_name("dbt")
# Where the last few builds' dbt.log and run_results.json stay, for debugging (each build's own target folder goes).
RUNS_DIR = DBT_DIR / "target" / "runs"
KEEP_RUNS = 5
KEPT_FILES = ("dbt.log", "run_results.json")


project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def manifest_is_stale(dbt_project: DbtProject = project) -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    sources = [
        p
        for p in Path(dbt_project.project_dir).rglob("*")
        if p.suffix in {".sql", ".yml", ".py", ".md"} and "target" not in p.parts
    ]
    return max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime


def prepare_manifest(dbt_project: DbtProject = project) -> Path:
    """Parse the project when the manifest is missing or older than a model.

    Several processes may ask at once (two syncs, the webserver, the daemon): the
    check and the parse hold a lock, and the parse writes into a private folder
    whose manifest is renamed into place, so no process reads a half-written one.
    """
    manifest = dbt_project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(manifest.parent / ".parse.lock"):
        if not manifest_is_stale(dbt_project):
            return manifest
        private = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
        try:
            subprocess.run(
                [
                    str(DBT),
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(dbt_project.project_dir),
                    "--profiles-dir",
                    str(dbt_project.profiles_dir),
                    "--target-path",
                    str(private),
                ],
                check=True,
                cwd=dbt_project.project_dir,
                capture_output=True,
            )
            os.replace(private / "manifest.json", manifest)
        finally:
            shutil.rmtree(private, ignore_errors=True)
    return manifest


PARTIAL_PARSE = "partial_parse.msgpack"


@contextmanager
def run_target(
    run_id: str, runs_dir: Path = RUNS_DIR, keep: int = KEEP_RUNS, parse_cache: Path | None = None
) -> Iterator[Path]:
    """A dbt invocation's target folder, removed when the invocation ends.

    dbt writes its compiled SQL, manifest and logs there (megabytes a run, which a daily schedule would pile up in the
    code's own folder); its log and results are copied to `runs_dir/<UTC time>-<run id>/`, where the last `keep`
    runs stay. The folder is the invocation's own, so concurrent runs never remove each other's files.

    `parse_cache`: where the last invocation's parse is kept for the next (dbt's partial parsing, seconds a build).
    dbt reuses it only when the project, its vars, profile and dbt's version are the same, and parses everything
    otherwise; so it is kept per warehouse, whose builds take turns (lake/warehouse.py `exclusive`).
    """
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as tmp:
        target = Path(tmp)
        if parse_cache is not None and parse_cache.exists():
            shutil.copy2(parse_cache, target / PARTIAL_PARSE)
        try:
            yield target
        finally:
            if parse_cache is not None and (target / PARTIAL_PARSE).exists():
                shutil.copy2(target / PARTIAL_PARSE, parse_cache.with_name(f".{parse_cache.name}.new"))
                os.replace(parse_cache.with_name(f".{parse_cache.name}.new"), parse_cache)
            name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{run_id[:8]}"
            staged = runs_dir / f".{name}"
            staged.mkdir(parents=True, exist_ok=True)
            for file in KEPT_FILES:
                if (target / file).exists():
                    shutil.copy2(target / file, staged / file)
            # Oldest out first, then the new one in, under a lock: never more than `keep` runs, whoever looks.
            with FileLock(runs_dir / ".lock"):
                kept = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
                for old in kept[: max(0, len(kept) - keep + 1)]:
                    shutil.rmtree(old, ignore_errors=True)
                os.replace(staged, runs_dir / name)


def window_flags(window: tuple[str, str] | None) -> list[str]:
    """dbt's flags for a run's window (its first and last day, YYYY-MM-DD): dbt takes the end exclusive."""
    if window is None:
        return []
    end = date.fromisoformat(window[1]) + timedelta(days=1)
    return ["--event-time-start", date.fromisoformat(window[0]).isoformat(), "--event-time-end", end.isoformat()]


def growing_tables(manifest: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, int]]:
    """The models that grow by the day: incremental with an `event_time`, the day column whose days a run replaces
    (dbt/macros/run_window.sql). Their day column, and how many days before a run's first day it may replace (meta
    `window_lead_days`: a week is keyed by its Monday)."""
    growing = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if (
            node["resource_type"] == "model"
            and config.get("materialized") == "incremental"
            and config.get("event_time")
        ):
            lead = int(config.get("meta", {}).get("window_lead_days", 0))
            growing[(node["schema"], node["alias"])] = (config["event_time"], lead)
    return growing


def changed_from(
    growing: Mapping[tuple[str, str], tuple[str, int]], window: tuple[str, str] | None
) -> dict[tuple[str, str], date] | None:
    """The first day of each growing table a build with this window may have replaced; None when it had none."""
    if window is None:
        return None
    start = date.fromisoformat(window[0])
    return {table: start - timedelta(days=lead) for table, (_column, lead) in growing.items()}


# Under `dagster dev` only (the switch DbtProject.prepare_if_dev reads), so a model edited while developing shows
# on reload. Dagster's own preparer would parse in every process `dagster dev` starts, each run's too, writing the
# manifest in place; this one parses once, when a model changed, and renames a whole manifest into place.
if project.preparer.using_dagster_dev():
    prepare_manifest()


if __name__ == "__main__":  # pragma: no cover - the command that prepares the manifest
    print(prepare_manifest())
