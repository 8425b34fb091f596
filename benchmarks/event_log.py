"""The command line's event log against Dagster's own: a one-day sync's CPU with each, in one run.

Two DAGSTER_HOMEs sync the same sandbox. One has no dagster.yaml, so the command line keeps its event log with
mida_pipeline/event_log.py's class; the other's dagster.yaml names Dagster's default storage (`storage: sqlite`), so
Dagster's own class keeps it. Each first backfills the same days (unmeasured: the lake, the marts and dbt's parse
are then alike), then they sync the last day in turn, `--repeat` times each. The CPU seconds are those of the
sync's process tree (it and dbt); dbt's share is the same in both, so the difference is the event log's.

`python -m benchmarks.event_log`
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.common import pipeline_env, sandbox, yesterday
from benchmarks.history import CLI, timed, timed_sync

KINDS = {"Dagster's event log": "storage:\n  sqlite:\n    base_dir: {home}\n", "one engine per file": None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2)
    parser.add_argument("--experiments", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=4, help="syncs of each kind, taken in turn (default 4)")
    args = parser.parse_args(argv)
    day = yesterday()
    work = Path(tempfile.mkdtemp(prefix="mida-event-log-"))
    try:
        with sandbox(args.projects, args.experiments, latency_ms=0) as server:
            envs = {}
            for i, (kind, config) in enumerate(KINDS.items()):
                root = work / f"kind{i}"
                home = root / "dagster_home"
                home.mkdir(parents=True)
                if config:
                    (home / "dagster.yaml").write_text(config.format(home=home))
                envs[kind] = {
                    **pipeline_env(server, root, 8),
                    "DAGSTER_HOME": str(home),
                    "MIDA_START_DATE": "2025-01-01",
                }
                first = (day - timedelta(days=2)).isoformat()
                timed(envs[kind], str(CLI), "backfill", "--start", first, "--end", day.isoformat())
            runs = {kind: [] for kind in KINDS}
            for _ in range(args.repeat):
                for kind, env in envs.items():
                    runs[kind].append(timed_sync(env, day))
        print(f"one-day sync, {args.projects} projects x {args.experiments} experiments, median of {args.repeat}")
        print("| event log | CPU s | wall s |")
        print("|---|---:|---:|")
        cpu = {}
        for kind, measured in runs.items():
            cpu[kind] = statistics.median(m["cpu_s"] for m in measured)
            print(f"| {kind} | {cpu[kind]:.1f} | {statistics.median(m['wall_s'] for m in measured):.1f} |")
        ours, theirs = cpu["one engine per file"], cpu["Dagster's event log"]
        print(f"CPU: {ours / theirs:.2f}x Dagster's ({theirs - ours:.1f} s less a sync)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
