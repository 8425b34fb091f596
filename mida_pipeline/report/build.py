"""Builds the report: reads the marts, draws the charts, writes <project>.html and index.html atomically.

Pages are rendered in memory first and each file is swapped in with a rename,
so a failure leaves the previous report as it was, never half a page.

A daily build redraws only what changed. Each experiment's section is keyed by
a content hash of the rows it shows (its scorecard rows and the facts of
dim_experiments it prints), each page by its sections and the store's rows;
the hashes and the sections drawn are kept beside the report (state.py), and
a page whose hash is unchanged is not written again. An ended experiment is
drawn once after it ended and kept: its numbers no longer move, only the day
they are "as of" would. Many sections to draw are drawn in parallel processes.
`rerender=True` draws everything again (after a backfill that rewrote history).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from mida_pipeline.report import charts
from mida_pipeline.report.data import ProjectData, ReportData, load, series
from mida_pipeline.report.page import (
    FUNNEL,
    experiment_section,
    experiment_verdict,
    funnel_totals,
    index_page,
    project_page,
    store_section,
)
from mida_pipeline.report.state import BuildState, content_hash, write_all

# The facts of dim_experiments a section prints or orders by; others (last_seen_on) move daily without showing.
SHOWN_FACTS = ["test_name", "status", "primary_goal_name"]
# Drawing a section takes ~0.1-0.2 s; under this many, starting worker processes costs more than it saves.
PARALLEL_FROM = 24


@dataclass
class ReportOutput:
    """Where the report went and what it says, for the asset's metadata and the demo's summary."""

    directory: Path
    index: Path
    pages: dict[str, Path] = field(default_factory=dict)
    verdicts: dict[str, Counter] = field(default_factory=dict)  # project -> experiments by badge
    charts: dict[str, bytes] = field(default_factory=dict)  # overview PNGs for the Dagster UI
    written: list[Path] = field(default_factory=list)  # the pages this build wrote; the others were unchanged
    drawn: int = 0  # experiment sections drawn by this build; the others came from the last build


def report_dir(settings) -> Path:
    """MIDA_REPORT_DIR when set, else a `report` folder beside the published warehouse (MIDA_DUCKDB_PATH)."""
    configured = settings.report_dir
    return Path(configured).resolve() if configured else Path(settings.duckdb_path).resolve().parent / "report"


def _order(project: ProjectData) -> list[int]:
    """Experiments with results, live ones first, then by id."""
    live = set(project.experiments.loc[project.experiments["status"] == "live", "test_id"])
    ids = sorted(set(project.scorecard["test_id"]))
    return sorted(ids, key=lambda t: (t not in live, t))


def _card(project: ProjectData, test_id: int) -> pd.DataFrame:
    """The experiment's scorecard rows: its primary goal first, then each secondary goal, control first in each."""
    rows = project.scorecard[project.scorecard["test_id"] == test_id]
    order = rows.assign(_secondary=~rows["is_primary_goal"].fillna(True).astype(bool), _key=rows["goal_key"].fillna(""))
    return (
        order.sort_values(["_secondary", "_key", "variant_id"])
        .drop(columns=["_secondary", "_key"])
        .reset_index(drop=True)
    )


def _segments(project: ProjectData, test_id: int) -> pd.DataFrame:
    if not len(project.segments):
        return project.segments
    return project.segments[project.segments["test_id"] == test_id].reset_index(drop=True)


def _info(project: ProjectData, test_id: int) -> pd.Series | None:
    rows = project.experiments[project.experiments["test_id"] == test_id]
    return rows.iloc[0] if len(rows) else None


def _experiment_hash(project: ProjectData, test_id: int) -> str:
    info = _info(project, test_id)
    facts = {} if info is None else {k: info.get(k) for k in SHOWN_FACTS}
    return content_hash(facts, _card(project, test_id), _segments(project, test_id))


def _draw(
    card: pd.DataFrame, info: pd.Series | None, cumulative: pd.DataFrame, segments: pd.DataFrame | None = None
) -> tuple[str, str]:
    """One experiment's section (with its primary goal's charts) and its verdict; a module-level function, so
    workers can run it. The charts over time read the daily scorecard (`cumulative`)."""
    primary = card[card["is_primary_goal"].fillna(True).astype(bool)] if "is_primary_goal" in card else card
    names = dict(zip(primary["variant_id"], primary["variant_name"], strict=True))
    pictures = {}
    if len(cumulative):
        pictures["Cumulative conversion rate"] = charts.cumulative_rate(cumulative, names)
    if (~primary["is_control"].astype(bool)).any():
        pictures["Lift over control"] = charts.lift(primary)
    if len(cumulative) and cumulative["chance_to_beat_control"].notna().any():
        threshold = primary["confidence_threshold_percent"].dropna()
        pictures["Chance to beat control and sequential p-value over time"] = charts.decision_history(
            cumulative, names, float(threshold.iloc[0]) if len(threshold) else None
        )
    return experiment_section(info, card, pictures, segments), experiment_verdict(card)


def _draw_many(tasks: list[tuple]) -> list[tuple[str, str]]:
    return [_draw(*t) for t in tasks]


