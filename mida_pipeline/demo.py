"""`mida-pipeline demo`: the whole pipeline on the sandbox, from API to marts, in one command."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from mida_pipeline import days as cal

console = Console()


def demo_env(sandbox, data_dir: Path) -> dict[str, str]:
    """The environment that points the pipeline at a running sandbox and at `data_dir`."""
    return {
        "MIDA_API_KEY": sandbox.api_key,
        "MIDA_PROJECT_KEYS": ",".join(sandbox.data.project_keys),
        "MIDA_API_BASE_URL": sandbox.mida_base_url,
        "MIDA_BSS_SECRET_KEY": sandbox.bss_secret,
        "MIDA_BSS_SYNC_URL": sandbox.bss_sync_url,
        "MIDA_LAKE_DIR": str(data_dir / "lake"),
        "MIDA_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }


def run_demo(days: int = 28, data_dir: str = "data") -> None:
    from mida_pipeline.sandbox.data import SandboxConfig
    from mida_pipeline.sandbox.server import SandboxServer

    data = Path(data_dir).resolve()
    (data / "dagster_home").mkdir(parents=True, exist_ok=True)
    with SandboxServer(SandboxConfig()) as sandbox:
        os.environ.update(demo_env(sandbox, data))
        end = cal.latest_complete_day(os.environ.get("MIDA_TIMEZONE", "UTC"))
        start = end - timedelta(days=days - 1)
        console.print(f"[bold]sandbox[/] at {sandbox.url}; backfilling {start} .. {end} into {data}")
        from mida_pipeline.runner import run_range

        with console.status("syncing raw data, building dbt models and the report..."):
            run_ids = run_range(start, end)
    summarize(data / "warehouse.duckdb", len(run_ids), data)


def summarize(warehouse: Path, runs: int, data: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'marts') ORDER BY 1"
        ).fetchall()
        counts = Table("table", "rows", title=f"landed in {warehouse} ({runs} Dagster runs)")
        for (name,) in tables:
            counts.add_row(name, f"{con.execute(f'SELECT count(*) FROM {name}').fetchone()[0]:,}")
        console.print(counts)
        if ("marts.fct_experiment_scorecard",) in tables:
            verdicts = con.execute(
                "SELECT verdict, count(*) FROM marts.fct_experiment_scorecard WHERE NOT is_control GROUP BY 1 ORDER BY 1"
            ).fetchall()
            console.print("variants by verdict: " + ", ".join(f"{v}: {n}" for v, n in verdicts))
    report = data / "report"
    if report.exists():
        console.print(f"report: {report}/index.html")
    console.print(
        f"open the UI on this data: DAGSTER_HOME={data}/dagster_home MIDA_LAKE_DIR={data}/lake "
        f"MIDA_DUCKDB_PATH={data}/warehouse.duckdb .venv/bin/dagster dev -w workspace.yaml"
    )
