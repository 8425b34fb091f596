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

import numpy as np
import pandas as pd

from mida_pipeline.report import charts, overview
from mida_pipeline.report.data import ProjectData, ReportData, load, series
from mida_pipeline.report.page import (
    FUNNEL,
    funnel_totals,
    index_page,
    program_section,
    project_page,
    store_section,
)
from mida_pipeline.report.section import experiment_section
from mida_pipeline.report.state import BuildState, content_hash, write_all

# The facts of dim_experiments a section prints or orders by; others (last_seen_on) move daily without showing.
SHOWN_FACTS = ["test_name", "status", "primary_goal_name"]
# Drawing a section takes a few milliseconds; under this many, starting worker processes costs more than it saves.
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


@dataclass
class _Experiments:
    """One project's rows split by experiment once, with each experiment's content hash: a look-up per
    experiment, where filtering the project's frames for each would grow with the square of its size."""

    order: list[int]  # experiments with results, live ones first, then by id
    ended: set[int]
    cards: dict[int, pd.DataFrame]  # the primary goal first, then each secondary goal, control first in each
    segments: dict[int, pd.DataFrame]
    infos: dict[int, pd.Series]
    hashes: dict[int, str]

    @classmethod
    def of(cls, project: ProjectData) -> _Experiments:
        scorecard = project.scorecard.assign(
            _secondary=~project.scorecard["is_primary_goal"].fillna(True).astype(bool),
            _key=project.scorecard["goal_key"].fillna(""),
        ).sort_values(["test_id", "_secondary", "_key", "variant_id"], kind="stable")
        scorecard = scorecard.drop(columns=["_secondary", "_key"]).reset_index(drop=True)
        cards, card_rows = _split(scorecard)
        segments, segment_rows = _split(project.segments) if len(project.segments) else ({}, {})
        infos = {row["test_id"]: row for _, row in project.experiments.drop_duplicates("test_id").iterrows()}
        live = {t for t, info in infos.items() if info["status"] == "live"}
        ended = {t for t, info in infos.items() if info["status"] == "inactive"}
        hashes = {}
        for test_id in cards:
            info = infos.get(test_id)
            facts = {} if info is None else {k: info.get(k) for k in SHOWN_FACTS}
            hashes[test_id] = content_hash(
                facts, list(scorecard.columns), card_rows[test_id], segment_rows.get(test_id, b"")
            )
        order = sorted(cards, key=lambda t: (t not in live, t))
        return cls(order, ended, cards, segments, infos, hashes)

    def segment_rows(self, test_id: int) -> pd.DataFrame:
        found = self.segments.get(test_id)
        return pd.DataFrame(columns=["project_key", "test_id"]) if found is None else found


def _split(frame: pd.DataFrame) -> tuple[dict[int, pd.DataFrame], dict[int, bytes]]:
    """A frame's rows per test_id, in their order, with each group's row hashes as bytes (hashed once, vectorised).

    The rows are put in test_id order once (a stable sort keeps each experiment's own order), so each experiment's
    rows are a slice: a quarter of the cost of taking every experiment's rows by position. A slice keeps its rows'
    labels in the ordered frame (nothing reads a group by label), so it is not copied."""
    frame = frame.reset_index(drop=True)
    order = np.argsort(frame["test_id"].to_numpy(), kind="stable")
    ordered = frame.take(order).reset_index(drop=True)
    row_hashes = pd.util.hash_pandas_object(ordered, index=False).to_numpy()
    test_ids = ordered["test_id"].to_numpy()
    groups, hashes = {}, {}
    if not len(test_ids):
        return groups, hashes
    starts = np.flatnonzero(np.r_[True, test_ids[1:] != test_ids[:-1]]).tolist()
    for start, end in zip(starts, [*starts[1:], len(test_ids)], strict=True):
        groups[test_ids[start]] = ordered.iloc[start:end]
        hashes[test_ids[start]] = row_hashes[start:end].tobytes()
    return groups, hashes


def _draw(
    card: pd.DataFrame, info: pd.Series | None, cumulative: pd.DataFrame, segments: pd.DataFrame | None = None
) -> tuple[str, str]:
    """One experiment's section (with its primary goal's charts) and its verdict; a module-level function, so
    workers can run it. The charts over time read the daily scorecard (`cumulative`)."""
    primary = card[card["is_primary_goal"].fillna(True).astype(bool)] if "is_primary_goal" in card else card
    names = dict(zip(primary["variant_id"], primary["variant_name"], strict=True))
    drawn, over_time = [], charts.lines(cumulative) if len(cumulative) else []
    if over_time:
        drawn.append(charts.cumulative_rate(over_time, names))
    if (~primary["is_control"].astype(bool)).any():
        drawn.append(charts.lift(primary))
    if over_time and cumulative["chance_to_beat_control"].notna().any():
        threshold = primary["confidence_threshold_percent"].dropna()
        percent = float(threshold.iloc[0]) if len(threshold) else None
        drawn.append(charts.chance_history(over_time, names, percent))
        drawn.append(charts.sequential_history(over_time, names, percent))
    return experiment_section(info, card, drawn, segments)


