"""`make bench`: every benchmark against the sandbox with injected latency, a table, and a record in RESULTS.md.

    python -m benchmarks.run [--latency-ms 50] [--projects 5] [--experiments 20] [--quick]

The sandbox serves both APIs from this process on a loopback socket; every
Mida call waits `--latency-ms` before it is answered, like a distant API.
Targets are ratios of figures measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import backfill, bi_query, dlt_rest, extraction, load_time, memory
from benchmarks import scorecard as scorecard_bench
from benchmarks.common import Figure, Target, environ, pipeline_env, sandbox, yesterday
from mida_pipeline.config import Settings

RESULTS = Path(__file__).with_name("RESULTS.md")
QUICK = dict(projects=2, experiments=2, backfill_days=2, per_day_sample=1, repeats=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--latency-ms", type=float, default=50.0, help="delay added to every Mida call (default 50)")
    p.add_argument("--projects", type=int, default=5, help="projects in the sandbox (default 5)")
    p.add_argument(
        "--experiments", type=int, default=20, help="experiments per project (default 20); memory also runs 10x"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=Settings().max_concurrency,
        help="Mida calls in flight (MIDA_MAX_CONCURRENCY's default unless given)",
    )
    p.add_argument("--backfill-days", type=int, default=90, help="days in the backfill (default 90)")
    p.add_argument(
        "--per-day-sample", type=int, default=10, help="days timed as one run each, extrapolated (default 10)"
    )
    p.add_argument("--repeats", type=int, default=3, help="tries kept at best for the short measurements (default 3)")
    p.add_argument(
        "--quick", action="store_true", help="a small smoke size: " + ", ".join(f"{k}={v}" for k, v in QUICK.items())
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TITLE",
        help="run only the benchmarks whose title starts with TITLE (repeatable), e.g. 'one-day extraction'",
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file the run is appended to")
    p.add_argument("--workdir", type=Path, help="where lakes and warehouses go (default: a temporary directory)")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def targets(f: dict[str, float]) -> list[Target]:
    get = lambda name: f.get(name, float("nan"))  # noqa: E731  a missing figure misses its target
    # dlt and the sequential loop read each experiment's primary goal and no segment: they are held against the
    # pipeline doing that same day (which still asks /metrics, the configuration and the projects besides).
    # Equal work twice: extract and write Parquet files (dlt's filesystem destination) against the pipeline's
    # extract-and-write, and extract alone against dlt's extract step.
    primary_only = get(f"{extraction.PRIMARY_ONLY}: wall time")
    return [
        Target("extraction within 1.3x of the latency bound", get("pipeline / latency bound"), 1.3),
        Target(
            "extract and write Parquet at least 2x faster than dlt's REST API source to Parquet files",
            get("dlt wall time") / primary_only,
            2.0,
            at_least=True,
        ),
        Target(
            "extract alone at least 2x faster than dlt's extract step",
            get("dlt extract step") / get(f"{extraction.PRIMARY_ONLY}: extract alone"),
            2.0,
            at_least=True,
        ),
        Target(
            "at least 5x faster than the sequential loop",
            get("sequential wall time") / primary_only,
            5.0,
            at_least=True,
        ),
        Target(
            "90-day single run at least 10x faster than one run per day",
            get("per-day / single-run"),
            10.0,
            at_least=True,
        ),
        Target("10x the experiments under 3x the peak memory", get("10x / 1x peak RSS"), 3.0),
        Target("Definitions load under 1.5x a bare import dagster", get("Definitions / import dagster"), 1.5),
        # The history is measured only at full size (not --quick): no figure, no target.
        *(
            [
                Target("daily sync at 365 days within 1.2x of 28 days", get("sync 365 / 28 days"), 1.2),
                Target("peak RSS at 365 days within 1.2x of 28 days", get("peak RSS 365 / 28 days"), 1.2),
            ]
            if "sync 365 / 28 days" in f
            else []
        ),
    ]


def load_code_location(server, workdir: Path, concurrency: int) -> None:
    """Load the Definitions once, with the pipeline's settings set as a deployment has them: a resource field
    is bound to its variable only when that variable is set as the code location loads (its value is read when
    each run starts), so loaded without them the in-process runs would ask Mida's real host."""
    with environ(pipeline_env(server, workdir, concurrency)):
        import mida_pipeline.definitions  # noqa: F401


