"""Settings come from the environment; every bad value is named with its fix."""

from pathlib import Path

import pytest

from mida_pipeline.config import ConfigError, Settings


def test_defaults():
    s = Settings.from_env({})
    assert (s.region, s.timezone, s.lake_dir, s.duckdb_path) == (
        "us",
        "UTC",
        Path("data/lake"),
        Path("data/warehouse.duckdb"),
    )
    assert s.project_keys == () and s.mida_api_key is None
    assert s.automation_interval_seconds == 30


def test_project_keys_are_split_and_trimmed():
    assert Settings.from_env({"MIDA_PROJECT_KEYS": " a-1, b_2 ,c.3"}).project_keys == ("a-1", "b_2", "c.3")


@pytest.mark.parametrize("bad", ["../etc", "a/b", "has space", "quote'd", "tab\tkey", "ünï", "a..b", "x" * 129])
def test_strange_project_keys_are_refused_by_name(bad):
    with pytest.raises(ConfigError, match="MIDA_PROJECT_KEYS"):
        Settings.from_env({"MIDA_PROJECT_KEYS": bad})


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"MIDA_REGION": "asia"}, "MIDA_REGION"),
        ({"MIDA_TIMEZONE": "Mars/Olympus"}, "MIDA_TIMEZONE"),
        ({"MIDA_START_DATE": "2026-13-01"}, "MIDA_START_DATE"),
        ({"MIDA_MAX_CONCURRENCY": "0"}, "MIDA_MAX_CONCURRENCY"),
        ({"MIDA_REFUSE_LATE_CAPTURE": "maybe"}, "MIDA_REFUSE_LATE_CAPTURE"),
        ({"MIDA_AUTOMATION_INTERVAL_SECONDS": "0"}, "MIDA_AUTOMATION_INTERVAL_SECONDS"),
        ({"MIDA_AUTOMATION_INTERVAL_SECONDS": "soon"}, "MIDA_AUTOMATION_INTERVAL_SECONDS"),
    ],
)
def test_malformed_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_secrets_stay_out_of_repr():
    s = Settings.from_env({"MIDA_API_KEY": "SENTINEL-KEY-1", "MIDA_BSS_SECRET_KEY": "SENTINEL-KEY-2"})
    assert "SENTINEL" not in repr(s)


def test_missing_credentials_name_the_variable():
    with pytest.raises(ConfigError, match="MIDA_API_KEY"):
        Settings.from_env({"MIDA_PROJECT_KEYS": "a"}).require_mida()
    with pytest.raises(ConfigError, match="MIDA_BSS_SECRET_KEY"):
        Settings.from_env({}).require_bss()
