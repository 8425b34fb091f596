"""`mida-pipeline demo` as a user runs it: the sandbox, a real backfill, dbt, the report, and a summary that is true."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow


def _kinds(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(
            con.execute(
                "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        )


def _rows(path: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()


def test_the_demo_ends_with_a_true_summary_and_a_report(tmp_path, cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    data = tmp_path / "demo-data"
    out = cli(env, "demo", "--days", "2", "--data-dir", str(data)).stdout
    flat = " ".join(out.split())

    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for table in ("raw.mida_experiment_results", "raw.bss_analytics_daily", "marts.fct_experiment_scorecard"):
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert rows > 0 and re.search(rf"{re.escape(table)}\s*│\s*{rows:,}\s", out), table
        experiments = con.execute(
            "SELECT count(DISTINCT (project_key, test_id)) FROM marts.fct_experiment_scorecard"
        ).fetchone()[0]
        srm = con.execute(
            "SELECT count(DISTINCT (project_key, test_id)) FROM marts.fct_experiment_scorecard WHERE verdict = 'srm_warning'"
        ).fetchone()[0]
        safe = dict(
            con.execute(
                """SELECT outcome, count(*) FROM (
                       SELECT CASE WHEN bool_or(safe_verdict = 'srm_warning') THEN 'broken'
                                   WHEN bool_or(safe_verdict IN ('winner', 'loser')) THEN 'ready' ELSE 'not yet' END
                       FROM marts.fct_experiment_scorecard WHERE is_primary_goal AND NOT is_control
                       GROUP BY project_key, test_id) AS t(outcome) GROUP BY ALL"""
            ).fetchall()
        )
        alerts = con.execute("SELECT count(*) FROM marts.fct_experiment_alerts WHERE is_open").fetchone()[0]
    counts = re.search(
        r"experiments: (\d+) with results .*? (\d+) with a winner, (\d+) with a loser, (\d+) inconclusive, "
        r"(\d+) with an SRM warning",
        flat,
    )
    assert counts, flat[-1500:]
    total, winner, loser, inconclusive, srm_shown = map(int, counts.groups())
    assert total == experiments == winner + loser + inconclusive + srm_shown and srm_shown == srm
    # Beside Mida's verdict, the one to act on: the safe verdict, and the alerts that hold.
    shown = re.search(r"safe verdict .*?: (\d+) ready to call, (\d+) not yet, (\d+) split broken", flat)
    assert shown and tuple(map(int, shown.groups())) == tuple(safe.get(k, 0) for k in ("ready", "not yet", "broken"))
    assert f"open alerts: {alerts} " in flat

    report = data / "report" / "index.html"
    assert f"report: {report}" in out and report.stat().st_size > 1000
    assert len(list((data / "report").glob("*.html"))) == 4  # the index and the sandbox's three projects
    ui = next(line for line in out.splitlines() if " dev -w workspace.yaml" in line)
    assert f"DAGSTER_HOME={data}/dagster_home" in ui and f"MIDA_DUCKDB_PATH={data}/warehouse.duckdb" in ui
    # dbt's own output went to the log, not over the progress bars.
    assert "Completed successfully" not in out and "Completed successfully" in (data / "demo.log").read_text()
    assert Path(data / "dagster_home").is_dir()
    # The marts that grow by the day are published as files beside the warehouse; an export holds them inside.
    published = data / "warehouse.duckdb"
    assert _kinds(published)["fct_experiment_variant_daily"] == "VIEW"
    exported = tmp_path / "elsewhere" / "mida.duckdb"
    out = cli(env | {"MIDA_DUCKDB_PATH": str(published)}, "export", "--to", str(exported)).stdout
    assert f"to {exported}" in out
    assert set(_kinds(exported).values()) == {"BASE TABLE"} and _kinds(exported).keys() == _kinds(published).keys()
    for table in ("fct_experiment_variant_daily", "fct_experiment_scorecard_daily", "fct_experiment_scorecard"):
        assert _rows(exported, table) == _rows(published, table) != []


def test_an_export_before_anything_is_published_says_so_in_one_line(tmp_path, cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    missing = tmp_path / "nothing" / "warehouse.duckdb"
    done = cli(env | {"MIDA_DUCKDB_PATH": str(missing)}, "export", "--to", str(tmp_path / "x.duckdb"), check=False)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        f"mida-pipeline: nothing is published at {missing} yet: run a sync first"
    ]
    assert not (tmp_path / "x.duckdb").exists()
