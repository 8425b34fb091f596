"""Code-location load time: importing the Definitions against a bare `import dagster`, what the difference is made
of, and `dagster dev` from start to the asset graph served.

Each import runs in a fresh interpreter, several times; the best of each is
kept, as the least disturbed by whatever else the machine is doing. The dbt
manifest is prepared once beforehand, as `make install` does: loading the code
location only reads it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import Figure

BENCH = "code location"
REPO = Path(__file__).resolve().parents[1]
IMPORTS = {
    "import dagster": "import dagster",
    "import dagster_dbt": "import dagster_dbt",
    "load the Definitions": "from mida_pipeline.definitions import defs; defs.resolve_asset_graph()",
}
# The packages whose import time the profile reports, by top-level module name.
PROFILED = (
    "dagster",
    "dagster_dbt",
    "dbt",
    "dbt_common",
    "mashumaro",
    "sqlglot",
    "matplotlib",
    "duckdb",
    "pyarrow",
    "pandas",
    "numpy",
    "httpx",
    "mida_pipeline",
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"}


def best_of(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(), check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - started)
    return min(times)


def import_profile(code: str) -> dict[str, float]:
    """Seconds of import per top-level package (its own time, `python -X importtime`), for what `code` imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    totals: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            totals[m.group(2).split(".")[0]] += int(m.group(1)) / 1e6
    return dict(totals)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dagster_dev_until_graph(timeout: float = 600) -> float:
    """Seconds from `dagster dev` starting to its GraphQL answering with the asset graph, on an empty DAGSTER_HOME."""
    import httpx

    port = _free_port()
    query = {"query": "{ assetNodes { id } }"}
    with tempfile.TemporaryDirectory() as home:
        env = _env() | {"DAGSTER_HOME": home}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while time.perf_counter() - started < timeout:
                try:
                    nodes = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query, timeout=10).json()["data"][
                        "assetNodes"
                    ]
                    if nodes:
                        return time.perf_counter() - started
                except (httpx.HTTPError, KeyError, TypeError, ValueError):
                    pass
                time.sleep(0.25)
            raise RuntimeError(f"dagster dev served no asset graph within {timeout:.0f} s")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # seen once: `dagster dev` kept running after SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run(repeats: int) -> list[Figure]:
    from mida_pipeline.defs.dbt_project import prepare_manifest

    prepare_manifest()
    best = {name: best_of(code, repeats) for name, code in IMPORTS.items()}
    profile = import_profile(IMPORTS["load the Definitions"])
    bare = sum(import_profile(IMPORTS["import dagster"]).values())
    return [
        *(Figure(BENCH, name, seconds, "s", f"best of {repeats}, fresh interpreter") for name, seconds in best.items()),
        Figure(BENCH, "Definitions / import dagster", best["load the Definitions"] / best["import dagster"], "x"),
        Figure(
            BENCH,
            "import dagster_dbt / import dagster",
            best["import dagster_dbt"] / best["import dagster"],
            "x",
            "the floor for any code location with dbt assets",
        ),
        Figure(BENCH, "importtime: import dagster", bare, "s", "-X importtime, all modules"),
        Figure(
            BENCH,
            "importtime: load the Definitions",
            sum(profile.values()),
            "s",
            "-X importtime, all modules; the rest of the load is building the assets from the manifest",
        ),
        *(
            Figure(
                BENCH,
                f"importtime: {package}",
                profile.get(package, 0.0),
                "s",
                "-X importtime, own time of the package's modules",
            )
            for package in PROFILED
        ),
        Figure(
            BENCH,
            "dagster dev to asset graph served",
            dagster_dev_until_graph(),
            "s",
            "from the command starting to GraphQL listing the assets, empty DAGSTER_HOME",
        ),
    ]
