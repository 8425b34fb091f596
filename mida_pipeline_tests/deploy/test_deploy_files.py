"""deploy/: every YAML file parses, and the instance configs pass Dagster's own validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def validated_instance_config(home: Path) -> dict:
    """The instance config in `home`/dagster.yaml, as Dagster validates it (defaults filled in); raises when invalid.

    Dagster has no public function that validates an instance's config without building the instance, and
    `DagsterInstance.from_config` builds its storage, which here connects to PostgreSQL. So this one call reaches
    into Dagster's internals: the function `DagsterInstance.from_config` itself validates with.
    """
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(home))
    return config


@pytest.mark.parametrize("name", sorted(p.name for p in DEPLOY.glob("*.yaml")))
def test_every_yaml_file_parses(name):
    assert isinstance(yaml.safe_load((DEPLOY / name).read_text()), dict)


@pytest.mark.parametrize("parts", [["dagster.yaml"], ["dagster.yaml", "dagster.docker.yaml"]], ids=["shared", "docker"])
def test_the_instance_config_is_valid_for_dagster(tmp_path, parts):
    # The Dockerfile builds the Docker instance's file by appending dagster.docker.yaml to dagster.yaml.
    (tmp_path / "dagster.yaml").write_text("\n".join((DEPLOY / p).read_text() for p in parts))
    config = validated_instance_config(tmp_path)
    assert "postgres" in config["storage"]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["max_concurrent_runs"] > 0
    if "dagster.docker.yaml" in parts:
        assert config["run_launcher"]["class"] == "DockerRunLauncher"


def test_the_docker_launcher_forwards_only_variables_the_daemon_always_has():
    # Dagster refuses to launch a run when a forwarded variable is unset in the daemon's environment,
    # which is .env (from .env.example) plus docker-compose.yaml's own `environment`.
    launcher = yaml.safe_load((DEPLOY / "dagster.docker.yaml").read_text())["run_launcher"]["config"]
    env_file = {
        line.split("=")[0]
        for line in (DEPLOY.parent / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    compose = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())["services"]["daemon"]["environment"]
    assert set(launcher["env_vars"]) <= env_file | set(compose)
    assert {"MIDA_API_KEY", "MIDA_PROJECT_KEYS", "MIDA_BSS_SECRET_KEY", "MIDA_LAKE_DIR", "MIDA_DUCKDB_PATH"} <= set(
        launcher["env_vars"]
    )
