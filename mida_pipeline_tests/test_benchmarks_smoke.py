"""`make bench` works: the harness runs every benchmark at its smoke size and records every figure.

Speed is not asserted here (the size is tiny and the injected latency a token
1 ms, just enough for the latency bound to be defined): only that each figure
and each target verdict is produced and written down.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FIGURES = [
    "import dagster",
    "import dagster_dbt",
    "load the Definitions",
    "Definitions / import dagster",
    "pipeline requests",
    "pipeline wall time",
    "latency bound",
    "pipeline / latency bound",
    "primary goal only: requests",
    "primary goal only: wall time",
    "primary goal only: latency bound",
    "primary goal only / latency bound",
    "primary goal only: extract alone",
    "secondary goals and breakdown: extra requests",
    "secondary goals and breakdown: wall time ratio",
    "without the timeseries: requests",
    "without the timeseries: wall time",
    "timeseries: extra requests",
    "timeseries: wall time ratio",
    "pipeline wall time without latency",
    "sequential requests",
    "sequential wall time",
    "dlt requests",
    "dlt wall time",
    "dlt extract step",
    "single run: total",
    "single run: per partition",
    "single run: requests",
    "single run / its latency bound",
    "one run per day: per partition",
    "one run per day: total",
    "per-day / single-run",
    "scorecard from the mart",
    "scorecard from raw Parquet",
    "raw / mart",
    "peak RSS at 1x",
    "peak RSS at 10x",
    "10x / 1x peak RSS",
    "peak RSS during the sync at 1x",
    "peak RSS during the sync at 10x",
    "10x / 1x peak RSS during the sync",
]
TARGETS = 7


@pytest.mark.slow
def test_quick_run_records_every_figure_and_target(tmp_path):
    results = tmp_path / "RESULTS.md"
    # Outside make: under `make test` the harness would record its command as `make bench ...`.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MIDA_", "DAGSTER_HOME")) and k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--latency-ms",
            "1",
            "--results",
            str(results),
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    text = results.read_text()
    assert "- command: `python -m benchmarks.run --quick --latency-ms 1" in text
    assert re.search(r"- machine: .+, \d+ CPUs", text)
    for name in FIGURES:
        row = re.search(rf"^\| [^|]+ \| {re.escape(name)} \| ([-0-9.,]+) \|", text, re.M)
        assert row, f"figure {name!r} missing from RESULTS.md"
        assert float(row.group(1).replace(",", "")) >= 0
    verdicts = re.findall(r"^\| .+ \| ([0-9.]+)x \| (pass|miss) \|$", text, re.M)
    assert len(verdicts) == TARGETS
    assert "Not measured" not in text
    assert not list((tmp_path / "work").rglob("*.tmp")), "a partition write was left half done"
    assert "targets" in proc.stdout and "figures" in proc.stdout


def test_the_publish_benchmark_times_both_ways_on_a_small_warehouse(tmp_path, capsys):
    import duckdb

    from benchmarks import publish

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_experiment_variant_daily AS SELECT 'p' || (range % 2) AS project_key, "
            "DATE '2026-03-01' + (range % 5)::INT AS result_date, range AS visitors FROM range(40)"
        )
        con.execute("CREATE TABLE marts.dim_projects AS SELECT 'p0' AS project_key")
    assert publish.main(["--warehouse", str(warehouse), "--scale", "3", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for figure in ("publish by whole copy", "first publish", "publish of a day", "one day of the variant fact"):
        assert f"| {figure}" in out or figure in out, out
