"""Resources: the two API clients, the lake/warehouse and the statistics settings, configured from the environment.

Every setting is a resource field, so the UI shows it and a run can override it. A field whose variable is
set is an EnvVar: Dagster resolves it when a run starts and records the variable's name, never its value
(secrets stay out of run storage). Unset fields fall back to the documented defaults. `settings()` checks
them all with config.Settings, so a bad value stops the run with a message that names the variable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import PrivateAttr

from mida_pipeline.config import Settings
from mida_pipeline.extract.mida import discover_projects
from mida_pipeline.lake.catalog import has_partitions
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.lake.storage import parse_lake_dir, resolve
from mida_pipeline.lake.warehouse import Warehouse
from mida_pipeline.sources import AsyncMidaClient, BssClient
from mida_pipeline.sources.answers import RunAnswers
from mida_pipeline.sources.bss import DEFAULT_SYNC_URL


class _Configured(dg.ConfigurableResource):
    """A resource whose fields are environment variables: ENV maps each field to its variable."""

    ENV: ClassVar[dict[str, str]] = {}

    def settings(self) -> Settings:
        return Settings.parse(
            {var: getattr(self, name) for name, var in self.ENV.items() if getattr(self, name) is not None}
        )

    @classmethod
    def from_environment(cls, **required: str):
        """Each optional field as an EnvVar when its variable is set; `required` fields always (named when unset)."""
        fields = {name: dg.EnvVar(var) for name, var in cls.ENV.items() if os.environ.get(var, "").strip()}
        fields.update({name: dg.EnvVar(var) for name, var in required.items()})
        return cls(**fields)


class MidaApi(_Configured):
    """The Mida V2 API for the projects in MIDA_PROJECT_KEYS, or every active project of the company.

    A run's assets share one set of answers (sources/answers.py): the experiments listing, each experiment's goals and
    the company's projects are asked once a run, by whichever asset asks first. A run starts with none.
    """

    ENV: ClassVar[dict[str, str]] = {
        "api_key": "MIDA_API_KEY",
        "project_keys": "MIDA_PROJECT_KEYS",
        "region": "MIDA_REGION",
        "api_base_url": "MIDA_API_BASE_URL",
        "timezone": "MIDA_TIMEZONE",
        "max_concurrency": "MIDA_MAX_CONCURRENCY",
        "http_timeout": "MIDA_HTTP_TIMEOUT",
        "discover_projects": "MIDA_DISCOVER_PROJECTS",
        "breakdowns": "MIDA_BREAKDOWNS",
        "refuse_late_capture": "MIDA_REFUSE_LATE_CAPTURE",
    }

    api_key: str
    project_keys: str
    region: str | None = None
    api_base_url: str | None = None
    timezone: str | None = None
    max_concurrency: str | None = None
    http_timeout: str | None = None
    discover_projects: str | None = None
    breakdowns: str | None = None
    refuse_late_capture: str | None = None
    _answers: RunAnswers = PrivateAttr(default_factory=RunAnswers)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._answers = RunAnswers()

    def configured_projects(self) -> tuple[str, ...]:
        s = self.settings()
        s.require_mida()
        return s.project_keys

    def client(self) -> AsyncMidaClient:
        s = self.settings()
        return AsyncMidaClient(
            self.api_key,
            region=s.region,
            base_url=s.api_base_url,
            max_concurrency=s.max_concurrency,
            timeout=s.http_timeout,
            answers=self._answers,
        )

    async def projects(self, client: AsyncMidaClient) -> tuple[str, ...]:
        """The projects a run syncs: as configured, or (MIDA_DISCOVER_PROJECTS) every active project the first
        configured key can see, so a project added in Mida is synced from its first run on."""
        keys = self.configured_projects()
        if not self.settings().discover_projects:
            return keys
        return await discover_projects(client, keys[0])


class BssApi(_Configured):
    """The MIDA Session Replay analytics sync endpoint."""

    ENV: ClassVar[dict[str, str]] = {
        "secret_key": "MIDA_BSS_SECRET_KEY",
        "sync_url": "MIDA_BSS_SYNC_URL",
        "header": "MIDA_BSS_HEADER",
        "accept_unstated_period": "MIDA_BSS_ACCEPT_UNSTATED_PERIOD",
        "timezone": "MIDA_TIMEZONE",
        "http_timeout": "MIDA_HTTP_TIMEOUT",
    }

    secret_key: str
    sync_url: str | None = None
    header: str | None = None
    accept_unstated_period: str | None = None
    timezone: str | None = None
    http_timeout: str | None = None

    def client(self) -> BssClient:
        s = self.settings()
        return BssClient(
            self.secret_key,
            sync_url=s.bss_sync_url or DEFAULT_SYNC_URL,
            header_name=s.bss_header,
            timeout=s.http_timeout,
        )


class Lake(_Configured):
    """The Parquet lake (MIDA_LAKE_DIR) and the published warehouse (MIDA_DUCKDB_PATH)."""

    ENV: ClassVar[dict[str, str]] = {
        "location": "MIDA_LAKE_DIR",
        "duckdb_path": "MIDA_DUCKDB_PATH",
        "report_dir": "MIDA_REPORT_DIR",
        "sequential_tuning": "MIDA_SEQUENTIAL_TUNING",
    }

    location: str | None = None
    duckdb_path: str | None = None
    report_dir: str | None = None
    sequential_tuning: str | None = None

    @property
    def lake_dir(self) -> Path | str:
        """An absolute folder, or the object-storage URL as configured."""
        return resolve(parse_lake_dir(self.location) if self.location else self.settings().lake_dir)

    @property
    def published_path(self) -> Path:
        return self.settings().duckdb_path.resolve()

    def warehouse(self) -> Warehouse:
        return Warehouse(published_path=self.published_path, lake_dir=self.lake_dir)

    @contextlib.contextmanager
    def landing(self, tables: Iterable[str], log=None) -> Iterator[None]:
        """Around a raw write: publish the raw views when it gave a table its first partition.

        Views read the lake in place, so new partitions of a table show without a publish; only a table's first
        partition turns its view from an empty relation into the files. That happens once per table, so a sync
        publishes once (after its models) on every day but the first.
        """
        lake_dir = self.lake_dir
        empty = [TABLES[t] for t in tables if not has_partitions(TABLES[t], lake_dir)]
        try:
            yield
        finally:
            new = [t.name for t in empty if has_partitions(t, lake_dir)]
            if new:
                published = self.warehouse().refresh_and_publish()
                if log is not None:
                    log.info(f"published {published} (first partition of {', '.join(new)})")


class Alerts(_Configured):
    """Where the experiment alerts are posted (MIDA_ALERT_WEBHOOK_URL; unset: none are sent), and where the report
    they link to is served (MIDA_REPORT_URL; unset: they link the report's file)."""

    ENV: ClassVar[dict[str, str]] = {
        "webhook_url": "MIDA_ALERT_WEBHOOK_URL",
        "report_url": "MIDA_REPORT_URL",
        "http_timeout": "MIDA_HTTP_TIMEOUT",
    }

    webhook_url: str | None = None
    report_url: str | None = None
    http_timeout: str | None = None


def resources() -> dict[str, object]:
    return {
        "mida": MidaApi.from_environment(api_key="MIDA_API_KEY", project_keys="MIDA_PROJECT_KEYS"),
        "bss": BssApi.from_environment(secret_key="MIDA_BSS_SECRET_KEY"),
        "lake": Lake.from_environment(),
        "alerts": Alerts.from_environment(),
    }