def _draw_all(tasks: list[tuple], workers: int) -> list[tuple[str, str]]:
    """Draw every task's section, in up to `workers` processes when there are many."""
    if workers <= 1 or len(tasks) < PARALLEL_FROM:
        return _draw_many(tasks)
    n = min(workers, os.cpu_count() or 1)
    chunks = [tasks[i :: n * 4] for i in range(n * 4)]
    # forkserver: the workers start from a clean process, not a fork of a multi-threaded Dagster run.
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("forkserver")) as pool:
        drawn = list(pool.map(_draw_many, chunks))
    out: list = [None] * len(tasks)
    for i, chunk in enumerate(drawn):
        for j, result in enumerate(chunk):
            out[i + j * n * 4] = result
    return out


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


def build_report(
    warehouse: Path,
    out_dir: Path,
    projects: tuple[str, ...] | None = None,
    lake_dir: str | os.PathLike | None = None,
    now: datetime | None = None,
    *,
    rerender: bool = False,
    workers: int = 4,
) -> ReportOutput:
    """Write one page per project and an index into out_dir from the published warehouse, redrawing what changed."""
    now = now or datetime.now(timezone.utc)
    data = load(warehouse, projects, lake_dir, with_series=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = BuildState(out_dir, fresh=rerender)
    output = ReportOutput(directory=out_dir, index=out_dir / "index.html")
    files: dict[Path, str | bytes] = {}

    store_hash = content_hash(data.store_daily, data.store_weekly)
    store_file = state.dir / "store.html"
    if state.saved.get("store") == store_hash and store_file.exists():
        store_html = store_file.read_text(encoding="utf-8")
        store_charts = {p.stem: p.read_bytes() for p in (state.dir / "charts").glob("store_*.png")}
    else:
        store_html, pictures = _store(data)
        store_charts = {name if name.startswith("store") else f"store_{name}": png for name, png in pictures.items()}
        files[store_file] = store_html
        files.update({state.chart_path(name): png for name, png in store_charts.items()})
    state.new["store"] = store_hash
    output.charts.update(store_charts)

    # Which sections to draw: those whose rows changed, and ended experiments not yet drawn as ended.
    plans: dict[str, list[tuple[int, str, bool, dict | None]]] = {}
    to_draw: list[tuple[str, int]] = []
    for key, project in data.projects.items():
        ended_ids = set(project.experiments.loc[project.experiments["status"] == "inactive", "test_id"])
        plans[key] = []
        for test_id in _order(project):
            digest, ended = _experiment_hash(project, test_id), test_id in ended_ids
            kept = state.kept_section(key, test_id, digest, ended)
            plans[key].append((test_id, digest, ended, kept))
            if kept is None:
                to_draw.append((key, test_id))
    cumulative = series(warehouse, to_draw, lake_dir)
    tasks = []
    for key, test_id in to_draw:
        project = data.projects[key]
        mine = cumulative[(cumulative["project_key"] == key) & (cumulative["test_id"] == test_id)].reset_index(
            drop=True
        )
        tasks.append((_card(project, test_id), _info(project, test_id), mine, _segments(project, test_id)))
    drawn = dict(zip(to_draw, _draw_all(tasks, workers), strict=True))
    output.drawn = len(drawn)

    index_rows = []
    for key, project in data.projects.items():
        sections, badges, section_hashes = [], [], []
        for test_id, digest, ended, kept in plans[key]:
            if kept is None:
                html_text, verdict = drawn[(key, test_id)]
                files[state.section_path(key, test_id)] = html_text
                kept = {"hash": digest, "verdict": verdict, "ended": ended}
            else:
                html_text, verdict = state.section_path(key, test_id).read_text(encoding="utf-8"), kept["verdict"]
            state.new["experiments"][f"{key}/{test_id}"] = kept
            sections.append(html_text)
            badges.append(verdict)
            section_hashes.append(kept["hash"])
        verdicts = Counter(badges)
        scored = set(project.scorecard["test_id"])
        not_started = [str(r["test_name"]) for _, r in project.experiments.iterrows() if r["test_id"] not in scored]
        path = out_dir / f"{key}.html"
        page_hash = content_hash(section_hashes, badges, not_started, store_hash)
        lift_png = state.chart_path(f"lift_{key}")
        if not state.page_unchanged(key, page_hash, path):
            files[path] = project_page(key, sections, badges, not_started, store_html, now)
            primary = project.scorecard[project.scorecard["is_primary_goal"].fillna(True).astype(bool)]
            variants = primary[~primary["is_control"].astype(bool)]
            if len(variants):
                labelled = variants.assign(
                    label=variants["test_name"].astype(str) + " · " + variants["variant_name"].astype(str)
                )
                files[lift_png] = charts.lift(labelled, label_column="label")
        state.new["pages"][key] = page_hash
        if isinstance(files.get(lift_png), bytes):
            output.charts[f"lift_{key}"] = files[lift_png]
        elif lift_png.exists():
            output.charts[f"lift_{key}"] = lift_png.read_bytes()
        output.pages[key] = path
        output.verdicts[key] = verdicts
        index_rows.append({"project_key": key, "file": path.name, "experiments": len(sections), "verdicts": verdicts})

    index_hash = content_hash([{**r, "verdicts": dict(r["verdicts"])} for r in index_rows], store_hash)
    if not state.page_unchanged("index.html", index_hash, output.index):
        files[output.index] = index_page(index_rows, store_html, now)
    state.new["pages"]["index.html"] = index_hash
    output.written = sorted(p for p in files if p.suffix == ".html" and p.parent == out_dir)
    # The pages and sections first, the hashes last: a build killed in between draws again, never skips a change.
    write_all(files)
    write_all({state.file: json.dumps(state.new, sort_keys=True)})
    return output
