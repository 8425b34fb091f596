"""One daily sync of 200 projects x 50 experiments, with one project failing.

The parent serves the sandbox (every Mida call delayed like a distant API, every
call of one project refused with 403) and counts the calls it is answering at
once. The child is the pipeline: the raw assets for one day through the runner
the CLI uses, then the dbt models, and reports its wall times and peak RSS.

Figures: wall time of the raw sync (every goal, segments by MIDA_BREAKDOWNS'
default, the configuration and the company's projects) against the latency bound
(calls x latency / MIDA_MAX_CONCURRENCY, what a perfect client would need), the
calls by endpoint, peak calls in flight against the bound, peak RSS, and which
projects the run named as failed. Run: `python -m benchmarks.many_projects` (see --help).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(day: date) -> None:
    """The pipeline's side: raw sync (a failed project makes the run fail, not stop), then the models."""
    import dagster as dg

    from mida_pipeline.definitions import defs
    from mida_pipeline.runner import QUIET, RunFailed, run_range

    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    failures = ""
    try:
        run_range(day, day, models=False)
    except RunFailed as exc:
        failures = str(exc)
    raw = time.perf_counter() - started
    started = time.perf_counter()
    graph = defs.resolve_asset_graph()
    keys = [
        k
        for k in graph.get_all_asset_keys()
        if graph.get(k).group_name in {"staging", "marts"} and graph.get(k).is_executable
    ]
    models = defs.resolve_job_def("models").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=keys, raise_on_error=False, run_config=QUIET
    )
    print(
        json.dumps(
            {
                "raw_s": raw,
                "models_s": time.perf_counter() - started,
                "models_ok": models.success,
                "failures": failures,
                "imported_mib": imported,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.many_projects", description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--experiments", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=25.0, help="delay of every Mida call (default 25)")
    parser.add_argument("--concurrency", type=int, default=16, help="MIDA_MAX_CONCURRENCY (default 16)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(date.fromisoformat(args.child))
        return 0

    import duckdb

    from benchmarks.common import calls_by_endpoint
    from mida_pipeline.sandbox.data import SandboxConfig
    from mida_pipeline.sandbox.in_flight import InFlight
    from mida_pipeline.sandbox.server import SandboxServer

    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    server = SandboxServer(SandboxConfig(seed=7, projects=args.projects, experiments_per_project=args.experiments))
    counter = server.wrap(InFlight)  # before the server starts
    with server, tempfile.TemporaryDirectory(prefix="mida-many-") as work:
        failing = server.data.project_keys[len(server.data.project_keys) // 2]
        server.faults.add(f"/v2/project/{failing}/*", "status", status=403, message="Forbidden for this project")
        if args.latency_ms > 0:
            server.faults.add("/v2/*", "latency", ms=args.latency_ms)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_HOME"))}
        env.update(
            MIDA_API_KEY=server.api_key,
            MIDA_PROJECT_KEYS=",".join(server.data.project_keys),
            MIDA_API_BASE_URL=server.mida_base_url,
            MIDA_MAX_CONCURRENCY=str(args.concurrency),
            MIDA_LAKE_DIR=f"{work}/lake",
            MIDA_DUCKDB_PATH=f"{work}/warehouse.duckdb",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        before = len(server.requests)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.many_projects", "--child", day.isoformat()],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        calls = sum(1 for _, path in server.requests[before:] if path.startswith("/v2/"))
        by_endpoint = calls_by_endpoint(server.requests[before:])
        with duckdb.connect() as con:
            landed = con.execute(
                f"SELECT count(DISTINCT project_key) FROM read_parquet('{work}/lake/mida_experiment_results/**/*.parquet', "
                "hive_partitioning = true)"
            ).fetchone()[0]
            marts = con.execute(
                f"ATTACH '{work}/warehouse.duckdb' AS w (READ_ONLY); "
                "SELECT count(*) FROM w.marts.fct_experiment_scorecard"
            ).fetchone()[0]

    bound = calls * args.latency_ms / 1000 / args.concurrency
    named = sorted({line.split(": ")[0] for line in out["failures"].splitlines() if failing in line})
    rows = [
        (
            "projects x experiments",
            f"{args.projects} x {args.experiments}",
            f"one day ({day}); {failing} refused with 403",
        ),
        ("Mida calls", f"{calls}", f"{args.latency_ms:g} ms each, MIDA_MAX_CONCURRENCY={args.concurrency}"),
        ("Mida calls by endpoint", by_endpoint, "result: every goal's day and cumulative, and each breakdown"),
        (
            "raw sync wall time",
            f"{out['raw_s']:.1f} s",
            f"latency bound {bound:.1f} s: {out['raw_s'] / bound:.2f}x the bound",
        ),
        ("dbt models wall time", f"{out['models_s']:.1f} s", "built" if out["models_ok"] else "FAILED"),
        ("peak calls in flight", f"{counter.peak}", f"bound {args.concurrency} (per API host)"),
        ("peak RSS of the pipeline", f"{out['peak_mib']:.0f} MiB", f"{out['imported_mib']:.0f} MiB after imports"),
        ("projects with results", f"{landed}", f"of {args.projects}; the failing one absent"),
        ("scorecard rows", f"{marts}", f"marts built over the {args.projects - 1} others"),
        ("failure named", ", ".join(named) or "none", out["failures"].splitlines()[0][:120] if out["failures"] else ""),
    ]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    print("| figure | value | note |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
