"""Plain helpers the tests share: the CLI run as a user runs it, the environment that points it at a sandbox,
and the sandbox's own truth about each variant's results, to compare with what the warehouse holds."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from mida_pipeline import days as cal

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("mida-pipeline")


def sandbox_env(sandbox, root: Path) -> dict[str, str]:
    """The environment of a pipeline process synced from `sandbox` into `root` (lake, warehouse, DAGSTER_HOME)."""
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    env.update(
        MIDA_API_KEY=sandbox.api_key,
        MIDA_PROJECT_KEYS=",".join(sandbox.data.project_keys),
        MIDA_API_BASE_URL=sandbox.mida_base_url,
        MIDA_BSS_SECRET_KEY=sandbox.bss_secret,
        MIDA_BSS_SYNC_URL=sandbox.bss_sync_url,
        MIDA_LAKE_DIR=str(root / "lake"),
        MIDA_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MIDA_START_DATE="2025-01-01",
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    return env


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`mida-pipeline ARGS` in its own process, as a user runs it."""
    proc = subprocess.run([str(CLI), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"mida-pipeline {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def results(con, day: date, window: str) -> dict:
    rows = con.execute(
        "SELECT project_key, test_id, variant_id, visitors, conversions, revenue FROM raw.mida_experiment_results "
        'WHERE date = ? AND "window" = ? AND is_primary_goal',
        [day, window],
    ).fetchall()
    return {(pk, tid, vid): (v, c, r or 0.0) for pk, tid, vid, v, c, r in rows}


def expected(sandbox, day: date, window: str) -> dict:
    """What the sandbox itself says each variant had on `day` (or from its start to `day`), from its daily truth."""
    data = sandbox.data
    out = {}
    for pk in data.project_keys:
        for exp in data.experiment_records(pk):
            if exp.status == 9 or exp.created > day:
                continue
            start = day if window == "day" else exp.created
            for variant_id in exp.variant_ids:
                counts = [data.daily(pk, exp.test_id, variant_id, d) for d in cal.days(start, day)]
                revenue = data.window(pk, exp.test_id, variant_id, start, day).revenue
                out[(pk, exp.test_id, variant_id)] = (
                    sum(c.visitors for c in counts),
                    sum(c.conversions for c in counts),
                    revenue,
                )
    return out


@contextmanager
def instance_at(home: str):
    """The Dagster instance a pipeline process with DAGSTER_HOME=`home` wrote its runs to, opened in this process."""
    import dagster as dg  # here, not at import: most tests never open an instance

    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = home
    try:
        with dg.DagsterInstance.get() as inst:
            yield inst
    finally:
        if before is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = before
