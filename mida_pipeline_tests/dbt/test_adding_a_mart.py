"""Adding a daily mart touches its model and its YAML, nothing else (docs/dbt.md): in a scratch copy of the dbt
project, a new model with `event_time` replaces only its window's days, reads and tests only their rows, ends
equal to a full rebuild, and is a growing table for the publish."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from mida_pipeline.defs.dbt_project import DBT_DIR, growing_tables, window_flags
from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.lake.writer import write_partition
from mida_pipeline_tests.dbt.test_incremental_marts import _env, captured, store

pytestmark = pytest.mark.dbt

DBT = Path(sys.executable).with_name("dbt")
D1, D2, D3, D4 = (date(2026, 3, 2) + timedelta(days=i) for i in range(4))

MODEL = """\
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='date',
          event_time='date') }}
select period_date as date, total_visitors
from {{ ref('stg_bss_analytics_daily') }}
where {{ in_run_window('period_date') }}
"""
YAML = """\
version: 2
models:
  - name: fct_my_daily
    description: The store's visitors by day.
    columns:
      - name: date
        description: The day.
        data_type: date
        data_tests: [not_null]
      - name: total_visitors
        description: Visitors that day.
        data_type: bigint
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    scratch = tmp_path_factory.mktemp("adding") / "dbt"
    shutil.copytree(DBT_DIR, scratch, ignore=shutil.ignore_patterns("target", "logs"))
    (scratch / "models" / "marts" / "fct_my_daily.sql").write_text(MODEL)
    (scratch / "models" / "marts" / "_my_daily.yml").write_text(YAML)
    return scratch


def build(project: Path, warehouse: Path, *flags: str) -> dict:
    """`dbt build` of the new mart and what it reads; the compiled SQL of the mart and of its test."""
    target = project / "target"
    proc = subprocess.run(
        [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(target),
         "--select", "+fct_my_daily", "--vars", json.dumps({"mida_build_path": str(warehouse)}), *flags],
        cwd=project, env={**_env(), "MIDA_LAKE_DIR": str(warehouse.parent / "lake")},
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    compiled = {r["unique_id"].split(".")[2]: r.get("compiled_code") or "" for r in results}
    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        rows = con.execute("SELECT date, total_visitors FROM marts.fct_my_daily ORDER BY date").fetchall()
    return {"rows": rows, "compiled": compiled, "manifest": json.loads((target / "manifest.json").read_text())}


def land(lake: Path, day: date, visitors: int, hours: int = 1) -> None:
    write_partition(lake, "bss_analytics_daily", [dict(store(day, visitors), captured_at=captured(day, hours))], day=day)


def test_a_new_daily_mart_follows_the_window_with_its_model_and_yaml_alone(project, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    lake = tmp_path / "lake"
    for day, visitors in ((D1, 101), (D2, 102), (D3, 103)):
        land(lake, day, visitors)
    with contextlib.closing(duckdb.connect(str(warehouse))) as con:
        refresh_raw_views(con, lake)
    first = build(project, warehouse)
    assert first["rows"] == [(D1, 101), (D2, 102), (D3, 103)]

    land(lake, D2, 999, hours=5)  # D2 captured again: a run whose window is D4 neither reads nor changes it
    land(lake, D4, 104)
    day = build(project, warehouse, *window_flags((D4.isoformat(), D4.isoformat())))
    assert day["rows"] == [(D1, 101), (D2, 102), (D3, 103), (D4, 104)]
    assert f"period_date between date '{D4}' and date '{D4}'" in day["compiled"]["fct_my_daily"]
    (test,) = [sql for name, sql in day["compiled"].items() if name.startswith("not_null_fct_my_daily")]
    assert f"date between date '{D4}' and date '{D4}'" in test  # its test reads the window's rows

    backfill = build(project, warehouse, *window_flags((D2.isoformat(), D2.isoformat())))
    assert backfill["rows"] == [(D1, 101), (D2, 999), (D3, 103), (D4, 104)]
    assert build(project, warehouse, "--full-refresh")["rows"] == backfill["rows"]
    assert growing_tables(backfill["manifest"])[("marts", "fct_my_daily")] == ("date", 0)
