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


@pytest.mark.dagster
def test_a_missing_api_key_stops_the_run_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("MIDA_PROJECT_KEYS", "shop-a")
    with pytest.raises(dg.DagsterInvalidConfigError, match="MIDA_API_KEY"):
        materialize_goals()
    assert not (env / "lake").exists()


@pytest.mark.dagster
def test_a_malformed_project_key_stops_the_run_naming_the_variable(env, monkeypatch):
    monkeypatch.setenv("MIDA_API_KEY", "SENTINEL-secret-1")
    monkeypatch.setenv("MIDA_PROJECT_KEYS", "shop-a,has space")
    result = materialize_goals()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = (
        failure.step_failure_data.error.cause.message
        if failure.step_failure_data.error.cause
        else failure.step_failure_data.error.message
    )
    assert "MIDA_PROJECT_KEYS" in message and "SENTINEL" not in str(result.all_events)
    assert not list((env / "lake").rglob("*.parquet"))


def test_secrets_are_recorded_as_variable_names_not_values(env, monkeypatch):
    monkeypatch.setenv("MIDA_LAKE_DIR", str(env / "lake"))
    defs = resources()
    assert defs["mida"].api_key == "MIDA_API_KEY" and isinstance(defs["mida"].api_key, dg.EnvVar)
    assert isinstance(defs["bss"].secret_key, dg.EnvVar) and isinstance(defs["lake"].location, dg.EnvVar)


def test_every_setting_is_a_resource_field_the_ui_shows(env, monkeypatch):
    monkeypatch.setenv("MIDA_REGION", "eu")
    monkeypatch.setenv("MIDA_BREAKDOWNS", "device,country")
    defs = resources()
    assert defs["mida"].region == "MIDA_REGION" and isinstance(defs["mida"].region, dg.EnvVar)
    assert defs["mida"].breakdowns == "MIDA_BREAKDOWNS"
    assert defs["mida"].api_base_url == "MIDA_API_BASE_URL"  # set by the fixture
    assert defs["mida"].timezone is None  # unset: the documented default applies


def test_a_run_can_override_a_setting_and_the_client_follows_it():
    from mida_pipeline.defs.resources import MidaApi

    assert (
        MidaApi(api_key="k-123", project_keys="p", region="eu").client().http.core.base_url
        == "https://api-eu.mida.so/v2"
    )
    overridden = MidaApi(api_key="k-123", project_keys="p", region="eu", api_base_url="http://127.0.0.1:9/v2")
    assert overridden.client().http.core.base_url == "http://127.0.0.1:9/v2"
    assert MidaApi(api_key="k", project_keys="p", breakdowns="").settings().breakdowns == ()


def test_a_malformed_setting_names_its_variable():
    from mida_pipeline.config import ConfigError
    from mida_pipeline.defs.resources import MidaApi

    with pytest.raises(ConfigError, match="MIDA_BREAKDOWNS"):
        MidaApi(api_key="k", project_keys="p", breakdowns="planet").settings()
