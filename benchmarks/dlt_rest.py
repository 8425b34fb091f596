"""The same day's extraction by dlt's REST API source, writing Parquet files, with dlt's own parallelism.

Equal work with the pipeline's extract-and-write: dlt's filesystem destination
writes each resource as Parquet under a local folder, as the pipeline writes
its lake; no database is loaded on either side. dlt's extract step alone is
reported too, to set against the pipeline's extraction alone.

Each project's endpoints are described as dlt resources (listings paged by
offset, details and both result windows resolved from the listing); every
resource is `parallelized` and dlt's extract pool gets as many workers as the
pipeline has connections, so both tools may keep the same calls in flight.
dlt is a benchmark-only dependency (requirements-bench.lock), never imported
by the pipeline.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from benchmarks.common import Figure, count_requests, environ
from mida_pipeline.sandbox.server import SandboxServer

BENCH = "one-day extraction"
MISSING = "dlt is not installed; `make bench` installs it from requirements-bench.lock"


def available() -> bool:
    try:
        import dlt.sources.rest_api  # noqa: F401
    except ImportError:
        return False
    return True


def _resources(project_key: str, day: date) -> list[dict]:
    name = project_key.replace("-", "_").replace(".", "_")
    listing = {"type": "offset", "limit": 500, "total_path": None}  # the API gives no total: dlt stops on an empty page
    resolve = {"type": "resolve", "resource": f"experiments_{name}", "field": "test_id"}
    base = f"project/{project_key}"

    def result(window: str, params: dict) -> dict:
        return {
            "name": f"results_{window}_{name}",
            "parallelized": True,
            "endpoint": {
                "path": f"{base}/experiment/{{test_id}}/result",
                "params": {"test_id": resolve, **params},
                "data_selector": "variants",
                "paginator": "single_page",
            },
            "include_from_parent": ["test_id"],
        }

    return [
        {
            "name": f"experiments_{name}",
            "parallelized": True,
            "endpoint": {"path": f"{base}/experiments", "data_selector": "experiments", "paginator": listing},
            # Drafts have no results; dropping them here spares dlt their detail calls too (fewer requests than the pipeline).
            "processing_steps": [{"filter": lambda e: e["status"] != 9}],
        },
        {
            "name": f"experiment_{name}",
            "parallelized": True,
            "endpoint": {
                "path": f"{base}/experiment/{{test_id}}",
                "params": {"test_id": resolve},
                "data_selector": "experiment",
                "paginator": "single_page",
            },
        },
        {
            "name": f"goals_{name}",
            "parallelized": True,
            "endpoint": {"path": f"{base}/goals", "data_selector": "goals", "paginator": listing},
        },
        {
            "name": f"events_{name}",
            "parallelized": True,
            "endpoint": {"path": f"{base}/events", "data_selector": "events", "paginator": listing},
        },
        result("day", {"start_date": day.isoformat(), "end_date": day.isoformat()}),
        result("cumulative", {"end_date": day.isoformat()}),
    ]


def extract_with_dlt(server: SandboxServer, day: date, workdir: Path, workers: int):
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {"base_url": server.mida_base_url + "/", "auth": {"type": "bearer", "token": server.api_key}},
            "resource_defaults": {"write_disposition": "replace"},
            "resources": [r for pk in server.data.project_keys for r in _resources(pk, day)],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="mida_bench",
        pipelines_dir=str(workdir / "pipelines"),
        destination=dlt.destinations.filesystem((workdir / "lake").resolve().as_uri()),
        dataset_name="mida",
    )
    pipeline.run(source, loader_file_format="parquet")
    return pipeline.last_trace


def run_dlt(server: SandboxServer, day: date, workdir: Path, workers: int) -> list[Figure]:
    env = dict(
        os.environ,
        RUNTIME__DLTHUB_TELEMETRY="false",
        EXTRACT__WORKERS=str(workers),
        EXTRACT__MAX_PARALLEL_ITEMS=str(max(20, workers)),
        DLT_DATA_DIR=str(workdir / "dlt_home"),
    )
    with environ(env):
        trace, requests, wall = count_requests(server, lambda: extract_with_dlt(server, day, workdir / "dlt", workers))
    extract = next((s for s in trace.steps if s.step == "extract"), None)
    extract_s = (extract.finished_at - extract.started_at).total_seconds() if extract else float("nan")
    return [
        Figure(BENCH, "dlt requests", requests, "req"),
        Figure(
            BENCH,
            "dlt wall time",
            wall,
            "s",
            f"rest_api, parallelized, {workers} extract workers, extract + normalize + load to Parquet files",
        ),
        Figure(
            BENCH,
            "dlt extract step",
            extract_s,
            "s",
            "of which extract (the calls, their JSON, dlt's intermediate item files)",
        ),
    ]
