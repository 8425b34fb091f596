"""A long backfill as real Dagster runs: one single run over the range against one run per day.

Both go through the runner the CLI uses (`mida-pipeline backfill`), with the
raw Mida assets only; the models are built once afterwards for the BI
benchmark and timed by neither variant. One run per day is timed on a sample
of days and extrapolated to the range, which the figures say.
"""

from __future__ import annotations

import contextlib
import io
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import Figure, count_requests, environ, pipeline_env
from mida_pipeline.sandbox.server import SandboxServer

BENCH = "backfill"


def _runs(start: date, end: date) -> list[str]:
    from mida_pipeline.runner import run_range

    return run_range(start, end, models=False)


def build_models() -> None:
    """Staging and marts over the lake as it is (the report is left out: it is not being measured)."""
    import dagster as dg

    from mida_pipeline.definitions import defs
    from mida_pipeline.runner import QUIET

    graph = defs.resolve_asset_graph()
    keys = [
        k
        for k in graph.get_all_asset_keys()
        if graph.get(k).group_name in {"staging", "marts"} and graph.get(k).is_executable
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # dbt's progress lines would drown the table
        result = defs.resolve_job_def("models").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), asset_selection=keys, raise_on_error=True, run_config=QUIET
        )
    assert result.success


def run(
    server: SandboxServer, end: date, days: int, sample: int, workdir: Path, concurrency: int, latency_ms: float
) -> list[Figure]:
    from mida_pipeline.definitions import defs  # noqa: F401  loading the code location is not a backfill's cost

    start = end - timedelta(days=days - 1)
    single_dir, per_day_dir = workdir / "single", workdir / "per_day"
    with environ(pipeline_env(server, single_dir, concurrency)):
        single_runs, requests, single = count_requests(server, lambda: _runs(start, end))
    bound = requests * latency_ms / 1000 / concurrency
    sample_days = [end - timedelta(days=i) for i in range(min(sample, days))]
    with environ(pipeline_env(server, per_day_dir, concurrency)):
        t = time.perf_counter()
        for day in sample_days:
            _runs(day, day)
        per_day = (time.perf_counter() - t) / len(sample_days)
    with environ(pipeline_env(server, single_dir, concurrency)):
        build_models()
    extrapolated = "" if len(sample_days) == days else f", timed on {len(sample_days)} days and extrapolated"
    return [
        Figure(BENCH, "single run: total", single, "s", f"{days} days in {len(single_runs)} run"),
        Figure(BENCH, "single run: per partition", single / days, "s"),
        Figure(BENCH, "single run: requests", requests, "req"),
        Figure(
            BENCH,
            "single run / its latency bound",
            single / bound if bound else float("nan"),
            "x",
            "how close a long backfill gets to its request cost alone",
        ),
        Figure(BENCH, "one run per day: per partition", per_day, "s", f"mean of {len(sample_days)} runs"),
        Figure(BENCH, "one run per day: total", per_day * days, "s", f"{days} runs{extrapolated}"),
        Figure(BENCH, "per-day / single-run", per_day * days / single, "x"),
    ]
