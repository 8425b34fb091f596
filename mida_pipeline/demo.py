"""`mida-pipeline demo`: the whole pipeline on the sandbox, from API to marts and report, in one command.

Progress comes from the Dagster instance itself: a watcher reads the runs'
materializations from storage (as the UI does) while the runs execute, so the
bars count real assets landing, not guesses. The runs' own logs (dbt's
included) go to <data>/demo.log; the terminal shows the bars and a summary.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mida_pipeline import days as cal
from mida_pipeline.report.alerts import KIND_LABELS

REPO = Path(__file__).resolve().parents[1]
SHOWN_ALERTS = 12  # the rest are counted; the mart and the report hold them all
PHASES = {"raw": "raw data: APIs → lake", "dbt": "dbt: staging and marts", "report": "experiment report"}


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
        "MIDA_REPORT_DIR": str(data_dir / "report"),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }


def phase_totals(days: int, weeks: int) -> dict[str, int]:
    """How many materializations each phase records: one per raw asset and day (or week), dbt model, report."""
    from mida_pipeline.defs.dbt_project import prepare_manifest

    prepare_manifest()
    from mida_pipeline.definitions import defs

    daily = defs.resolve_job_def("daily_raw").asset_layer.executable_asset_keys
    models = defs.resolve_job_def("models").asset_layer.executable_asset_keys
    report = {k for k in models if k.to_user_string() == "experiment_report"}
    return {"raw": len(daily) * days + weeks, "dbt": len(models - report), "report": len(report)}


def _phase(job: str, key: dg.AssetKey) -> str:
    if job in ("daily_raw", "weekly_raw"):
        return "raw"
    return "report" if key.to_user_string() == "experiment_report" else "dbt"


class Watcher(threading.Thread):
    """Counts materializations per phase in the instance's storage while the runs go on."""

    def __init__(self, home: Path, since: float, progress: Progress, tasks: dict[str, int]):
        super().__init__(daemon=True)
        self.home, self.since, self.progress, self.tasks = home, since, progress, tasks
        self.stopped = threading.Event()

    def poll(self, instance: dg.DagsterInstance) -> None:
        done: Counter = Counter()
        for run in instance.get_runs(filters=dg.RunsFilter(created_after=self._since())):
            records = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            for record in records:
                done[_phase(run.job_name, record.event_log_entry.dagster_event.asset_key)] += 1
        for phase, task in self.tasks.items():
            self.progress.update(task, completed=done[phase])

    def _since(self) -> datetime:
        return datetime.fromtimestamp(self.since, tz=timezone.utc)

    def run(self) -> None:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            while not self.stopped.wait(0.5):
                with contextlib.suppress(Exception):  # storage mid-write: the next poll sees it
                    self.poll(instance)
            with contextlib.suppress(Exception):
                self.poll(instance)


@dataclass
class Summary:
    data: Path
    runs: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    experiments: Counter = field(default_factory=Counter)  # by Mida's verdict (the report's badge)
    safe: Counter = field(default_factory=Counter)  # by the safe verdict: ready to call, not yet, split broken
    alerts: list[tuple[str, str]] = field(default_factory=list)  # the open alerts: (kind, message)

    @property
    def report(self) -> Path:
        return self.data / "report" / "index.html"

    def ui_command(self) -> str:
        dagster = Path(sys.executable).with_name("dagster")
        return (
            f"cd {REPO} && DAGSTER_HOME={self.data}/dagster_home MIDA_LAKE_DIR={self.data}/lake "
            f"MIDA_DUCKDB_PATH={self.data}/warehouse.duckdb MIDA_REPORT_DIR={self.data}/report {dagster} dev -w workspace.yaml"
        )


