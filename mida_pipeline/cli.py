"""`mida-pipeline`: sync a day, backfill a range, run the demo, serve the sandbox, export the warehouse, check the
setup."""

from __future__ import annotations

import sys
import warnings
from datetime import date
from pathlib import Path

import click

from mida_pipeline.config import ConfigError, parse_date


def _day(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_date(value, f"--{param.name}")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).split("=", 1)[-1]) from None


def _fail(message: str) -> None:
    click.echo(f"mida-pipeline: {message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Mida and MIDA Session Replay data into Parquet, DuckDB and dbt marts."""
    import dagster as dg

    # Single-run backfill policies, pools and the automation sensor are deliberate; their beta notices would only
    # clutter the command's output. Set here, for this command's process, never by importing the package.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def _run(start: date, end: date) -> None:
    from mida_pipeline.runner import RunFailed, run_range

    try:
        run_ids = run_range(start, end)
    except (ConfigError, RunFailed) as exc:
        _fail(str(exc))
    except Exception as exc:  # anything else still ends in one line, not a traceback
        _fail(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'failed'}")
    click.echo(f"synced {start}..{end} in {len(run_ids)} runs: {' '.join(r[:8] for r in run_ids)}")


@main.command()
@click.option("--date", "day", required=True, callback=_day, help="The day to sync (YYYY-MM-DD), in MIDA_TIMEZONE.")
def sync(day: date) -> None:
    """Everything for one day: daily partitions, the week ending that day, dbt, the report."""
    _run(day, day)


@main.command()
@click.option("--start", required=True, callback=_day, help="First day (YYYY-MM-DD).")
@click.option("--end", required=True, callback=_day, help="Last day (YYYY-MM-DD), included.")
def backfill(start: date, end: date) -> None:
    """Everything for a range of days, in as few runs as possible."""
    _run(start, end)


@main.command()
@click.option("--port", default=8765, show_default=True, help="Loopback port to listen on.")
@click.option("--seed", default=7, show_default=True)
@click.option("--projects", default=3, show_default=True, help="How many projects.")
@click.option("--experiments", default=8, show_default=True, help="Experiments per project.")
@click.option(
    "--bss-mode",
    type=click.Choice(["echo", "documented"]),
    default="echo",
    show_default=True,
    help="echo serves the period asked; documented ignores it and serves the previous day or week.",
)
def sandbox(port: int, seed: int, projects: int, experiments: int, bss_mode: str) -> None:
    """Serve a local stand-in of both APIs in the foreground."""
    from mida_pipeline.sandbox.data import SandboxConfig
    from mida_pipeline.sandbox.server import serve

    serve(port, SandboxConfig(seed=seed, projects=projects, experiments_per_project=experiments), bss_mode=bss_mode)


@main.command()
@click.option(
    "--days", default=28, show_default=True, type=click.IntRange(1, 3660), help="How many closed days to backfill."
)
@click.option("--data-dir", default="data", show_default=True, help="Where the lake and warehouse go.")
def demo(days: int, data_dir: str) -> None:
    """Start the sandbox, backfill the last days into ./data, build the marts and the report."""
    from mida_pipeline.demo import run_demo

    try:
        run_demo(days=days, data_dir=data_dir)
    except Exception as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@main.command()
@click.option(
    "--to", "target", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write."
)
def export(target: Path) -> None:
    """A standalone copy of the published warehouse, every mart a table inside it (for MotherDuck or another machine)."""
    from mida_pipeline.config import Settings
    from mida_pipeline.lake.warehouse import Warehouse

    try:
        settings = Settings.from_env()
        warehouse = Warehouse(published_path=settings.duckdb_path.resolve(), lake_dir=settings.lake_dir)
        written = warehouse.export(target.resolve())
    except (ConfigError, OSError) as exc:
        _fail(str(exc))
    click.echo(f"exported {warehouse.published_path} to {written} ({written.stat().st_size / 2**20:.1f} MiB)")


@main.command()
def doctor() -> None:
    """Check settings, both APIs' credentials, and the lake and warehouse paths."""
    from mida_pipeline.doctor import run_doctor

    sys.exit(0 if run_doctor() else 1)


if __name__ == "__main__":
    main()
