"""A daily sync against a long history: what one morning's run costs at 28 and at 365 days of lake.

The history is synthesised, not fetched: every past day's partitions are made
from the sandbox's own numbers (SandboxData answers any window), the bodies the
sandbox would send parsed by the API's own record parsers, turned into rows by
extract/rows.py and written by the lake's writer, so an hour of API calls is
not needed to have a year of lake. Then the last day of the history is synced
as the day before's morning run (unmeasured), and `mida-pipeline sync --date D`
runs for the day after it against the sandbox (a real server, injected
latency); the measured run's step timings are read back from the Dagster
instance's event logs, with the peak RSS of the sync's process tree.

Run: `python -m benchmarks.history` (see --help); `--projects 200 --experiments 50` is the size knob.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

import pyarrow as pa

from benchmarks.common import SEED, Figure, sandbox, yesterday

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("mida-pipeline")
DIMENSIONS = ("device",)  # MIDA_BREAKDOWNS' default


# --- the synthetic history ------------------------------------------------------------------------------------


def _on_time(day: date) -> datetime:
    """When a morning sync would have captured `day`: one hour into the next UTC day."""
    return datetime.combine(day + timedelta(days=1), clock(1), timezone.utc)


# The columns extract/rows.py make_row fills from the partition's day rather than from the record.
DAY_COLUMNS = ("date", "captured_at")


def on_day(table: pa.Table, day: date) -> pa.Table:
    """One day's rows of a snapshot table as another day's, captured by that day's morning sync."""
    for name, value in zip(DAY_COLUMNS, (day, _on_time(day)), strict=True):
        i = table.schema.get_field_index(name)
        field = table.schema.field(i)
        table = table.set_column(i, field, pa.array([value] * table.num_rows, type=field.type))
    return table


def _project_days(args: tuple) -> int:
    """Write every table's partitions of one project for `days` (in a worker process); returns partitions written."""
    from mida_pipeline.extract import rows
    from mida_pipeline.extract.mida import (
        SegmentItem,
        experiment_goals,
        experiments_with_results,
    )
    from mida_pipeline.extract.rows import GoalOfResult
    from mida_pipeline.lake.writer import to_arrow, write_partition
    from mida_pipeline.sandbox import mida_bodies as bodies
    from mida_pipeline.sandbox.data import SandboxData
    from mida_pipeline.sources import records as r
    from mida_pipeline.sources import result_records as rr

    config, pk, days, lake = args
    data = SandboxData(config)
    experiments = {e.test_id: e for e in data.experiment_records(pk)}
    listed = [r.parse_experiment(item) for item in data.experiments(pk)]
    details = [r.parse_experiment_detail(bodies.detail(data, e)) for e in experiments.values()]
    goals = [r.parse_goal(g) for g in data.goals(pk)]
    keys = {str(g.goal_profile_id): g.goal_key for g in goals if g.goal_key}
    metrics = {e.test_id: rr.parse_metrics(bodies.metrics(data, e, None, None)) for e in experiments.values()}
    snapshots = {
        "mida_experiments": details,
        "mida_experiment_variants": [v for d in details for v in rows.variant_items(d)],
        "mida_experiment_goals": [g for d in details for g in experiment_goals(d, metrics[d.test_id], keys)],
        "mida_goals": goals,
        "mida_events": [r.parse_event(ev) for ev in data.events(pk)],
        "mida_project_configuration": [r.parse_configuration(data.configuration(pk))],
    }

    # A snapshot's rows differ from day to day only in the two columns make_row sets from the day, so each table is
    # made once and written for every day with those set; checked against the rows made for the chunk's last day.
    def made(table: str, day: date) -> pa.Table:
        return to_arrow(
            table,
            rows.make_rows(table, snapshots[table], day=day, captured_at=_on_time(day), project_key=pk, late=False),
        )

    once = {table: made(table, days[0]) for table in snapshots}
    for table, arrow in once.items():
        if not on_day(arrow, days[-1]).equals(made(table, days[-1])):
            raise AssertionError(f"{table}: a snapshot's rows depend on the day beyond {DAY_COLUMNS}")
    written = 0
    for day in days:
        captured = _on_time(day)
        for table, arrow in once.items():
            write_partition(lake, table, on_day(arrow, day), day=day, project_key=pk)
        results, segments = [], []
        for test_id in experiments_with_results(listed, day, "UTC"):
            e = experiments[test_id]
            cumulative = rr.parse_result(bodies.result(data, e, None, day))
            primary = GoalOfResult(cumulative.goal_key, cumulative.goal_name, cumulative.goal_type, True)
            results += rows.result_items(rr.parse_result(bodies.result(data, e, day, day)), window="day", goal=primary)
            results += rows.result_items(cumulative, window="cumulative", goal=primary)
            defined = rr.parse_metrics(bodies.metrics(data, e, None, day)).definitions
            for d in {d.goal_key: d for d in defined if d.goal_key and d.goal_key != primary.goal_key}.values():
                goal = next(g for g in data.goals(pk) if g["goal_key"] == d.goal_key)
                secondary = GoalOfResult(d.goal_key, d.goal_name, d.goal_type, False)
                results += rows.result_items(
                    rr.parse_result(bodies.result(data, e, day, day, goal)), window="day", goal=secondary
                )
                results += rows.result_items(
                    rr.parse_result(bodies.result(data, e, None, day, goal)), window="cumulative", goal=secondary
                )
            for dimension in DIMENSIONS:
                split = rr.parse_result(bodies.result(data, e, None, day, breakdown_by=dimension))
                segments += [
                    SegmentItem(test_id, split.goal_key, dimension, s, v, split.start_date, split.end_date)
                    for s in split.breakdowns
                    for v in s.variants
                ]
        for table, items in (("mida_experiment_results", results), ("mida_experiment_result_segments", segments)):
            write_partition(
                lake,
                table,
                rows.make_rows(table, items, day=day, captured_at=captured, project_key=pk),
                day=day,
                project_key=pk,
            )
        written += len(snapshots) + 2
    return written


