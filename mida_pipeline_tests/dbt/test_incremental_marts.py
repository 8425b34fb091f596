"""The marts that grow by the day: a run with a window (dbt's --event-time-start/--event-time-end, see
dbt/macros/run_window.sql) replaces those days only, reads only their partitions, and leaves the marts exactly as a full rebuild of the same lake would; the
catalog published after each run (those tables as views over a Parquet file a day) shows what the build holds.

Real dbt builds the real project into a warehouse file whose raw views read a small lake written by the
lake's writer: two projects, four days of results in both windows, the store's days and one week.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from mida_pipeline.defs.dbt_project import changed_from, growing_tables, window_flags
from mida_pipeline.lake import generations
from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.lake.warehouse import Warehouse
from mida_pipeline.lake.writer import write_partition

pytestmark = pytest.mark.dbt

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
DBT = Path(sys.executable).with_name("dbt")
D1, D2, D3, D4 = (date(2026, 3, 2) + timedelta(days=i) for i in range(4))  # Monday to Thursday
SUNDAY = D1 - timedelta(days=1)
W0, W1 = SUNDAY - timedelta(days=13), SUNDAY - timedelta(days=6)  # the Mondays of the two weeks before D1
PROJECTS = ("p1", "p2")
FACTS = {"fct_experiment_variant_daily": "result_date", "fct_store_traffic_daily": "period_date",
         "fct_store_traffic_weekly": "period_date"}
# The dimensions keep each thing's latest snapshot: a run reads its days' snapshots and weighs them against what
# the dimension holds.
DIMS = ("dim_goals", "dim_events", "dim_experiment_goals")
# Marts that read only the run's days (or tables that grow by the day), and must still end equal to a full rebuild.
ALSO_EQUAL = ("fct_experiment_scorecard", "fct_experiment_scorecard_daily", "fct_experiment_segment_scorecard",
              "fct_experiment_segment_scorecard_daily", "dim_experiments", "dim_projects", "fct_experiment_alerts", "fct_experiment_program_monthly")
SELECT = ["--select", *(f"+{m}" for m in (*FACTS, *DIMS, *ALSO_EQUAL))]


def captured(day: date, hours: int = 1) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(hours), timezone.utc)


def results(project: str, day: date, scale: int = 1, hours: int = 1) -> list[dict]:
    """Two experiments of two variants, in both windows, for the primary goal and one secondary goal."""
    rows = []
    for test_id in (1, 2):
        for goal_key, primary in (("purchase", True), ("signup", False)):
            for variant in ("0", "1"):
                for window, n in (("day", 100), ("cumulative", 100 * (day - D1).days + 100)):
                    visitors = n * scale + test_id
                    rows.append({"project_key": project, "date": day, "test_id": test_id, "test_name": f"test {test_id}",
                                 "goal_key": goal_key, "goal_name": goal_key, "is_primary_goal": primary, "variant_id": variant,
                                 "window": window, "is_control": variant == "0", "visitors": visitors,
                                 "conversions": visitors // (10 if variant == "0" else 8), "revenue": 1.5 * visitors,
                                 "orders": visitors // 20, "captured_at": captured(day, hours), "raw": "{}"})
    return rows


def store(day: date, visitors: int, frequency: str = "daily") -> dict:
    end = day + timedelta(days=6) if frequency == "weekly" else day
    return {"date": day, "frequency": frequency, "period_start": day, "period_end": end, "period_stated": True,
            "total_visitors": visitors, "total_sessions": visitors + 10, "successful_orders": visitors // 50,
            "product_views": visitors // 2, "add_to_cart": visitors // 5, "checkout_started": visitors // 8,
            "abandoned_carts": visitors // 10, "revenue": 20.0 * visitors, "captured_at": captured(end), "raw": "{}"}


def snapshots(project: str, day: date, scale: int, hours: int) -> dict[str, list[dict]]:
    """Goals, events, experiments and the project's settings as listed on `day` (names carry the day and the capture,
    so every snapshot differs). Event 3 is last listed on D3, and from D4 on experiment 1 measures its primary goal
    alone. Experiment 2 is live until it ends on D4, unless a capture at another scale says it ended on D2 (so
    recapturing D2 moves its end); D3's snapshot of experiment 1 is late."""
    common = {"project_key": project, "date": day, "captured_at": captured(day, hours), "is_late_capture": False, "raw": "{}"}
    tag = f"{day:%d}x{scale}"

    def ended(test_id: int) -> bool:
        return test_id == 2 and (day >= D4 or (day == D2 and scale > 1))

    return {
        "mida_experiments": [
            {**common, "test_id": t, "test_name": f"test {t} {tag}", "status_code": 0 if ended(t) else 1,
             "status": "inactive" if ended(t) else "live", "is_completed": ended(t), "variant_count": 2,
             "is_late_capture": t == 1 and day == D3}
            for t in (1, 2)
        ],
        "mida_project_configuration": [
            {**common, "stats_engine": "Bayesian" if project == "p1" else "Frequentist", "tails": 2,
             "confidence_threshold_percent": 95.0 if scale == 1 else 90.0, "primary_goal_key": "purchase"}
        ],
        "mida_experiment_result_segments": [
            {**common, "test_id": t, "goal_key": "purchase", "dimension": "device", "segment": device,
             "variant_id": v, "is_control": v == "0", "visitors": (visitors := (50 * (day - D1).days + 50) * scale + t),
             "conversions": visitors // (10 if v == "0" else 7), "window_start": D1, "window_end": day}
            for t in (1, 2) if not ended(t) or day < D4
            for device in ("desktop", "mobile") for v in ("0", "1")
        ],
        "mida_goals": [{**common, "goal_profile_id": str(g), "goal_key": f"g{g}", "goal_name": f"goal {g} {tag}"} for g in (1, 2)],
        "mida_events": [{**common, "event_id": str(e), "event_text": f"event {e} {tag}"} for e in (1, 2, 3) if e < 3 or day < D4],
        "mida_experiment_goals": [
            {**common, "test_id": t, "goal_key": k, "goal_name": f"{k} {tag}", "is_primary_goal": k == "purchase"}
            for t in (1, 2) for k in ("purchase", "signup") if not (t == 1 and k == "signup" and day >= D4)
        ],
    }


def write_day(lake: Path, day: date, scale: int = 1, hours: int = 1) -> None:
    for project in PROJECTS:
        write_partition(lake, "mida_experiment_results", results(project, day, scale, hours), day=day, project_key=project)
        for table, rows in snapshots(project, day, scale, hours).items():
            write_partition(lake, table, rows, day=day, project_key=project)
    listed = [{"date": day, "project_key": p, "name": f"project {p} {day:%d}x{scale}", "is_active": True,
               "captured_at": captured(day, hours), "is_late_capture": False, "raw": "{}"} for p in PROJECTS]
    write_partition(lake, "mida_projects", listed, day=day)
    write_partition(lake, "bss_analytics_daily", [store(day, 1000 * scale + day.day)], day=day)


def dbt(build_path: Path, target: Path, *args: str, window: tuple[date, date] | None = None,
        variables: dict | None = None, check: bool = True, lake: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt run` of the facts into `build_path` (passed as the profile's var, as the dbt asset does), with `window` as
    the dbt asset passes it and `variables`."""
    given = json.dumps({"mida_build_path": str(build_path), **(variables or {})})
    proc = subprocess.run(
        [str(DBT), "run", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target),
         "--log-path", str(target / "logs"), *SELECT, "--vars", given, *window_flags(window), *args],
        cwd=DBT_DIR, env={**_env(), "MIDA_LAKE_DIR": str(lake or build_path.parent / "lake")},
        capture_output=True, text=True, timeout=600, check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    return proc


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DBT_"))}


def days(first: date, last: date) -> tuple[str, str]:
    return first.isoformat(), last.isoformat()


def marts(build_path: Path) -> dict[str, list[tuple]]:
    with contextlib.closing(duckdb.connect(str(build_path), read_only=True)) as con:
        return {m: con.execute(f"SELECT * FROM marts.{m} ORDER BY ALL").fetchall() for m in (*FACTS, *DIMS, *ALSO_EQUAL)}


def of_day(rows: list[tuple], day: date, position: int) -> list[tuple]:
    return [r for r in rows if r[position] == day]


def publish(warehouse: Warehouse, target: Path, window: tuple[str, str] | None = None) -> dict[tuple[str, str], list[tuple]]:
    """Publish the build as the dbt asset does after its run; returns every growing table's rows, as published."""
    growing = growing_tables(json.loads((target / "manifest.json").read_text()))
    with warehouse.exclusive():
        warehouse.publish({t: column for t, (column, _lead) in growing.items()}, changed_from(growing, window))
    with contextlib.closing(duckdb.connect(str(warehouse.published_path), read_only=True)) as con:
        views = generations.views_over(con, warehouse.published_path.stem, warehouse.facts_dir)
        return {(s, t): con.execute(f"SELECT * FROM {s}.{t} ORDER BY ALL").fetchall() for s, t in sorted(views)}


def growing_rows(build: Path, relations) -> dict[tuple[str, str], list[tuple]]:
    with contextlib.closing(duckdb.connect(str(build), read_only=True)) as con:
        return {(s, t): con.execute(f"SELECT * FROM {s}.{t} ORDER BY ALL").fetchall() for s, t in sorted(relations)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse built whole over D1..D3, then two runs: D4 synced, then Sunday..D2 synced again (a backfill that
    lands the week ending that Sunday and recaptures D2); each build published."""
    root = tmp_path_factory.mktemp("incremental")
    lake, target = root / "lake", root / "target"
    warehouse = Warehouse(published_path=root / "published" / "warehouse.duckdb", lake_dir=lake)
    build = warehouse.build_path
    build.parent.mkdir(parents=True)
    for day in (D1, D2, D3):
        write_day(lake, day)
    write_partition(lake, "bss_analytics_weekly", [store(W0, 7000, "weekly")], day=W0)
    with contextlib.closing(duckdb.connect(str(build))) as con:
        refresh_raw_views(con, lake)
    dbt(build, target, lake=lake)
    states = {"whole": marts(build)}
    published = {"whole": (publish(warehouse, target), marts(warehouse.published_path))}

    write_day(lake, D4)
    # D2 captured again, with other numbers: a run that did not sync D2 must neither read nor change it.
    write_day(lake, D2, scale=3, hours=5)
    write_partition(lake, "bss_analytics_weekly", [store(W1, 7100, "weekly")], day=W1)  # its Sunday is not D4
    dbt(build, target, window=days(D4, D4), lake=lake)
    states["after D4"] = marts(build)
    published["after D4"] = (publish(warehouse, target, days(D4, D4)), marts(warehouse.published_path))
    compiled = {m: (target / "compiled" / "mida" / "models" / folder / f"{m}.sql").read_text()
                for folder, m in (("marts", "fct_experiment_variant_daily"), ("marts", "dim_goals"),
                                  ("marts", "fct_experiment_scorecard"), ("staging", "stg_mida_experiments"),
                                  ("marts", "dim_experiments"))}

    dbt(build, target, window=days(SUNDAY, D2), lake=lake)
    states["after D2"] = marts(build)
    published["after D2"] = (publish(warehouse, target, days(SUNDAY, D2)), marts(warehouse.published_path))
    growing = growing_rows(build, published["after D2"][0])
    rebuilt = root / "rebuilt.duckdb"
    with contextlib.closing(duckdb.connect(str(rebuilt))) as con:
        refresh_raw_views(con, lake)
    dbt(rebuilt, target, lake=lake)
    states["rebuilt"] = marts(rebuilt)
    return {"states": states, "build": build, "target": target, "compiled_d4": compiled, "published": published,
            "growing": growing, "rebuilt_growing": growing_rows(rebuilt, growing), "warehouse": warehouse}


def test_a_run_of_one_day_changes_only_that_days_rows(built):
    whole, after = built["states"]["whole"], built["states"]["after D4"]
    daily = after["fct_experiment_variant_daily"]
    position = 6  # the `result_date` column
    assert of_day(daily, D4, position) and not of_day(whole["fct_experiment_variant_daily"], D4, position)
    for day in (D1, D2, D3):  # D2 was recaptured in the lake, but this run did not sync it
        assert of_day(daily, day, position) == of_day(whole["fct_experiment_variant_daily"], day, position)
    assert len(daily) == len(whole["fct_experiment_variant_daily"]) + 2 * 2 * 2 * 2  # projects x tests x goals x variants
    assert [r[0] for r in after["fct_store_traffic_daily"]] == [D1, D2, D3, D4]
    assert after["fct_store_traffic_daily"][:3] == whole["fct_store_traffic_daily"]


def test_the_scorecards_history_is_rescored_only_for_the_days_a_run_names(built):
    """D2 was captured again before the D4 run: only the run that syncs D2 rescores it (and reads its files)."""

    with contextlib.closing(duckdb.connect(str(built["build"]), read_only=True)) as con:
        columns = [d[0] for d in con.execute("SELECT * FROM marts.fct_experiment_scorecard_daily LIMIT 0").description]
    as_of = columns.index("as_of_date")  # a timestamp at midnight

    def of(state: str, day: date) -> list[tuple]:
        return [r for r in built["states"][state]["fct_experiment_scorecard_daily"] if r[as_of].date() == day]

    assert of("whole", D2) and of("after D4", D2) == of("whole", D2)
    assert of("after D2", D2) != of("whole", D2)
    assert of("after D4", D4) and not of("whole", D4)


def test_the_sequential_tuning_setting_reaches_the_scorecards_history(built):
    """MIDA_SEQUENTIAL_TUNING reaches dbt as the var `sequential_tuning`; a Python model sees only the config keys
    dbt's parser finds in it, so a key read where the parser does not look would silently stay at its default."""
    tuned = built["build"].with_name("tuned.duckdb")
    shutil.copyfile(built["build"], tuned)
    dbt(tuned, built["target"].with_name("tuned-target"), window=days(D4, D4), variables={"sequential_tuning": 50},
        lake=built["warehouse"].lake_dir)
    query = ("SELECT sequential_ci_low, sequential_ci_high FROM marts.fct_experiment_scorecard_daily "
             "WHERE as_of_date = ? AND NOT is_control ORDER BY project_key, test_id, goal_key, variant_id")
    with contextlib.closing(duckdb.connect(str(built["build"]), read_only=True)) as con:
        default = con.execute(query, [D4]).fetchall()
    with contextlib.closing(duckdb.connect(str(tuned), read_only=True)) as con:
        small = con.execute(query, [D4]).fetchall()
    assert default and len(small) == len(default)
    assert all(s != d for s, d in zip(small, default, strict=True))


def test_a_week_lands_with_the_run_that_syncs_its_sunday(built):
    states = built["states"]
    assert [r[0] for r in states["after D4"]["fct_store_traffic_weekly"]] == [W0]
    assert [r[0] for r in states["after D2"]["fct_store_traffic_weekly"]] == [W0, W1]


def test_a_run_of_a_past_day_replaces_that_day_with_its_latest_capture(built):
    before, after = built["states"]["after D4"], built["states"]["after D2"]
    position = 6
    changed = of_day(after["fct_experiment_variant_daily"], D2, position)
    assert changed != of_day(before["fct_experiment_variant_daily"], D2, position)
    assert {r[10] for r in changed} == {300 + 1, 300 + 2}  # visitors of the 5 o'clock capture (scale 3)
    for day in (D1, D3, D4):
        assert of_day(after["fct_experiment_variant_daily"], day, position) == of_day(before["fct_experiment_variant_daily"], day, position)


def test_the_marts_after_daily_runs_equal_a_full_rebuild_of_the_same_lake(built):
    assert built["states"]["after D2"] == built["states"]["rebuilt"]


@pytest.mark.parametrize("state", ["whole", "after D4", "after D2"])
def test_the_published_catalog_shows_what_the_build_holds_after_each_run(built, state):
    growing, marts_published = built["published"][state]
    assert marts_published == built["states"][state]
    assert {t for s, t in growing} >= {"fct_experiment_variant_daily", "fct_experiment_scorecard_daily",
                                       "fct_store_traffic_daily", "fct_store_traffic_weekly", "stg_mida_experiments"}


def test_the_published_tables_that_grow_by_the_day_equal_a_full_rebuild(built):
    growing, _ = built["published"]["after D2"]
    assert growing == built["growing"] == built["rebuilt_growing"]
    assert all(rows for rows in growing.values())


def test_the_dimensions_keep_each_things_latest_snapshot_whichever_days_a_run_names(built):
    after_d4, after_d2 = built["states"]["after D4"], built["states"]["after D2"]
    with contextlib.closing(duckdb.connect(str(built["build"]), read_only=True)) as con:
        goals = con.execute("SELECT goal_profile_id, goal_name, last_seen_on FROM marts.dim_goals WHERE project_key = 'p1' "
                            "ORDER BY 1").fetchall()
        events = con.execute("SELECT event_id, last_seen_on FROM marts.dim_events WHERE project_key = 'p1' ORDER BY 1").fetchall()
        of_test_1 = con.execute("SELECT goal_key FROM marts.dim_experiment_goals WHERE project_key = 'p1' AND test_id = 1").fetchall()
    # D2 recaptured later (the backfill) does not replace what D4 said; an event last listed on D3 stays, as of D3.
    assert goals == [("1", f"goal 1 {D4:%d}x1", D4), ("2", f"goal 2 {D4:%d}x1", D4)]
    assert events == [("1", D4), ("2", D4), ("3", D3)]
    assert of_test_1 == [("purchase",)]
    assert after_d4["dim_goals"] == after_d2["dim_goals"]


def test_the_latest_scorecard_reads_its_history_from_the_runs_first_day_on(built):
    assert f"where as_of_date >= date '{D4}'" in built["compiled_d4"]["fct_experiment_scorecard"]
    as_of = {r[6] for r in built["states"]["after D4"]["fct_experiment_scorecard"]}
    assert {day.date() for day in as_of} == {D4}


def test_an_experiments_status_history_follows_every_snapshot_kept_whichever_days_a_run_names(built):
    """The snapshot staging tables keep every day, so a recaptured past day moves the history as a rebuild would."""
    def history(state: str) -> dict[tuple, tuple]:
        return {(r[0], r[1]): r[-5:] for r in built["states"][state]["dim_experiments"]}

    # (first_seen_on, last_seen_on, started_on, ended_on, has_late_captures)
    assert history("after D4")[("p1", 2)] == (D1, D4, D1, D4, False)
    assert history("after D2")[("p1", 2)] == (D1, D4, D1, D2, False)  # D2 recaptured: it ended then
    assert history("after D2")[("p1", 1)] == (D1, D4, D1, None, True)  # D3's snapshot was late
    # The day's run brought each experiment forward from its held row and the day's states, not every snapshot.
    assert f"between date '{D4}' and date '{D4}'" in built["compiled_d4"]["dim_experiments"]


def test_a_run_rescores_the_segments_of_experiments_it_saw_on_their_latest_day_only(built):
    def as_of(state: str) -> dict[tuple, set]:
        rows = built["states"][state]["fct_experiment_segment_scorecard"]
        return {key: {r[6].date() for r in rows if r[:2] == key} for key in {r[:2] for r in rows}}

    assert as_of("whole") == {(p, t): {D3} for p in PROJECTS for t in (1, 2)}
    # Experiment 2 has no segments on D4 (it ended): it stays as of D3; a backfill of D2 changes neither.
    assert as_of("after D4") == as_of("after D2") == {(p, t): {D4 if t == 1 else D3} for p in PROJECTS for t in (1, 2)}
    assert built["states"]["after D4"]["fct_experiment_segment_scorecard"] == built["states"]["after D2"]["fct_experiment_segment_scorecard"]


def test_the_segment_scorecard_is_the_latest_day_of_its_daily_history(built):
    for state in ("whole", "after D4", "after D2"):
        history = built["states"][state]["fct_experiment_segment_scorecard_daily"]
        latest = {key: max(r[6] for r in history if r[:2] == key) for key in {r[:2] for r in history}}
        picked = {r[:7]: r for r in history if r[6] == latest[r[:2]]}
        mart = built["states"][state]["fct_experiment_segment_scorecard"]
        assert len(picked) == len(mart) and [picked[r[:7]] for r in mart] == mart
    # Every day with segments is kept: the history holds each experiment's D1..D3 (and D4 where it had segments).
    days = {r[6].date() for r in built["states"]["after D4"]["fct_experiment_segment_scorecard_daily"]}
    assert {D1, D3, D4} <= days


@pytest.mark.parametrize("model", ["fct_experiment_variant_daily", "dim_goals", "stg_mida_experiments"])
def test_a_run_of_one_day_reads_only_that_days_files(built, model):
    sql = built["compiled_d4"][model]
    assert f"between date '{D4}' and date '{D4}'" in sql
    with contextlib.closing(duckdb.connect(str(built["build"]), read_only=True)) as con:
        plan = "\n".join(row[1] for row in con.execute(f"EXPLAIN ANALYZE {sql}").fetchall())
    # Every scan of the lake (DuckDB may scan twice: the window's keys, then the rows it keeps) opens D4's file
    # of each project and none of D1..D3's.
    read = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]
    assert read and set(read) == {len(PROJECTS)}, plan
    assert set(re.findall(r"date=([0-9-]{10})/part\.parquet", plan)) == {D4.isoformat()}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--event-time-start", "2026-03-02"], "`--event-time-start` was specified, but `--event-time-end` was not"),
        (["--event-time-start", "2026-03-02", "--event-time-end", "yesterday"], "Invalid value for '--event-time-end'"),
        (["--event-time-start", "2026-03-05", "--event-time-end", "2026-03-02"],
         "`--event-time-start` must be less than `--event-time-end`"),
    ],
)
def test_a_window_given_wrong_fails_in_one_line_naming_the_flag(built, flags, message):
    """The window is dbt's own: dbt checks it, before anything is built."""
    proc = dbt(built["build"], built["target"], *flags, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


def dbt_test(build_path: Path, target: Path, window: tuple[str, str] | None = None) -> dict[str, str]:
    """The tests of the facts, the results' staging view and the raw results (`dbt build` of the tests alone: `dbt
    test` takes no window); the compiled SQL of each test that ran, by its name."""
    given = json.dumps({"mida_build_path": str(build_path)})
    proc = subprocess.run(
        [str(DBT), "build", "--resource-type", "test", *window_flags(window),
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target),
         "--log-path", str(target / "logs"), "--select", *FACTS, "stg_mida_experiment_results", "source:raw.mida_experiment_results",
         # The fixture builds the facts alone: their relationships to the dimensions are left out.
         "--exclude", "test_name:relationships", "--vars", given],
        cwd=DBT_DIR, env=_env(), capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    ran = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    return {manifest[r["unique_id"]]["name"]: r["compiled_code"] for r in ran if r.get("compiled_code")}


def test_a_run_of_one_day_tests_that_days_rows_and_a_full_build_tests_every_day(built, tmp_path):
    scoped = dbt_test(built["build"], tmp_path / "scoped", days(D4, D4))
    assert scoped
    for name, sql in scoped.items():
        first = D4 - timedelta(days=6) if "weekly" in name else D4  # a week's Monday before the Sunday synced
        assert f"between date '{first}' and date '{D4}'" in sql, name
    every_day = dbt_test(built["build"], tmp_path / "whole")
    assert set(every_day) == set(scoped)
    assert not [name for name, sql in every_day.items() if "between date" in sql]
