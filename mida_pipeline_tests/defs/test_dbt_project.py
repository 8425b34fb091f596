"""What the dbt manifest says the publish needs: the models that grow by the day, and the days a build replaced."""

import json
from datetime import date

from mida_pipeline.defs.dbt_project import changed_from, growing_tables, prepare_manifest


def test_the_tables_that_grow_by_the_day_are_the_incremental_models_keyed_by_a_day():
    growing = growing_tables(json.loads(prepare_manifest().read_text()))
    assert growing == {
        ("marts", "fct_experiment_variant_daily"): ("date", 0),
        ("marts", "fct_experiment_scorecard_daily"): ("as_of_date", 0),
        ("marts", "fct_store_traffic_daily"): ("date", 0),
        ("marts", "fct_store_traffic_weekly"): ("week_start", 6),  # keyed by its Monday, synced with its Sunday
        ("staging", "stg_mida_experiments"): ("snapshot_date", 0),
        ("staging", "stg_mida_project_configuration"): ("config_date", 0),
        ("staging", "stg_mida_projects"): ("snapshot_date", 0),
    }
    # The latest scorecards are incremental by experiment: published whole, as tables.
    assert ("marts", "fct_experiment_scorecard") not in growing


def test_a_build_that_names_its_days_replaced_them_and_a_week_back_for_the_weekly_table():
    growing = {("marts", "daily"): ("date", 0), ("marts", "weekly"): ("week_start", 6)}
    assert changed_from(growing, {"sync_start": "2026-03-05", "sync_end": "2026-03-06"}) == {
        ("marts", "daily"): date(2026, 3, 5),
        ("marts", "weekly"): date(2026, 2, 27),
    }
    assert changed_from(growing, {"mida_build_path": "x"}) is None  # a full rebuild: every day