def _company_days(config, days: list[date], lake: str) -> int:
    """The tables without a project level: the company's projects, the store's days and weeks."""
    from mida_pipeline.extract import rows
    from mida_pipeline.lake.writer import write_partition
    from mida_pipeline.sandbox.data import SandboxData
    from mida_pipeline.sources import records as r
    from mida_pipeline.sources.bss import BssSync, parse_metrics

    data = SandboxData(config)
    projects = [r.parse_project(p) for p in data.projects(include_inactive=True)]
    written = 0
    for day in days:
        write_partition(
            lake,
            "mida_projects",
            rows.make_rows("mida_projects", projects, day=day, captured_at=_on_time(day), late=False),
            day=day,
        )
        periods = [("daily", day, day)] + ([("weekly", day - timedelta(days=6), day)] if day.weekday() == 6 else [])
        for frequency, start, end in periods:
            body = {"data": data.bss(start, end)}
            sync = BssSync(frequency, start, end, True, parse_metrics(body)[0], body)
            table = f"bss_analytics_{frequency}"
            write_partition(lake, table, [rows.make_row(table, sync, day=start, captured_at=_on_time(end))], day=start)
            written += 1
        written += 1
    return written


def synthesise(config, project_keys: list[str], days: list[date], lake: Path, workers: int) -> int:
    """Write `days` of history for every project into `lake`; returns the partitions written."""
    chunks = [(config, pk, days[i : i + 31], str(lake)) for pk in project_keys for i in range(0, len(days), 31)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        written = sum(pool.map(_project_days, chunks))
    return written + _company_days(config, days, str(lake))


def lake_digest(lake: Path) -> str:
    """The sha256 of every Parquet file with its path: two syntheses that wrote the same lake have the same digest."""
    import hashlib

    digest = hashlib.sha256()
    for file in sorted(lake.rglob("*.parquet")):
        digest.update(str(file.relative_to(lake)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def time_synthesis(config, project_keys: list[str], days: list[date], lake: Path, workers: int) -> dict:
    """Synthesise into an empty `lake`: partitions, wall and CPU seconds (this process and its workers), the digest."""
    import resource

    def cpu() -> float:
        return sum(
            u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )

    shutil.rmtree(lake, ignore_errors=True)
    wall, used = time.perf_counter(), cpu()
    partitions = synthesise(config, project_keys, days, lake, workers)
    wall, used = time.perf_counter() - wall, cpu() - used
    return {"partitions": partitions, "wall_s": wall, "cpu_s": used, "digest": lake_digest(lake)}


# --- one measured sync ----------------------------------------------------------------------------------------

# Wall time, CPU time and peak RSS of one command's process tree. CPU seconds are the steadier figure on a shared
# machine: other work stretches the wall time, not the CPU a run needs.
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "import json; print(json.dumps({'rc': p.returncode, 'wall_s': wall, 'out': p.stdout[-2000:], 'err': p.stderr[-4000:],\n"
    "  'cpu_s': u.ru_utime + u.ru_stime, 'peak_mib': u.ru_maxrss / 1024, 'load': __import__('os').getloadavg()[0]}))\n"
)


def timed(env: dict[str, str], *command: str, cwd: Path = REPO) -> dict:
    """`command` in a process of its own: wall and CPU seconds, and the peak RSS of its tree (for a sync: it and dbt)."""
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=7200,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} exited {out['rc']}: {out['out']}{out['err']}")
    return out


def timed_sync(env: dict[str, str], day: date) -> dict:
    return timed(env, str(CLI), "sync", "--date", day.isoformat())


def dbt_builds(env: dict[str, str], root: Path, day: date) -> dict:
    """`dbt build` of a standalone copy of the published warehouse: whole (--full-refresh), then with the synced day
    alone as its window (dbt/macros/run_window.sql), with the files the day's variant fact opens by DuckDB's EXPLAIN
    ANALYZE."""
    import re

    from mida_pipeline.defs.dbt_assets import DBT_DIR
    from mida_pipeline.defs.dbt_project import window_flags
    from mida_pipeline.lake.warehouse import Warehouse

    scratch = root / "dbt-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    Warehouse(published_path=root / "warehouse.duckdb", lake_dir=root / "lake").export(scratch / "warehouse.duckdb")
    build_path = {"mida_build_path": str(scratch / "warehouse.duckdb")}
    base = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
    ]
    base += ["--vars", json.dumps(build_path)]
    out = {"whole": timed(env, *base, "--full-refresh", cwd=DBT_DIR)}
    out["day"] = timed(env, *base, *window_flags((str(day), str(day))), cwd=DBT_DIR)
    import duckdb

    sql = (
        scratch / "target" / "compiled" / "mida" / "models" / "marts" / "fct_experiment_variant_daily.sql"
    ).read_text()
    with duckdb.connect(str(scratch / "warehouse.duckdb"), read_only=True) as con:
        plan = "\n".join(r[1] for r in con.execute(f"EXPLAIN ANALYZE {sql}").fetchall())
    out["files_read"] = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]
    out["files_scanned_of"] = re.findall(r"Scanning Files: (\d+/\d+)", plan)
    return out