def run_demo(days: int = 28, data_dir: str = "data", console: Console | None = None) -> Summary:
    from mida_pipeline.config import Settings
    from mida_pipeline.runner import plan, run_range
    from mida_pipeline.sandbox.data import SandboxConfig
    from mida_pipeline.sandbox.server import SandboxServer

    console = console or Console(file=sys.stdout)
    data = Path(data_dir).resolve()
    home = data / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    # Storage is created here, once: the runs and the watcher then only open it (SQLite races on creation).
    (home / "dagster.yaml").touch()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    started = time.time()
    # A short history, so some experiments start inside the backfilled days: their whole life is in the lake, which
    # the revenue statistics need (the others show conversion only until backfilled from their first day).
    with SandboxServer(SandboxConfig(history_days=max(60, days + 30))) as sandbox:
        os.environ.update(demo_env(sandbox, data))
        settings = Settings.from_env()
        end = cal.latest_complete_day(settings.timezone)
        start = end - timedelta(days=days - 1)
        weeks = len(plan(start, end, settings).weeks)
        console.print(f"[bold]sandbox[/] at {sandbox.url}; backfilling {start} .. {end} into {data}")
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<26}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        tasks = {
            phase: progress.add_task(PHASES[phase], total=total) for phase, total in phase_totals(days, weeks).items()
        }
        watcher = Watcher(home, started - 1, progress, tasks)
        with progress, open(data / "demo.log", "w") as log:
            watcher.start()
            try:
                # dbt and the runs write to stdout; the bars own the terminal, the log keeps every line.
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    run_ids = run_range(start, end)
            finally:
                watcher.stopped.set()
                watcher.join(timeout=10)
    summary = summarize(data, len(run_ids), time.time() - started)
    print_summary(summary, console)
    return summary


def summarize(data: Path, runs: int, seconds: float) -> Summary:
    """Rows per raw table and mart, and the experiments by badge, read from the published warehouse."""
    from mida_pipeline.report.section import experiment_verdict

    summary = Summary(data=data, runs=runs, seconds=seconds)
    with contextlib.closing(duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'marts') ORDER BY table_schema DESC, table_name"
        ).fetchall()
        for (name,) in tables:
            summary.rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        scorecard = con.execute(
            "SELECT project_key, test_id, is_control, is_primary_goal, verdict, safe_verdict "
            "FROM marts.fct_experiment_scorecard"
        ).df()
        summary.alerts = con.execute(
            "SELECT alert_kind, message FROM marts.fct_experiment_alerts WHERE is_open "
            "ORDER BY alert_kind, project_key, test_id, variant_id"
        ).fetchall()
    for _, card in scorecard.groupby(["project_key", "test_id"]):
        summary.experiments[experiment_verdict(card)] += 1
        primary = card[card["is_primary_goal"].fillna(True).astype(bool) & ~card["is_control"].astype(bool)]
        safe = set(primary["safe_verdict"].dropna())
        summary.safe[
            "split broken" if "srm_warning" in safe else "ready to call" if safe & {"winner", "loser"} else "not yet"
        ] += 1
    return summary


def print_summary(summary: Summary, console: Console) -> None:
    console.print(
        f"[bold]done[/] in {summary.seconds:.0f} s, {summary.runs} Dagster runs; data in {summary.data}", soft_wrap=True
    )
    table = Table("table", "rows", title="rows per table")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    e, safe = summary.experiments, summary.safe
    console.print(f"[bold]experiments[/]: {sum(e.values())} with results")
    console.print(
        f"  safe verdict (valid however often you look; act on this): {safe['ready to call']} ready to call, "
        f"{safe['not yet']} not yet, {safe['split broken']} split broken",
        soft_wrap=True,
    )
    console.print(
        f"  Mida's verdict (a fixed-horizon rule, read daily): {e['winner']} with a winner, {e['loser']} with a loser, "
        f"{e['inconclusive']} inconclusive, {e['srm_warning']} with an SRM warning",
        soft_wrap=True,
    )
    console.print(f"[bold]open alerts[/]: {len(summary.alerts)} (marts.fct_experiment_alerts; docs/alerts.md)")
    for kind, message in summary.alerts[:SHOWN_ALERTS]:
        console.print(f"  {KIND_LABELS.get(kind, kind)}: {message}", soft_wrap=True, highlight=False, markup=False)
    if len(summary.alerts) > SHOWN_ALERTS:
        console.print(f"  … and {len(summary.alerts) - SHOWN_ALERTS} more")
    console.print(f"[bold]report[/]: {summary.report}", soft_wrap=True)
    console.print(f"[bold]logs[/]: {summary.data / 'demo.log'}", soft_wrap=True)
    console.print("[bold]open the Dagster UI on this data[/] (then http://127.0.0.1:3000):")
    console.print(summary.ui_command(), soft_wrap=True, highlight=False, markup=False)
