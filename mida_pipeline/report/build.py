"""Builds the report: reads the marts, draws the charts, writes <project>.html and index.html atomically.

Pages are rendered in memory first and each file is swapped in with a rename,
so a failure leaves the previous report as it was, never half a page.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from mida_pipeline.report import charts
from mida_pipeline.report.data import ProjectData, ReportData, load
from mida_pipeline.report.page import (
    FUNNEL, experiment_section, experiment_verdict, funnel_totals, index_page, project_page, store_section,
)


@dataclass
class ReportOutput:
    """Where the report went and what it says, for the asset's metadata and the demo's summary."""

    directory: Path
    index: Path
    pages: dict[str, Path] = field(default_factory=dict)
    verdicts: dict[str, Counter] = field(default_factory=dict)  # project -> experiments by badge
    charts: dict[str, bytes] = field(default_factory=dict)  # overview PNGs for the Dagster UI


def report_dir(settings) -> Path:
    """MIDA_REPORT_DIR when set, else a `report` folder beside the published warehouse (MIDA_DUCKDB_PATH)."""
    configured = settings.report_dir
    return Path(configured).resolve() if configured else Path(settings.duckdb_path).resolve().parent / "report"


def _order(project: ProjectData) -> list[int]:
    """Experiments with results, live ones first, then by id."""
    live = set(project.experiments.loc[project.experiments["status"] == "live", "test_id"])
    ids = sorted(set(project.scorecard["test_id"]))
    return sorted(ids, key=lambda t: (t not in live, t))


def _experiment(project: ProjectData, test_id: int) -> tuple[str, str]:
    card = project.scorecard[project.scorecard["test_id"] == test_id].sort_values("variant_id").reset_index(drop=True)
    rows = project.experiments[project.experiments["test_id"] == test_id]
    info = rows.iloc[0] if len(rows) else None
    names = dict(zip(card["variant_id"], card["variant_name"]))
    pictures = {}
    series = project.cumulative[project.cumulative["test_id"] == test_id]
    if len(series):
        pictures["Cumulative conversion rate"] = charts.cumulative_rate(series, names)
    if (~card["is_control"].astype(bool)).any():
        pictures["Lift over control"] = charts.lift(card)
    return experiment_section(info, card, pictures), experiment_verdict(card)


def _store(data: ReportData) -> tuple[str, dict[str, bytes]]:
    pictures: dict[str, bytes] = {}
    if not data.store_daily.empty:
        labels = dict(FUNNEL)
        totals = {labels[k]: v for k, v in funnel_totals(data.store_daily).items() if pd.notna(v)}
        pictures["funnel"] = charts.funnel(totals)
        pictures["store_daily"] = charts.store_traffic(data.store_daily, "Store traffic by day", "date")
    if not data.store_weekly.empty:
        pictures["store_weekly"] = charts.store_traffic(data.store_weekly, "Store traffic by week", "week_start")
    return store_section(data.store_daily, data.store_weekly, pictures), pictures


def _write_all(files: dict[Path, str]) -> None:
    """Write every file beside its target, then rename each into place."""
    staged = []
    try:
        for target, text in files.items():
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def build_report(
    warehouse: Path,
    out_dir: Path,
    projects: tuple[str, ...] | None = None,
    lake_dir: str | os.PathLike | None = None,
    now: datetime | None = None,
) -> ReportOutput:
    """Write one page per project and an index into out_dir from the published warehouse."""
    now = now or datetime.now(timezone.utc)
    data = load(warehouse, projects, lake_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = ReportOutput(directory=out_dir, index=out_dir / "index.html")
    store_html, store_charts = _store(data)
    output.charts.update({name if name.startswith("store") else f"store_{name}": png for name, png in store_charts.items()})
    files: dict[Path, str] = {}
    index_rows = []
    for key, project in data.projects.items():
        sections, badges = [], []
        for test_id in _order(project):
            html_text, verdict = _experiment(project, test_id)
            sections.append(html_text)
            badges.append(verdict)
        verdicts = Counter(badges)
        scored = set(project.scorecard["test_id"])
        not_started = [str(r["test_name"]) for _, r in project.experiments.iterrows() if r["test_id"] not in scored]
        path = out_dir / f"{key}.html"
        files[path] = project_page(key, sections, badges, not_started, store_html, now)
        output.pages[key] = path
        output.verdicts[key] = verdicts
        variants = project.scorecard[~project.scorecard["is_control"].astype(bool)]
        if len(variants):
            labelled = variants.assign(label=variants["test_name"].astype(str) + " · " + variants["variant_name"].astype(str))
            output.charts[f"lift_{key}"] = charts.lift(labelled, label_column="label")
        index_rows.append({"project_key": key, "file": path.name, "experiments": len(sections), "verdicts": verdicts})
    files[output.index] = index_page(index_rows, store_html, now)
    _write_all(files)
    return output
