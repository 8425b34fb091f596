"""A report build redraws what changed: pages whose rows are the same are not written again, sections of unchanged
or ended experiments are kept, and sections drawn in worker processes are the ones drawn in the build's own.

The marts are a small synthetic warehouse (benchmarks/report.py writes the columns the report reads).
"""

from __future__ import annotations

import contextlib
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from benchmarks.report import write_marts
from mida_pipeline.report import build, build_report, state

LAST = date(2026, 3, 20)
NOW = datetime(2026, 3, 21, 6, tzinfo=timezone.utc)
PROJECTS = ("shop-000", "shop-001", "shop-002")


def sql(warehouse: Path, statement: str, *params) -> None:
    with contextlib.closing(duckdb.connect(str(warehouse))) as con:
        con.execute(statement, list(params))


def pages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.glob("*.html")}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """A first build of 3 projects x 4 experiments (3 live, 1 ended each), drawn once for the module."""
    root = tmp_path_factory.mktemp("first_build")
    warehouse, out = root / "warehouse.duckdb", root / "report"
    write_marts(warehouse, projects=len(PROJECTS), experiments=4, days=30, last=LAST)
    return root, build_report(warehouse, out, now=NOW, workers=1)


@pytest.fixture
def report(first_build, tmp_path):
    """The first build's warehouse and report (with the state it keeps), each test's own copy to change."""
    root, first = first_build
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return tmp_path / "warehouse.duckdb", tmp_path / "report", first


def test_the_first_build_draws_every_experiment_and_writes_every_page(report):
    first = report[2]
    assert first.drawn == 3 * 4
    assert [p.name for p in first.written] == sorted(["index.html", *(f"{k}.html" for k in PROJECTS)])


def test_a_second_build_on_unchanged_marts_rewrites_no_page(report):
    warehouse, out, _ = report
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.html")}
    again = build_report(warehouse, out, now=datetime(2026, 3, 22, tzinfo=timezone.utc), workers=1)
    assert again.written == [] and again.drawn == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.html")} == before
    assert set(again.pages) == set(PROJECTS) and sum(sum(c.values()) for c in again.verdicts.values()) == 3 * 4
    assert {f"lift_{k}" for k in PROJECTS} <= set(again.charts)  # the UI's charts, from the last build


def test_a_change_in_one_project_rewrites_only_its_page_and_draws_only_the_changed_experiment(report):
    warehouse, out, _ = report
    before = pages(out)
    sql(
        warehouse, "UPDATE marts.fct_experiment_scorecard SET visitors = visitors + 7 WHERE test_id = 2001"
    )  # shop-001, live
    again = build_report(warehouse, out, now=NOW, workers=1)
    assert [p.name for p in again.written] == ["shop-001.html"] and again.drawn == 1
    after = pages(out)
    assert {name for name in after if after[name] != before[name]} == {"shop-001.html"}
    assert 'data-test-id="2001"' in after["shop-001.html"].decode()


def test_an_ended_experiment_is_drawn_once_and_then_kept(report):
    warehouse, out, _ = report
    # 1003 ended before the first build: a later day moves its "as of" date only, and nothing is drawn again.
    sql(warehouse, "UPDATE marts.fct_experiment_scorecard SET as_of_date = ? WHERE test_id = 1003", date(2026, 3, 21))
    assert build_report(warehouse, out, now=NOW, workers=1).drawn == 0
    # 1001 ends now: drawn once as ended, then kept however its rows move.
    sql(warehouse, "UPDATE marts.dim_experiments SET status = 'inactive' WHERE test_id = 1001")
    assert build_report(warehouse, out, now=NOW, workers=1).drawn == 1
    sql(warehouse, "UPDATE marts.fct_experiment_scorecard SET as_of_date = ? WHERE test_id = 1001", date(2026, 3, 22))
    assert build_report(warehouse, out, now=NOW, workers=1).drawn == 0


def test_a_change_in_the_store_rewrites_the_pages_but_draws_no_experiment(report):
    warehouse, out, _ = report
    sql(warehouse, "INSERT INTO marts.fct_store_traffic_daily SELECT ?::DATE + 1, 1, 1, 1, 1, 1, 1, 1.0, 0.0", LAST)
    again = build_report(warehouse, out, now=NOW, workers=1)
    assert again.drawn == 0 and len(again.written) == len(PROJECTS) + 1


def test_rerender_draws_everything_again(report):
    warehouse, out, first = report
    assert build_report(warehouse, out, now=NOW, workers=1, rerender=True).drawn == first.drawn


def test_sections_drawn_in_worker_processes_are_the_ones_drawn_in_process(report, tmp_path, monkeypatch):
    warehouse, out, _ = report
    monkeypatch.setattr(build, "PARALLEL_FROM", 2)
    parallel = build_report(warehouse, tmp_path / "parallel", now=NOW, workers=2)
    assert parallel.drawn == 3 * 4
    assert pages(tmp_path / "parallel") == pages(out)


def test_a_lost_section_is_drawn_again_not_left_out(report):
    warehouse, out, _ = report
    (out / state.STATE_DIR / "sections" / "shop-002" / "3001.html").unlink()
    again = build_report(warehouse, out, now=NOW, workers=1)
    assert again.drawn == 1 and 'data-test-id="3001"' in (out / "shop-002.html").read_text()