def _draw_task(task: tuple) -> tuple[str, str]:
    return _draw(*task)


def _overview_task(variants: pd.DataFrame) -> bytes:
    """A project's lift overview (PNG, for the Dagster UI): every variant of its experiments' primary goals."""
    labelled = variants.assign(label=variants["test_name"].astype(str) + " · " + variants["variant_name"].astype(str))
    return overview.lift(labelled, label_column="label")


def _run_many(fn, tasks: list) -> list:
    return [fn(t) for t in tasks]


def _in_workers(fn, tasks: list, workers: int) -> list:
    """`fn` over every task, in order; in up to `workers` processes when there are many. `fn` is a module-level
    function, so workers can run it."""
    if workers <= 1 or len(tasks) < PARALLEL_FROM:
        return _run_many(fn, tasks)
    n = min(workers, os.cpu_count() or 1)
    chunks = [tasks[i :: n * 4] for i in range(n * 4)]
    # forkserver: the workers start from a clean process, not a fork of a multi-threaded Dagster run.
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("forkserver")) as pool:
        done = list(pool.map(_run_many, [fn] * len(chunks), chunks))
    out: list = [None] * len(tasks)
    for i, chunk in enumerate(done):
        for j, result in enumerate(chunk):
            out[i + j * n * 4] = result
    return out


def _store(data: ReportData) -> tuple[str, dict[str, bytes]]:
    pictures: dict[str, bytes] = {}
    if not data.store_daily.empty:
        labels = dict(FUNNEL)
        totals = {labels[k]: v for k, v in funnel_totals(data.store_daily).items() if pd.notna(v)}
        pictures["funnel"] = overview.funnel(totals)
        pictures["store_daily"] = overview.store_traffic(data.store_daily, "Store traffic by day", "period_date")
    if not data.store_weekly.empty:
        pictures["store_weekly"] = overview.store_traffic(data.store_weekly, "Store traffic by week", "period_date")
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
    split = {key: _Experiments.of(project) for key, project in data.projects.items()}
    to_draw: list[tuple[str, int]] = []
    for key, experiments in split.items():
        plans[key] = []
        for test_id in experiments.order:
            digest, ended = experiments.hashes[test_id], test_id in experiments.ended
            kept = state.kept_section(key, test_id, digest, ended)
            plans[key].append((test_id, digest, ended, kept))
            if kept is None:
                to_draw.append((key, test_id))
    cumulative = series(warehouse, to_draw, lake_dir)
    by_experiment = {
        (key, test_id): rows for (key, test_id), rows in cumulative.groupby(["project_key", "test_id"], sort=False)
    }
    empty = cumulative.iloc[0:0]
    tasks = []
    for key, test_id in to_draw:
        experiments = split[key]
        tasks.append(
            (
                experiments.cards[test_id],
                experiments.infos.get(test_id),
                by_experiment.get((key, test_id), empty),
                experiments.segment_rows(test_id),
            )
        )
    drawn = dict(zip(to_draw, _in_workers(_draw_task, tasks, workers), strict=True))
    output.drawn = len(drawn)

    index_rows, overviews = [], {}
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
        page_hash = content_hash(section_hashes, badges, not_started, store_hash, project.program)
        if not state.page_unchanged(key, page_hash, path):
            files[path] = project_page(
                key, sections, badges, not_started, store_html, now, program_section(project.program)
            )
            primary = project.scorecard[project.scorecard["is_primary_goal"].fillna(True).astype(bool)]
            variants = primary[~primary["is_control"].astype(bool)]
            if len(variants):
                overviews[key] = variants
        state.new["pages"][key] = page_hash
        output.pages[key] = path
        output.verdicts[key] = verdicts
        index_rows.append({"project_key": key, "file": path.name, "experiments": len(sections), "verdicts": verdicts})

    # The UI's overview of each page written, drawn beside each other as the sections were; the others are kept.
    drawn_overviews = dict(zip(overviews, _in_workers(_overview_task, list(overviews.values()), workers), strict=True))
    for key in data.projects:
        lift_png = state.chart_path(f"lift_{key}")
        if key in drawn_overviews:
            files[lift_png] = drawn_overviews[key]
            output.charts[f"lift_{key}"] = drawn_overviews[key]
        elif lift_png.exists():
            output.charts[f"lift_{key}"] = lift_png.read_bytes()

    index_hash = content_hash([{**r, "verdicts": dict(r["verdicts"])} for r in index_rows], store_hash)
    if not state.page_unchanged("index.html", index_hash, output.index):
        files[output.index] = index_page(index_rows, store_html, now)
    state.new["pages"]["index.html"] = index_hash
    output.written = sorted(p for p in files if p.suffix == ".html" and p.parent == out_dir)
    # The pages and sections first, the hashes last: a build killed in between draws again, never skips a change.
    write_all(files)
    write_all({state.file: json.dumps(state.new, sort_keys=True)})
    return output
