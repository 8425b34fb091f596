"""dbt's microbatch against the pipeline's delete+insert, for the two daily facts, at a year of history.

Both read the run's window from the same flags (`--event-time-start`/`--event-time-end`); microbatch runs one
query a day of it, delete+insert one query for the whole window. Each variant builds `fct_experiment_variant_daily`
and `fct_store_traffic_daily` in its own copy of the dbt project and of the published warehouse: every day
(`--full-refresh`), then a one-day window three times, then a seven-day window; the rows must end equal.

Run after `benchmarks.history` kept its lake and warehouse:
`python -m benchmarks.microbatch --history /tmp/mida-history/history-365`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from mida_pipeline.defs.dbt_project import DBT, DBT_DIR, window_flags
from mida_pipeline.lake.warehouse import Warehouse

FACTS = {"fct_experiment_variant_daily": "result_date", "fct_store_traffic_daily": "period_date"}
VARIANTS = ("delete+insert", "microbatch")


def _as_microbatch(project: Path, first: date) -> None:
    for model, column in FACTS.items():
        path = project / "models" / "marts" / f"{model}.sql"
        sql = re.sub(
            r"\{\{ config\(.*?\) \}\}",
            "{{ config(materialized='incremental', incremental_strategy='microbatch', "
            f"event_time='{column}', batch_size='day', begin='{first}', lookback=0) }}}}",
            path.read_text(),
            count=1,
            flags=re.S,
        )
        # dbt filters a microbatch model's inputs by their event_time itself.
        sql = re.sub(r"(and |where )\{\{ in_run_window\('\w+'\) \}\}", "", sql)
        path.write_text(sql)


def _dbt(project: Path, warehouse: Path, lake: Path, *flags: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DBT_"))}
    env["MIDA_LAKE_DIR"] = str(lake)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(DBT), "run", "--project-dir", str(project), "--profiles-dir", str(project), "--select", *FACTS,
         "--vars", json.dumps({"mida_build_path": str(warehouse)}), *flags],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"dbt run {' '.join(flags)} failed:\n{proc.stdout[-3000:]}")
    return {"wall_s": wall, "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def measure(history: Path, workdir: Path) -> dict:
    lake = history / "lake"
    days = sorted(p.name.split("=")[1] for p in (lake / "bss_analytics_daily").glob("date=*"))
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    out: dict = {"days": len(days)}
    for variant in VARIANTS:
        root = workdir / variant.replace("+", "_")
        shutil.rmtree(root, ignore_errors=True)
        project, warehouse = root / "dbt", root / "warehouse.duckdb"
        shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
        if variant == "microbatch":
            _as_microbatch(project, first)
        Warehouse(published_path=history / "warehouse.duckdb", lake_dir=lake).export(warehouse)
        day = window_flags((str(last), str(last)))
        week = window_flags((str(last - timedelta(days=6)), str(last)))
        out[variant] = {
            "every day (--full-refresh)": _dbt(project, warehouse, lake, "--full-refresh"),
            "one day": min((_dbt(project, warehouse, lake, *day) for _ in range(3)), key=lambda r: r["wall_s"]),
            "seven days": _dbt(project, warehouse, lake, *week),
        }
        with duckdb.connect(str(warehouse), read_only=True) as con:
            out[variant]["rows"] = [
                con.execute(f"SELECT count(*), sum({m}) FROM marts.{t}").fetchone()
                for t, m in (
                    ("fct_experiment_variant_daily", "visitors"),
                    ("fct_store_traffic_daily", "total_visitors"),
                )
            ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, required=True, help="a history benchmark's folder (lake, warehouse)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mida-microbatch"))
    args = parser.parse_args(argv)
    res = measure(args.history, args.workdir)
    print(f"{res['days']} days of history; wall / CPU seconds (one day: best of 3)")
    print("| build | " + " | ".join(VARIANTS) + " |\n|---|---:|---:|")
    for step in ("every day (--full-refresh)", "one day", "seven days"):
        cells = [f"{res[v][step]['wall_s']:.1f} / {res[v][step]['cpu_s']:.1f} s" for v in VARIANTS]
        print(f"| {step} | " + " | ".join(cells) + " |")
    same = res[VARIANTS[0]]["rows"] == res[VARIANTS[1]]["rows"]
    print(f"rows equal: {same} {res[VARIANTS[0]]['rows']}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