def step_timings(dagster_home: Path, since: float) -> dict[str, dict[str, float]]:
    """Per run started after `since` (by job name) and step: seconds from STEP_START to its success or failure, from
    the event logs."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    timings: dict[str, dict[str, float]] = defaultdict(dict)
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs(dg.RunsFilter(created_after=datetime.fromtimestamp(since, timezone.utc))):
            started: dict[str, float] = {}
            for entry in instance.all_logs(run.run_id):
                event = entry.dagster_event
                if event is None or event.step_key is None:
                    continue
                if event.event_type == dg.DagsterEventType.STEP_START:
                    started[event.step_key] = entry.timestamp
                elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                    timings[run.job_name][event.step_key] = entry.timestamp - started.get(
                        event.step_key, entry.timestamp
                    )
                if (
                    event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                    and event.step_key == "experiment_report"
                ):
                    drawn = event.event_specific_data.materialization.metadata.get("experiments drawn")
                    if drawn is not None:
                        timings[run.job_name]["(experiments drawn)"] = drawn.value
            record = instance.get_run_record_by_id(run.run_id)
            if record and record.start_time and record.end_time:
                timings[run.job_name]["(run)"] = record.end_time - record.start_time
    return dict(timings)


CONCURRENCY = 16  # MIDA_MAX_CONCURRENCY of the measured sync


def measure(
    server,
    history_days: int,
    workdir: Path,
    workers: int,
    reuse: bool = False,
    standalone_dbt: bool = True,
    latency_ms: float = 25.0,
) -> dict:
    """Synthesise `history_days` before the last closed day, sync that day, and read its figures.

    `reuse` keeps a lake synthesised by an earlier run, and nothing else of it: the instance, the warehouse and the
    report start afresh, as they do after a synthesis. The measured day's partitions are taken out of the lake first,
    so the measured sync lands a day the lake, the marts and the report have not seen (a day synced again, or still
    in an earlier run's marts, would leave the report nothing to redraw)."""
    from benchmarks.common import pipeline_env

    day = yesterday()
    root = workdir / f"history-{history_days}"
    reuse = reuse and (root / "lake").exists()
    for made in root.iterdir() if root.exists() else []:
        if reuse and made.name == "lake":
            continue
        if made.is_dir():
            shutil.rmtree(made)
        else:
            made.unlink()
    for partition in (root / "lake").glob(f"**/date={day}"):
        shutil.rmtree(partition)
    (root / "dagster_home").mkdir(parents=True)
    (root / "dagster_home" / "dagster.yaml").write_text("")  # the defaults, said so (no notice on every load)
    started = time.perf_counter()
    partitions = (
        sum(1 for _ in (root / "lake").rglob("*.parquet"))
        if reuse
        else synthesise(
            server.data.config,
            server.data.project_keys,
            [day - timedelta(days=n) for n in range(history_days, 0, -1)],
            root / "lake",
            workers,
        )
    )
    synthesis = time.perf_counter() - started
    print(f"{history_days} days: {partitions} partitions in {synthesis:.0f} s", file=sys.stderr)
    env = pipeline_env(server, root, CONCURRENCY)
    env.update(
        MIDA_BSS_SECRET_KEY=server.bss_secret,
        MIDA_BSS_SYNC_URL=server.bss_sync_url,
        MIDA_START_DATE=(day - timedelta(days=history_days + 7)).isoformat(),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    # A daily run follows the day before's: sync that day first, unmeasured, on the same instance. The measured sync
    # then knows when the models were last built and rebuilds only its day (a first build is whole: not a daily cost).
    started = time.perf_counter()
    timed_sync(env, day - timedelta(days=1))
    warm = time.perf_counter() - started
    print(f"{history_days} days: the day before's sync took {warm:.0f} s", file=sys.stderr)
    since = time.time()
    before = len(server.requests)
    out = timed_sync(env, day)
    calls = sum(1 for _, path in server.requests[before:] if path.startswith("/v2/"))
    lake_mib = sum(f.stat().st_size for f in (root / "lake").rglob("*.parquet")) / 2**20
    measured = {
        "history_days": history_days,
        "partitions": partitions,
        "synthesis_s": synthesis,
        "warm_s": warm,
        "lake_mib": lake_mib,
        "warehouse_mib": (root / ".build" / "warehouse.duckdb").stat().st_size / 2**20,
        "catalog_mib": (root / "warehouse.duckdb").stat().st_size / 2**20,
        "sync": out,
        "mida_calls": calls,
        "latency_bound_s": calls * latency_ms / 1000 / CONCURRENCY,
        "steps": step_timings(root / "dagster_home", since),
    }
    if standalone_dbt:
        measured["dbt"] = dbt_builds(env, root, day)
    return measured


# --- the table ---------------------------------------------------------------------------------------------------

GROUPS = {  # step keys -> the rows of the table
    "Mida raw assets (API work and writes)": lambda job, step: (
        job == "daily_raw" and step.startswith(("mida_",)) and not step.endswith(tuple(_check_names()))
    ),
    "BSS raw assets": lambda job, step: (
        job in ("daily_raw", "weekly_raw") and step.startswith("bss_") and not step.endswith(tuple(_check_names()))
    ),
    "raw asset checks": lambda job, step: step.endswith(tuple(_check_names())),
    "dbt build and publish": lambda job, step: job == "models" and "dbt" in step,
    "experiment_report": lambda job, step: job == "models" and step == "experiment_report",
}


def _check_names() -> list[str]:
    from mida_pipeline.defs.checks import CHECKS

    return [name for name, *_ in CHECKS]


def figures(results: list[dict], bench: str = "history") -> list[Figure]:
    out = []
    for res in results:
        n = res["history_days"]
        for label, wanted in GROUPS.items():
            total = sum(
                s
                for job, steps in res["steps"].items()
                for step, s in steps.items()
                if not step.startswith("(") and wanted(job, step)
            )
            out.append(Figure(bench, f"{label}, {n} days", total, "s", "sum of its steps"))
        for job, steps in sorted(res["steps"].items()):
            if "(run)" in steps:
                out.append(Figure(bench, f"{job} run, {n} days", steps["(run)"], "s", "run record start to end"))
            if "(experiments drawn)" in steps:
                note = "experiment sections the report drew; the others were kept from the day before's"
                out.append(
                    Figure(bench, f"report: experiments drawn, {n} days", steps["(experiments drawn)"], "", note)
                )
        out.append(
            Figure(
                bench,
                f"sync wall time, {n} days",
                res["sync"]["wall_s"],
                "s",
                f"mida-pipeline sync, one day; load average {res['sync'].get('load', float('nan')):.1f}",
            )
        )
        out.append(
            Figure(
                bench,
                f"sync CPU time, {n} days",
                res["sync"].get("cpu_s", float("nan")),
                "s",
                "user + system, whole tree",
            )
        )
        for kind, note in (("whole", "every mart rebuilt (--full-refresh)"), ("day", "the window: the day alone")):
            if "dbt" in res:
                build = res["dbt"][kind]
                out.append(Figure(bench, f"dbt build {kind}, {n} days, wall", build["wall_s"], "s", note))
                out.append(Figure(bench, f"dbt build {kind}, {n} days, CPU", build["cpu_s"], "s", note))
                out.append(Figure(bench, f"dbt build {kind}, {n} days, peak RSS", build["peak_mib"], "MiB", note))
        if "dbt" in res:
            out.append(
                Figure(
                    bench,
                    f"lake files the day's variant fact opens, {n} days",
                    max(res["dbt"]["files_read"] or [0]),
                    "files",
                    f"EXPLAIN ANALYZE scans: {', '.join(res['dbt']['files_scanned_of'])}",
                )
            )
        if res.get("latency_bound_s"):
            bound = res["latency_bound_s"]
            note = f"{res['mida_calls']} Mida calls x the latency / {CONCURRENCY} in flight"
            out.append(Figure(bench, f"latency bound of the sync's calls, {n} days", bound, "s", note))
            out.append(Figure(bench, f"sync wall / latency bound, {n} days", res["sync"]["wall_s"] / bound, "x"))
        out.append(
            Figure(
                bench, f"sync peak RSS, {n} days", res["sync"]["peak_mib"], "MiB", "largest process of the sync's tree"
            )
        )
        out.append(Figure(bench, f"lake size, {n} days", res["lake_mib"], "MiB", f"{res['partitions']} partitions"))
        out.append(Figure(bench, f"warehouse size, {n} days", res["warehouse_mib"], "MiB", "the build file"))
        out.append(
            Figure(
                bench,
                f"published catalog size, {n} days",
                res["catalog_mib"],
                "MiB",
                "the file BI tools open; the daily facts are Parquet beside it",
            )
        )
    if len(results) == 2:
        a, b = results
        out.append(
            Figure(
                bench,
                f"sync {b['history_days']} / {a['history_days']} days",
                b["sync"]["wall_s"] / a["sync"]["wall_s"],
                "x",
            )
        )
        if "cpu_s" in a["sync"]:
            out.append(
                Figure(
                    bench,
                    f"sync CPU {b['history_days']} / {a['history_days']} days",
                    b["sync"]["cpu_s"] / a["sync"]["cpu_s"],
                    "x",
                )
            )
        out.append(
            Figure(
                bench,
                f"peak RSS {b['history_days']} / {a['history_days']} days",
                b["sync"]["peak_mib"] / a["sync"]["peak_mib"],
                "x",
            )
        )
    return out


def run(server, workdir: Path, history: tuple[int, ...] = (28, 365), workers: int = 2) -> list[Figure]:
    """What `benchmarks.run` calls: the figures of a daily sync at each history length."""
    return figures([measure(server, n, workdir, workers) for n in history])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--history", type=int, nargs="+", default=[28, 365], help="days of history (default 28 365)")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="delay of every Mida call (default 25)")
    parser.add_argument("--workers", type=int, default=2, help="processes writing the synthetic history (default 2)")
    parser.add_argument(
        "--workdir", type=Path, default=Path("/tmp/mida-history"), help="kept after the run, for a look"
    )
    parser.add_argument("--json", type=Path, help="also write every timing here")
    parser.add_argument(
        "--synthesis-only",
        action="store_true",
        help="only synthesise the first --history length into --workdir, and print its speed and the lake's digest",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the lakes an earlier run synthesised in --workdir")
    parser.add_argument(
        "--no-standalone-dbt",
        dest="standalone_dbt",
        action="store_false",
        help="skip the whole and day `dbt build` of an export after the sync (the sync's own dbt step is still timed)",
    )
    args = parser.parse_args(argv)

    if args.synthesis_only:
        from mida_pipeline.sandbox.data import SandboxConfig, SandboxData

        config = SandboxConfig(seed=SEED, projects=args.projects, experiments_per_project=args.experiments)
        days = [yesterday() - timedelta(days=n) for n in range(args.history[0], 0, -1)]
        lake = args.workdir / "synthesis" / "lake"
        out = time_synthesis(config, SandboxData(config).project_keys, days, lake, args.workers)
        print(
            f"{args.projects} projects x {args.experiments} experiments x {args.history[0]} days, {args.workers} "
            f"workers: {out['partitions']} partitions in {out['wall_s']:.1f} s wall, {out['cpu_s']:.1f} s CPU "
            f"({out['partitions'] / out['cpu_s']:.1f} a CPU-second); lake digest {out['digest']}"
        )
        return 0

    results = []
    with sandbox(args.projects, args.experiments, args.latency_ms) as server:
        for n in args.history:
            results.append(
                measure(server, n, args.workdir, args.workers, args.reuse, args.standalone_dbt, args.latency_ms)
            )
            print(f"{n} days: sync {results[-1]['sync']['wall_s']:.1f} s", file=sys.stderr)
            if args.json:  # after each length: a long run stopped halfway keeps what it measured
                args.json.write_text(json.dumps(results, indent=1, default=str))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {args.projects} projects x {args.experiments} experiments, "
        f"{args.latency_ms:g} ms per Mida call"
    )
    print("| figure | value | unit | note |\n|---|---:|---|---|")
    for f in figures(results):
        print(f"| {f.name} | {f.value:.2f} | {f.unit} | {f.note} |")
    for res in results:
        print(f"\nsteps at {res['history_days']} days (s):")
        for job, steps in sorted(res["steps"].items()):
            print(f"  {job}: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
