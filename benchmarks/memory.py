"""Peak memory of a one-day sync at 1x and 10x the experiments, each in its own process.

The child runs the raw Mida assets for one day through the runner (as
`mida-pipeline sync` does, without dbt) against a sandbox the parent serves,
then reports its ru_maxrss. The parent's memory (the sandbox) is not counted.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import date
from pathlib import Path

from benchmarks.common import Figure, pipeline_env
from mida_pipeline.sandbox.server import SandboxServer

BENCH = "memory"
REPO = Path(__file__).resolve().parents[1]


def _kib_to_mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def start_child(server: SandboxServer, day: date, workdir: Path, concurrency: int) -> subprocess.Popen:
    env = pipeline_env(server, workdir, concurrency)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.memory", day.isoformat()],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def peak_rss(child: subprocess.Popen) -> dict:
    """The child's peak RSS after imports and after the sync, in MiB."""
    out, err = child.communicate(timeout=1800)
    if child.returncode != 0:
        raise RuntimeError(f"the sync for the memory benchmark failed: {err.strip().splitlines()[-1:]}")
    return json.loads(out.strip().splitlines()[-1])


def run(small: SandboxServer, large: SandboxServer, day: date, workdir: Path, concurrency: int) -> list[Figure]:
    # Both syncs run at once: each process's peak is its own, and the wait is halved.
    children = [start_child(s, day, workdir / name, concurrency) for s, name in ((small, "rss_1x"), (large, "rss_10x"))]
    one, ten = (peak_rss(c) for c in children)
    n1 = small.data.config.experiments_per_project
    n10 = large.data.config.experiments_per_project
    return [
        Figure(
            BENCH,
            "peak RSS at 1x",
            one["peak"],
            "MiB",
            f"{n1} experiments per project; {one['imported']:.0f} MiB after imports",
        ),
        Figure(
            BENCH,
            "peak RSS at 10x",
            ten["peak"],
            "MiB",
            f"{n10} experiments per project; {ten['imported']:.0f} MiB after imports",
        ),
        Figure(BENCH, "10x / 1x peak RSS", ten["peak"] / one["peak"], "x"),
        Figure(BENCH, "peak RSS during the sync at 1x", one["sync_peak"], "MiB", "VmHWM reset after imports"),
        Figure(BENCH, "peak RSS during the sync at 10x", ten["sync_peak"], "MiB", "VmHWM reset after imports"),
        Figure(BENCH, "10x / 1x peak RSS during the sync", ten["sync_peak"] / one["sync_peak"], "x"),
    ]


def _child(day: date) -> None:
    import mida_pipeline.definitions  # noqa: F401
    from mida_pipeline.runner import run_range

    imported = _kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # ru_maxrss never goes down, so the imports' own peak can hide the sync's; Linux lets the high-water mark
    # (VmHWM) be reset, which gives the sync's peak alone.
    Path("/proc/self/clear_refs").write_text("5")
    run_range(day, day, models=False)
    print(
        json.dumps(
            {
                "imported": imported,
                "peak": _kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
                "sync_peak": _status_mib("VmHWM"),
            }
        )
    )


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    _child(date.fromisoformat(sys.argv[1]))
