"""The code location loads, validates, and materializes a partition from Dagster's own command line."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mida_pipeline_tests.helpers import REPO


def test_definitions_load_and_validate():
    from mida_pipeline.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "mida_experiments",
        "mida_experiment_variants",
        "mida_experiment_results",
        "mida_goals",
        "mida_events",
        "bss_analytics_daily",
        "bss_analytics_weekly",
    } <= keys
    assert {s.name for s in defs.schedules} == {"daily_raw_schedule", "weekly_raw_schedule"}


def test_graph_snapshot_raw_assets_feed_staging_and_marts():
    from mida_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    children = lambda key: {k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(key)).child_keys}  # noqa: E731
    assert children("mida_experiment_results") == {"staging/stg_mida_experiment_results"}
    assert {"marts/fct_experiment_scorecard_daily", "marts/fct_experiment_variant_daily"} <= children(
        "staging/stg_mida_experiment_results"
    )
    # The scorecard is the latest day of its history.
    assert "marts/fct_experiment_scorecard" in children("marts/fct_experiment_scorecard_daily")
    assert children("bss_analytics_weekly") == {"staging/stg_bss_analytics_weekly"}
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"mida_raw", "bss_raw", "staging", "marts"} <= groups


@pytest.mark.slow
def test_dagster_cli_materializes_one_weekly_partition_across_a_year_boundary(pipeline_env):
    monday = "2025-12-29"  # the week runs to Sunday 4 January 2026
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "mida_pipeline.definitions",
            "--select",
            "bss_analytics_weekly",
            "--partition",
            monday,
        ],
        env=pipeline_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
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
    assert ("mida_experiment_results", "live_experiments_have_results") in checks
    # The raw tables' own dbt tests are checks of the raw assets (test_source_checks.py says where they run).
    assert {
        ("mida_experiment_results", "mida_experiment_results_key_unique"),
        ("mida_experiment_results", "results_counts_non_negative"),
        ("mida_experiment_results", "results_conversions_within_visitors"),
    } <= checks
    scorecard = {name for key, name in checks if key == "marts/fct_experiment_scorecard"}
    assert any(n.startswith("between_fct_experiment_scorecard_p_value") for n in scorecard), scorecard
    assert any(n.startswith("relationships_fct_experiment_scorecard_test_id") for n in scorecard), scorecard
    assert any(
        n.startswith("not_above_stg_mida_experiment_results_visitors__conversions")
        for key, n in checks
        if key == "staging/stg_mida_experiment_results"
    )


@pytest.fixture(scope="module")
def warehouse_columns(sandbox, tmp_path_factory) -> dict[str, dict[str, str]]:
    """Every column of every staging view and mart as DuckDB built them from a synced day: {model: {column: type}}."""
    from mida_pipeline_tests.helpers import run_cli, sandbox_env

    env = sandbox_env(sandbox, tmp_path_factory.mktemp("columns"))
    from mida_pipeline import days as cal

    run_cli(env, "sync", "--date", (cal.latest_complete_day("UTC") - timedelta(days=2)).isoformat())
    with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema IN ('staging', 'marts')"
        ).fetchall()
    models: dict[str, dict[str, str]] = {}
    for schema, table, column, type_ in rows:
        models.setdefault(f"{schema}/{table}", {})[column] = type_
    return models


@pytest.mark.slow
def test_every_staging_and_mart_column_has_a_type_and_a_description_in_the_ui(warehouse_columns):
    from mida_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    missing = []
    for model, columns in sorted(warehouse_columns.items()):
        schema = graph.get(dg.AssetKey.from_user_string(model)).metadata.get("dagster/column_schema")
        shown = {c.name: c for c in schema.columns} if schema else {}
        for name in columns:
            column = shown.get(name)
            gaps = (
                ([] if column else ["not documented"])
                + ([] if column and column.type not in ("", "?") else ["type"])
                + ([] if column and column.description.strip() else ["description"])
            )
            if gaps:
                missing.append(f"{model}.{name}: {', '.join(dict.fromkeys(gaps))}")
    assert not missing, f"{len(missing)} columns lack a type or description in the dbt YAML:\n" + "\n".join(missing)


# Dagster itself asks `file` for the interpreter's architecture when imported (its vendored croniter), and numpy sets
# and unsets a variable around loading OpenBLAS: both happen on `import dagster`, before the project's code runs.
IMPORT_PROBE = """
import json, os, sys
import dagster, numpy
before = dict(os.environ)
events = []
def hook(event, args):
    if event in ("subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn",
                 "os.putenv", "os.unsetenv"):
        events.append([event, repr(args)[:200]])
sys.addaudithook(hook)
import mida_pipeline.definitions
after = dict(os.environ)
print(json.dumps({"events": events, "changed": sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))}))
"""


def test_importing_the_code_location_starts_no_process_and_changes_no_environment_variable():
    # The manifest is prepared (the suite's session start), as the command line and `make install` do: the import only reads it.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"}
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]

    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"events": [], "changed": []}


def test_the_models_automation_looks_as_often_as_the_setting_says(monkeypatch):
    """MIDA_AUTOMATION_INTERVAL_SECONDS is part of the sensor's definition: read when the code location loads."""
    import importlib

    from mida_pipeline.defs import schedules

    try:
        monkeypatch.setenv("MIDA_AUTOMATION_INTERVAL_SECONDS", "7")
        assert importlib.reload(schedules).models_automation.minimum_interval_seconds == 7
        monkeypatch.delenv("MIDA_AUTOMATION_INTERVAL_SECONDS")
        assert importlib.reload(schedules).models_automation.minimum_interval_seconds == 30
    finally:
        monkeypatch.undo()
        importlib.reload(schedules)
