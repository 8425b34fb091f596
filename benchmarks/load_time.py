"""Code-location load time: importing the Definitions (dbt manifest included) against a bare `import dagster`.

Each import runs in a fresh interpreter, several times; the best of each is
kept, as the least disturbed by whatever else the machine is doing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Figure

BENCH = "code location"
REPO = Path(__file__).resolve().parents[1]
IMPORTS = {
    "import dagster": "import dagster",
    "import dagster_dbt": "import dagster_dbt",
    "load the Definitions": "from mida_pipeline.definitions import defs; defs.resolve_asset_graph()",
}


def best_of(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - started)
    return min(times)


def run(repeats: int) -> list[Figure]:
    best = {name: best_of(code, repeats) for name, code in IMPORTS.items()}
    return [
        *(Figure(BENCH, name, seconds, "s", f"best of {repeats}, fresh interpreter") for name, seconds in best.items()),
        Figure(BENCH, "Definitions / import dagster", best["load the Definitions"] / best["import dagster"], "x"),
    ]