def run_all(args: argparse.Namespace, workdir: Path, console: Console) -> tuple[list[Figure], list[str]]:
    figures, failures = [], []
    day = yesterday()

    def wanted(title: str) -> bool:
        return not args.only or any(title.startswith(prefix) for prefix in args.only)

    def step(title: str, fn: Callable[[], list[Figure]]) -> None:
        if not wanted(title):
            return
        console.print(f"[bold]{title}[/bold]", end=" ")
        started = time.perf_counter()
        try:
            got = fn()
        except Exception as exc:  # one failed benchmark is recorded, the others still run
            failures.append(
                f"{title}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            )
            console.print(f"[red]failed[/red] {failures[-1]}")
            traceback.print_exc(file=sys.stderr)
            return
        figures.extend(got)
        console.print(f"done in {time.perf_counter() - started:.1f}s")

    step("code-location load time", lambda: load_time.run(args.repeats))
    with (
        sandbox(args.projects, args.experiments, args.latency_ms) as server,
        sandbox(args.projects, args.experiments * 10, args.latency_ms) as large,
    ):
        extraction.run_pipeline(
            server, day, workdir / "warmup", args.concurrency, args.latency_ms
        )  # sandbox caches, imports
        step(
            "one-day extraction: pipeline",
            lambda: min(
                (
                    extraction.run_pipeline(server, day, workdir / f"pipeline{i}", args.concurrency, args.latency_ms)
                    for i in range(args.repeats)
                ),
                key=lambda figs: figs[1].value,
            ),
        )
        step(
            f"one-day extraction: pipeline, {extraction.PRIMARY_ONLY}, no breakdown",
            lambda: min(
                (
                    extraction.run_primary_only(server, day, workdir / f"primary{i}", args.concurrency, args.latency_ms)
                    for i in range(args.repeats)
                ),
                key=lambda figs: figs[1].value,
            ),
        )
        figures.extend(extraction.extra_calls(figures))
        step(
            f"one-day extraction: pipeline, {extraction.WITHOUT_TIMESERIES}",
            lambda: min(
                (
                    extraction.run_without_timeseries(
                        server, day, workdir / f"no-timeseries{i}", args.concurrency, args.latency_ms
                    )
                    for i in range(args.repeats)
                ),
                key=lambda figs: figs[1].value,
            ),
        )
        figures.extend(extraction.timeseries_cost(figures))
        step(
            f"one-day extraction: pipeline, {extraction.PRIMARY_ONLY}, extract alone",
            lambda: min(
                (extraction.run_extract_alone(server, day, args.concurrency) for _ in range(args.repeats)),
                key=lambda figs: figs[0].value,
            ),
        )
        step(
            "one-day extraction: pipeline, no latency",
            lambda: min(
                (
                    extraction.run_floor(server, day, workdir / f"floor{i}", args.concurrency, args.latency_ms)
                    for i in range(args.repeats)
                ),
                key=lambda figs: figs[0].value,
            ),
        )
        step("one-day extraction: sequential loop", lambda: extraction.run_sequential(server, day, workdir))
        if dlt_rest.available():
            step(
                "one-day extraction: dlt REST API source",
                lambda: min(
                    (dlt_rest.run_dlt(server, day, workdir / f"dlt{i}", args.concurrency) for i in range(args.repeats)),
                    key=lambda figs: figs[1].value,
                ),
            )
        else:
            failures.append(f"one-day extraction: dlt: {dlt_rest.MISSING}")
        if wanted(f"{args.backfill_days}-day backfill"):
            load_code_location(server, workdir / "backfill" / "single", args.concurrency)
        step(
            f"{args.backfill_days}-day backfill",
            lambda: backfill.run(
                server,
                day,
                args.backfill_days,
                args.per_day_sample,
                workdir / "backfill",
                args.concurrency,
                args.latency_ms,
            ),
        )
        step(
            "BI query",
            lambda: bi_query.run(
                workdir / "backfill" / "single" / "warehouse.duckdb",
                workdir / "backfill" / "single" / "lake",
                args.repeats,
            ),
        )
        step("peak memory", lambda: memory.run(server, large, day, workdir / "memory", args.concurrency))
    # The statistics at an agency's size (200 x 50 x 3 goals) and a year of history, unless --quick.
    step(
        "scorecard",
        lambda: scorecard_bench.run(
            projects=4 if args.quick else 200,
            experiments=3 if args.quick else 50,
            goals=3,
            history_days=14 if args.quick else 365,
            repeats=args.repeats,
            workdir=workdir / "scorecard",
        ),
    )
    # A daily sync after 28 and after 365 days of history (5 x 20), unless --quick: it writes a year of lake.
    if not args.quick:
        step("history", lambda: _history(workdir / "history"))
    return figures, failures


def _history(workdir: Path) -> list[Figure]:
    from benchmarks import history

    with sandbox(5, 20, 25.0) as server:
        return history.run(server, workdir)


def _fmt(value: float, unit: str) -> str:
    if unit == "req":
        return f"{value:,.0f}"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def show(console: Console, figures: list[Figure], goals: list[Target]) -> None:
    table = Table(title="figures")
    for col in ("benchmark", "figure", "value", "unit", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for f in figures:
        table.add_row(f.bench, f.name, _fmt(f.value, f.unit), f.unit, f.note)
    console.print(table)
    verdicts = Table(title="targets")
    for col in ("target", "measured", "result"):
        verdicts.add_column(col)
    for t in goals:
        verdicts.add_row(t.name, f"{t.ratio:.2f}x", "[green]pass[/green]" if t.met else "[red]miss[/red]")
    console.print(verdicts)


def command(argv: list[str]) -> str:
    cmd = shlex.join(["python", "-m", "benchmarks.run", *argv])
    return f"make bench BENCH_ARGS={shlex.quote(shlex.join(argv))}  ({cmd})" if os.environ.get("MAKELEVEL") else cmd


def record(path: Path, args, argv, figures, goals, failures, started: datetime, load: tuple) -> None:
    lines = [
        f"\n## {started:%Y-%m-%d %H:%M} UTC\n",
        f"- machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} at start",
        f"- command: `{command(argv)}`",
        f"- size: {args.projects} projects x {args.experiments} experiments (memory also at x{args.experiments * 10}), "
        f"latency {args.latency_ms:g} ms per call, concurrency {args.concurrency}, backfill {args.backfill_days} days "
        f"(one run per day timed on {min(args.per_day_sample, args.backfill_days)} and extrapolated), best of {args.repeats}\n",
        "| benchmark | figure | value | unit | note |",
        "|---|---|---:|---|---|",
        *(f"| {f.bench} | {f.name} | {_fmt(f.value, f.unit)} | {f.unit} | {f.note} |" for f in figures),
        "",
        "| target | measured | result |",
        "|---|---:|---|",
        *(f"| {t.name} | {t.ratio:.2f}x | {'pass' if t.met else 'miss'} |" for t in goals),
    ]
    if failures:
        lines += ["", "Not measured:", *(f"- {f}" for f in failures)]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("# Benchmark results\n\nEach run of `make bench` appends a section (see benchmarks/run.py).\n")
    with open(path, "a") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    console = Console()
    started, load = datetime.now(timezone.utc), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mida-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        figures, failures = run_all(args, workdir, console)
    goals = targets({f.name: f.value for f in figures})
    if args.only:  # a partial run states the targets it has figures for
        goals = [t for t in goals if t.ratio == t.ratio]
    show(console, figures, goals)
    record(args.results, args, argv, figures, goals, failures, started, load)
    console.print(f"appended to {args.results}")
    for failure in failures:
        console.print(f"[red]not measured[/red] {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
