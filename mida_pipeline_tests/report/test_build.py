"""The report asset in a real Dagster run: the files it writes, what the UI shows, and failures that write nothing."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mida_pipeline.config import Settings
from mida_pipeline.defs.report_assets import report_dir as configured_report_dir
from mida_pipeline.report import build_report
from mida_pipeline.report.data import ReportDataError

pytestmark = pytest.mark.slow


def test_the_models_run_writes_a_page_per_project_and_an_index(report_dir, sandbox):
    index = (report_dir / "index.html").read_text()
    for key in sandbox.data.project_keys:
        assert (report_dir / f"{key}.html").stat().st_size > 10_000
        assert f'href="{key}.html"' in index
    # Self-contained: nothing on any page points off the file.
    for page in report_dir.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), page.name
        assert "<script src" not in text and "<link" not in text
    assert not list(report_dir.glob(".*.tmp"))


def test_the_materialization_links_the_report_and_carries_the_charts(synced, report_dir, sandbox):
    os.environ["DAGSTER_HOME"] = synced["DAGSTER_HOME"]
    try:
        with dg.DagsterInstance.get() as instance:
            event = instance.get_latest_materialization_event(dg.AssetKey("experiment_report"))
    finally:
        del os.environ["DAGSTER_HOME"]
    metadata = event.asset_materialization.metadata
    assert metadata["report"].value == str(report_dir / "index.html")
    assert metadata["open"].value == (report_dir / "index.html").as_uri()
    assert set(sandbox.data.project_keys) <= {r.data["project"] for r in metadata["projects"].records}
    charts = {name: m.value for name, m in metadata.items() if name.startswith("chart_")}
    assert {"chart_store_daily", "chart_store_weekly", "chart_store_funnel"} <= set(charts)
    assert {f"chart_lift_{key}" for key in sandbox.data.project_keys} <= set(charts)
    for markdown in charts.values():
        png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1))
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000


def test_a_warehouse_without_marts_fails_by_name_and_leaves_the_report_as_it_was(tmp_path, report_dir):
    before = {p.name: p.read_bytes() for p in report_dir.glob("*.html")}
    empty = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ReportDataError, match=r"has no marts\.dim_experiments; build the marts first"):
        build_report(empty, report_dir)
    with pytest.raises(ReportDataError, match=r"does not exist yet; sync some data first"):
        build_report(tmp_path / "missing.duckdb", report_dir)
    assert {p.name: p.read_bytes() for p in report_dir.glob("*.html")} == before


def test_a_configured_project_without_experiments_gets_an_honest_page(synced, tmp_path):
    out = build_report(Path(synced["MIDA_DUCKDB_PATH"]), tmp_path / "r", projects=("brand-new",))
    text = out.pages["brand-new"].read_text()
    assert "No experiment has results yet." in text and out.verdicts["brand-new"] == {}


def test_the_report_goes_beside_the_warehouse_unless_mida_report_dir_says_otherwise(tmp_path):
    warehouse = {"MIDA_DUCKDB_PATH": str(tmp_path / "w" / "warehouse.duckdb")}
    assert configured_report_dir(Settings.parse(warehouse)) == tmp_path / "w" / "report"
    elsewhere = Settings.parse({**warehouse, "MIDA_REPORT_DIR": str(tmp_path / "elsewhere")})
    assert configured_report_dir(elsewhere) == tmp_path / "elsewhere"
