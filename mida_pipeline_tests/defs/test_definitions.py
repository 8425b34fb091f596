"""The code location loads, validates, and materializes a partition from Dagster's own command line."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mida_pipeline_tests.conftest import REPO


def test_definitions_load_and_validate():
    from mida_pipeline.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "mida_experiments", "mida_experiment_variants", "mida_experiment_results", "mida_goals",
        "mida_events", "bss_analytics_daily", "bss_analytics_weekly",
    } <= keys
    assert {s.name for s in defs.schedules} == {"daily_raw_schedule", "weekly_raw_schedule"}


def test_graph_snapshot_raw_assets_feed_staging_and_marts():
    from mida_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    children = lambda key: {k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(key)).child_keys}  # noqa: E731
    assert children("mida_experiment_results") == {"staging/stg_mida_experiment_results"}
    assert {"marts/fct_experiment_scorecard", "marts/fct_experiment_variant_daily"} <= children("staging/stg_mida_experiment_results")
    assert children("bss_analytics_weekly") == {"staging/stg_bss_analytics_weekly"}
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"mida_raw", "bss_raw", "staging", "marts"} <= groups


@pytest.mark.slow
def test_dagster_cli_materializes_one_weekly_partition_across_a_year_boundary(pipeline_env):
    monday = "2025-12-29"  # the week runs to Sunday 4 January 2026
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mida_pipeline.definitions", "--select", "bss_analytics_weekly",
         "--partition", monday],
        env=pipeline_env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = list(Path(pipeline_env["MIDA_LAKE_DIR"]).glob("bss_analytics_weekly/*/part.parquet"))
    assert [p.parent.name for p in written] == [f"date={monday}"]
    with duckdb.connect(pipeline_env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        assert con.execute("SELECT date, period_start, period_end FROM raw.bss_analytics_weekly").fetchall() == [
            (date(2025, 12, 29), date(2025, 12, 29), date(2026, 1, 4))
        ]


def test_raw_checks_and_dbt_tests_show_as_asset_checks():
    from mida_pipeline.definitions import defs

    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for name in ("mida_experiment_results_key_unique", "results_counts_non_negative",
                 "results_conversions_within_visitors", "live_experiments_have_results"):
        assert ("mida_experiment_results", name) in checks
    scorecard = {name for key, name in checks if key == "marts/fct_experiment_scorecard"}
    assert any(n.startswith("between_fct_experiment_scorecard_p_value") for n in scorecard), scorecard
    assert any(n.startswith("relationships_fct_experiment_scorecard_test_id") for n in scorecard), scorecard
    assert any(n.startswith("not_above_stg_mida_experiment_results_visitors__conversions")
               for key, n in checks if key == "staging/stg_mida_experiment_results")
