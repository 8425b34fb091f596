"""Resources take their values from the environment; a missing or malformed one stops the run naming the variable."""

import dagster as dg
import pytest

from mida_pipeline.defs.mida_assets import mida_goals
from mida_pipeline.defs.resources import resources


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in ("MIDA_API_KEY", "MIDA_PROJECT_KEYS", "MIDA_BSS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIDA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("MIDA_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("MIDA_API_BASE_URL", "http://127.0.0.1:9/v2")  # nothing listens: no call may be needed
    return tmp_path


def materialize_goals():
    return dg.materialize([mida_goals], resources=resources(), partition_key="2026-01-01", raise_on_error=False)


def test_a_missing_api_key_stops_the_run_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("MIDA_PROJECT_KEYS", "shop-a")
    with pytest.raises(dg.DagsterInvalidConfigError, match="MIDA_API_KEY"):
        materialize_goals()
    assert not (env / "lake").exists()


def test_a_malformed_project_key_stops_the_run_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("MIDA_API_KEY", "SENTINEL-secret-1")
    monkeypatch.setenv("MIDA_PROJECT_KEYS", "shop-a,has space")
    result = materialize_goals()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.error.cause.message if failure.step_failure_data.error.cause else failure.step_failure_data.error.message
    assert "MIDA_PROJECT_KEYS" in message and "SENTINEL" not in str(result.all_events)
    assert not list((env / "lake").rglob("*.parquet"))


def test_secrets_are_recorded_as_variable_names_not_values(env, monkeypatch):
    monkeypatch.setenv("MIDA_LAKE_DIR", str(env / "lake"))
    defs = resources()
    assert defs["mida"].api_key == "MIDA_API_KEY" and isinstance(defs["mida"].api_key, dg.EnvVar)
    assert isinstance(defs["bss"].secret_key, dg.EnvVar) and isinstance(defs["lake"].location, dg.EnvVar)
