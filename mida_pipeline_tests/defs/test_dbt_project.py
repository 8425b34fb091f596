"""What the dbt manifest says the publish needs: the models that grow by the day, and the days a build replaced."""

import json
from datetime import date

from mida_pipeline.defs.dbt_project import changed_from, growing_tables, prepare_manifest, run_target, window_flags


def test_the_tables_that_grow_by_the_day_are_the_incremental_models_with_an_event_time():
    manifest = json.loads(prepare_manifest().read_text())
    growing = growing_tables(manifest)
    assert growing == {
        ("marts", "fct_experiment_variant_daily"): ("result_date", 0),
        ("marts", "fct_experiment_scorecard_daily"): ("as_of_date", 0),
        ("marts", "fct_experiment_segment_scorecard_daily"): ("as_of_date", 0),
        ("marts", "fct_store_traffic_daily"): ("period_date", 0),
        ("marts", "fct_store_traffic_weekly"): ("period_date", 6),  # keyed by its Monday, synced with its Sunday
        ("staging", "stg_mida_experiments"): ("snapshot_date", 0),
        ("staging", "stg_mida_project_configuration"): ("config_date", 0),
        ("staging", "stg_mida_projects"): ("snapshot_date", 0),
    }
    # The latest scorecards are incremental by experiment: published whole, as tables.
    assert ("marts", "fct_experiment_scorecard") not in growing
    # A growing table replaces its window's days: its unique key is its day.
    for node in manifest["nodes"].values():
        if (node["schema"], node.get("alias")) in growing:
            assert node["config"]["unique_key"] == node["config"]["event_time"], node["name"]
            assert node["config"]["incremental_strategy"] == "delete+insert", node["name"]


def test_a_build_with_a_window_replaced_its_days_and_a_week_back_for_the_weekly_table():
    growing = {("marts", "daily"): ("date", 0), ("marts", "weekly"): ("week_start", 6)}
    assert changed_from(growing, ("2026-03-05", "2026-03-06")) == {
        ("marts", "daily"): date(2026, 3, 5),
        ("marts", "weekly"): date(2026, 2, 27),
    }
    assert changed_from(growing, None) is None  # no window: any day may have changed


def test_a_window_reaches_dbt_as_its_event_time_flags_with_the_end_exclusive():
    assert window_flags(("2026-03-05", "2026-03-06")) == [
        "--event-time-start",
        "2026-03-05",
        "--event-time-end",
        "2026-03-07",
    ]
    assert window_flags(None) == []


def test_each_build_leaves_its_log_and_results_and_only_the_last_five_stay(tmp_path):
    runs = tmp_path / "runs"
    targets = []
    for i in range(8):
        with run_target(f"run{i:04d}-0000", runs_dir=runs) as target:
            (target / "dbt.log").write_text(f"build {i}")
            (target / "run_results.json").write_text("{}")
            (target / "compiled").mkdir()
            (target / "compiled" / "model.sql").write_text("select 1" * 1000)
            targets.append(target)
    assert not any(t.exists() for t in targets), "a build's own target folder outlived it"
    kept = sorted(p for p in runs.iterdir() if not p.name.startswith("."))  # not the lock
    assert len(kept) == 5
    assert [(k / "dbt.log").read_text() for k in kept] == [f"build {i}" for i in range(3, 8)]
    assert all(sorted(f.name for f in k.iterdir()) == ["dbt.log", "run_results.json"] for k in kept)


def test_a_build_that_ends_leaves_a_running_ones_folder_alone(tmp_path):
    runs = tmp_path / "runs"
    with run_target("long", runs_dir=runs, keep=1) as long_running:
        (long_running / "dbt.log").write_text("still building")
        for i in range(3):
            with run_target(f"short{i}", runs_dir=runs, keep=1):
                pass
        assert (long_running / "dbt.log").read_text() == "still building"
    assert [p.name.split("-", 1)[1] for p in runs.iterdir() if not p.name.startswith(".")] == ["long"]


def test_a_builds_parse_is_handed_to_the_next_build_of_the_same_warehouse(tmp_path):
    cache = tmp_path / "warehouse" / "dbt_partial_parse.msgpack"
    cache.parent.mkdir()
    with run_target("first", runs_dir=tmp_path / "runs", parse_cache=cache) as target:
        assert not (target / "partial_parse.msgpack").exists()  # nothing to reuse: dbt parses everything
        (target / "partial_parse.msgpack").write_bytes(b"parse 1")
    with run_target("second", runs_dir=tmp_path / "runs", parse_cache=cache) as target:
        assert (target / "partial_parse.msgpack").read_bytes() == b"parse 1"
        (target / "partial_parse.msgpack").write_bytes(b"parse 2")
    assert cache.read_bytes() == b"parse 2"
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]
