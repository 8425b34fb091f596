"""Resources: the two API clients and the lake/warehouse, configured from the environment.

Secrets are EnvVars, so Dagster stores the variable's name in run storage,
never its value. The other settings are read when a run starts, so a bad value
stops that run with a message that names the variable.
"""

import os
from pathlib import Path
from typing import Optional

import dagster as dg

from mida_pipeline.config import Settings, parse_project_keys
from mida_pipeline.lake.storage import parse_lake_dir, resolve
from mida_pipeline.lake.warehouse import Warehouse
from mida_pipeline.sources import AsyncMidaClient, BssClient
from mida_pipeline.sources.bss import DEFAULT_SYNC_URL


class MidaApi(dg.ConfigurableResource):
    """The Mida V2 API for the projects in MIDA_PROJECT_KEYS."""

    api_key: str
    project_keys: str

    def projects(self) -> tuple[str, ...]:
        return parse_project_keys(self.project_keys)

    def client(self) -> AsyncMidaClient:
        s = Settings.from_env()
        return AsyncMidaClient(self.api_key, region=s.region, base_url=s.api_base_url, max_concurrency=s.max_concurrency,
                               timeout=s.http_timeout)


class BssApi(dg.ConfigurableResource):
    """The MIDA Session Replay analytics sync endpoint."""

    secret_key: str

    def client(self) -> BssClient:
        s = Settings.from_env()
        return BssClient(self.secret_key, sync_url=s.bss_sync_url or DEFAULT_SYNC_URL, header_name=s.bss_header,
                         timeout=s.http_timeout)


class Lake(dg.ConfigurableResource):
    """The Parquet lake (MIDA_LAKE_DIR) and the published warehouse (MIDA_DUCKDB_PATH).

    Unset fields are read from the environment when a run starts, so the
    documented defaults apply and a process that changes its environment after
    loading the definitions still writes where the variables say.
    """

    location: Optional[str] = None
    duckdb_path: Optional[str] = None

    def settings(self) -> Settings:
        return Settings.from_env()

    @property
    def lake_dir(self) -> Path | str:
        """An absolute folder, or the object-storage URL as configured."""
        return resolve(parse_lake_dir(self.location) if self.location else self.settings().lake_dir)

    def warehouse(self) -> Warehouse:
        published = Path(self.duckdb_path) if self.duckdb_path else self.settings().duckdb_path
        return Warehouse(published_path=published.resolve(), lake_dir=self.lake_dir)


def _env(name: str) -> dg.EnvVar | None:
    """The variable when it is set: Dagster resolves it when a run starts and records its name, not its value."""
    return dg.EnvVar(name) if os.environ.get(name, "").strip() else None


def resources() -> dict[str, object]:
    return {
        "mida": MidaApi(api_key=dg.EnvVar("MIDA_API_KEY"), project_keys=dg.EnvVar("MIDA_PROJECT_KEYS")),
        "bss": BssApi(secret_key=dg.EnvVar("MIDA_BSS_SECRET_KEY")),
        "lake": Lake(location=_env("MIDA_LAKE_DIR"), duckdb_path=_env("MIDA_DUCKDB_PATH")),
    }
