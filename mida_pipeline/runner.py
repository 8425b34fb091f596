"""Runs the pipeline's jobs as real Dagster runs, for the command line.

A day is one run of the daily raw assets, a range is still one run (the assets
read the whole range), the closed weeks inside it one more, and the models one
last: as few runs as the partition layout allows.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef
from filelock import FileLock

from mida_pipeline import days as cal
from mida_pipeline import event_log
from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.defs.rebuild import rebuild_models

# The command line prints its own one-line outcome; the full logs stay in the run's storage.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class RunFailed(Exception):
    """A Dagster run failed; the message is one line per failed step."""


@dataclass
class Plan:
    start: date
    end: date
    weeks: list[date] = field(default_factory=list)


def plan(start: date, end: date, settings: Settings, now: datetime | None = None) -> Plan:
    """Check the range against the clock (`now`, else the current time) and find the weeks (Monday..Sunday) that end inside it."""
    latest = cal.latest_complete_day(settings.timezone, now)
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}; give the earlier day first")
    if end > latest:
        raise ConfigError(
            f"{end} has not closed yet in {settings.timezone} (the latest closed day is {latest}); pick {latest} or earlier"
        )
    if start < settings.start_date:
        raise ConfigError(
            f"{start} is before MIDA_START_DATE ({settings.start_date}); lower MIDA_START_DATE to go further back"
        )
    weeks = [d - timedelta(days=6) for d in cal.days(start, end) if d.weekday() == 6]
    return Plan(start, end, [w for w in weeks if w >= settings.start_date])


def instance() -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME when set, so runs show in the UI; else a throwaway one.

    Its dagster.yaml is read as Dagster reads it; where that names no storage (SQLite files under DAGSTER_HOME, the
    default), the event log is kept by event_log.py's class, the same files written at less cost."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    home = os.path.abspath(os.path.expanduser(home))
    Path(home).mkdir(parents=True, exist_ok=True)
    config_file = Path(home) / "dagster.yaml"
    config = yaml.safe_load(config_file.read_text()) if config_file.exists() else None
    # Two commands starting at once on a new DAGSTER_HOME would both create its SQLite storage and collide on
    # the schema's version row; the storage is created when the instance is, so one at a time.
    with FileLock(Path(home) / ".mida-pipeline.lock"):
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(home, overrides=event_log.overrides(home, config)))


def _selection(defs: dg.Definitions, settings: Settings, job: str) -> list[dg.AssetKey]:
    keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
    wanted = []
    for key in keys:
        name = key.to_user_string()
        if name.startswith("mida_") and not (settings.mida_api_key and settings.project_keys):
            continue
        if name.startswith("bss_") and not settings.bss_secret_key:
            continue
        wanted.append(key)
    return wanted


def _execute(
    defs, inst, job: str, start: str | None = None, end: str | None = None, selection=None
) -> dg.ExecuteInProcessResult:
    tags = {}
    if start:
        tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end or start}
    job_def = defs.resolve_job_def(job)
    if selection is not None:
        # The job's own checks only: selecting assets alone would add every check on them, the raw tables' dbt source
        # tests among them, and with those the whole dbt build into a raw run.
        checks = job_def.asset_layer.asset_graph.asset_check_keys
        job_def = job_def.get_subset(
            asset_selection=set(selection), asset_check_selection={k for k in checks if k.asset_key in set(selection)}
        )
    return job_def.execute_in_process(instance=inst, tags=tags, raise_on_error=False, run_config=QUIET)


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    lines = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            if user and user.description:
                text = user.description
            else:
                while error is not None and error.cause is not None:  # the root cause, not Dagster's wrapper
                    error = error.cause
                text = f"{error.cls_name}: {error.message}" if error else "failed"
                text = text.split(": ", 1)[1] if error and error.cls_name and text.count(error.cls_name) > 1 else text
            lines.append(f"{event.step_key}: {text.strip().splitlines()[0]}")
    return lines


def run_range(start: date, end: date, *, models: bool = True, settings: Settings | None = None) -> list[str]:
    """Sync every source for start..end (and the weeks inside), then dbt and the report. Returns run ids.

    The settings and the range are checked first: a command refused for them answers before dbt's manifest and the
    code location (seconds of imports) are loaded."""
    settings = settings or Settings.from_env()
    p = plan(start, end, settings)
    if not (settings.mida_api_key and settings.project_keys) and not settings.bss_secret_key:
        raise ConfigError("nothing to sync: set MIDA_API_KEY and MIDA_PROJECT_KEYS, or MIDA_BSS_SECRET_KEY")
    from mida_pipeline.defs.dbt_project import prepare_manifest

    prepare_manifest()  # the code location reads the manifest; a model edited since is parsed again first
    from mida_pipeline.definitions import defs

    with _quiet():
        inst = instance()
        return _run_all(defs, inst, settings, p, models)


@contextlib.contextmanager
def _quiet():
    """Keep Dagster's own notices (no dagster.yaml yet, the first-run telemetry banner) off the CLI's one line."""
    logger = logging.getLogger("dagster")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _run_all(defs, inst, settings: Settings, p: Plan, models: bool) -> list[str]:
    """Raw runs, then the models when the rule says so (defs/rebuild.py); a failed raw run still fails the command,
    naming what failed, after the models are rebuilt from whatever landed."""
    raw = [
        _execute(
            defs, inst, "daily_raw", p.start.isoformat(), p.end.isoformat(), _selection(defs, settings, "daily_raw")
        )
    ]
    if p.weeks and settings.bss_secret_key:
        raw.append(_execute(defs, inst, "weekly_raw", p.weeks[0].isoformat(), p.weeks[-1].isoformat()))
    failures = [line for r in raw if not r.success for line in (_failures(r) or [f"run {r.run_id} failed"])]
    runs = list(raw)
    if models and rebuild_models(inst, [r.run_id for r in raw]):
        built = _execute(defs, inst, "models")
        runs.append(built)
        if not built.success:
            failures += _failures(built) or [f"run {built.run_id} of models failed"]
    if failures:
        raise RunFailed("\n".join(failures))
    return [r.run_id for r in runs]
