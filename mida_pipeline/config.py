"""Settings from the environment, checked once, with errors that name the variable.

Only the variables an asset needs are required for it: a BSS-only deployment
needs no Mida key, and the reverse.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mida_pipeline.lake.storage import parse_lake_dir
from mida_pipeline.sources.project_keys import DESCRIPTION as PROJECT_KEY_RULE
from mida_pipeline.sources.project_keys import is_project_key
from mida_pipeline.stats import DEFAULT_TUNING

DEFAULT_START_DATE = "2024-01-01"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean; use true or false")


def parse_project_keys(value: str, name: str = "MIDA_PROJECT_KEYS") -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ConfigError(f"{name} is empty; set it to your comma-separated Mida project keys")
    for key in keys:
        if not is_project_key(key):
            shown = key.encode("unicode_escape").decode()[:40]
            raise ConfigError(
                f"{name} holds {shown!r}, which is not a project key "
                f"({PROJECT_KEY_RULE}); check the value copied from Mida"
            )
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{name} lists a project key twice; list each once")
    return keys


def parse_timezone(value: str, name: str = "MIDA_TIMEZONE") -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={value!r} is not an IANA time zone; use e.g. UTC or Europe/Berlin") from None


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a date; use YYYY-MM-DD") from None


# The segments `/result?breakdown_by=` documents.
BREAKDOWN_DIMENSIONS = (
    "device",
    "browser",
    "os",
    "country",
    "region",
    "city",
    "user_type",
    "ref_page",
    "landing_page",
    "utm_campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
)


def parse_breakdowns(value: str, name: str = "MIDA_BREAKDOWNS") -> tuple[str, ...]:
    dims = tuple(d.strip().lower() for d in value.split(",") if d.strip())
    unknown = [d for d in dims if d not in BREAKDOWN_DIMENSIONS]
    if unknown:
        raise ConfigError(
            f"{name} holds {unknown[0][:40]!r}, which Mida cannot break results down by; "
            f"use a comma-separated list of {', '.join(BREAKDOWN_DIMENSIONS)}, or leave it empty to turn segments off"
        )
    return tuple(dict.fromkeys(dims))


def _positive(env: Mapping[str, str], name: str, default: str, low: float, high: float, what: str) -> float:
    text = env.get(name, default).strip() or default
    try:
        value = float(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name}={text!r} must be {what} from {low:g} to {high:g}")
    return value


def automation_interval(env: Mapping[str, str]) -> int:
    """MIDA_AUTOMATION_INTERVAL_SECONDS: how often the daemon asks whether the models should follow new raw data."""
    return int(_positive(env, "MIDA_AUTOMATION_INTERVAL_SECONDS", "30", 1, 86400, "whole seconds"))


def _http_url(env: Mapping[str, str], name: str, secret: bool = False) -> str | None:
    """An http(s) address, or None when unset; a secret one is never repeated in the error."""
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.startswith(("https://", "http://")) or len(text) < 12:
        shown = "the value set" if secret else repr(text)
        raise ConfigError(f"{name}: {shown} is not an http(s) address; give the whole URL, starting with https://")
    return text


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline reads from the environment (secrets kept out of repr)."""

    mida_api_key: str | None = field(default=None, repr=False)
    project_keys: tuple[str, ...] = ()
    region: str = "us"
    api_base_url: str | None = None
    timezone: str = "UTC"
    start_date: date = date.fromisoformat(DEFAULT_START_DATE)
    bss_secret_key: str | None = field(default=None, repr=False)
    bss_sync_url: str | None = None
    bss_header: str = "x-mida-secret-key"
    bss_accept_unstated_period: bool = False
    refuse_late_capture: bool = False
    max_concurrency: int = 8
    http_timeout: float = 30.0
    lake_dir: Path | str = Path("data/lake")  # a folder, or an object-storage URL such as s3://bucket/prefix
    duckdb_path: Path = Path("data/warehouse.duckdb")
    report_dir: Path | None = None
    discover_projects: bool = False
    breakdowns: tuple[str, ...] = ("device",)
    sequential_tuning: float = DEFAULT_TUNING
    alert_webhook_url: str | None = field(default=None, repr=False)  # its address is its credential
    report_url: str | None = None
    automation_interval_seconds: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of this process's environment (the command line's; runs get theirs from resources)."""
        return cls.parse(os.environ if env is None else env)

    @classmethod
    def parse(cls, env: Mapping[str, str]) -> Settings:
        """Settings from variable names to values, each checked, with errors that name the variable."""
        region = env.get("MIDA_REGION", "us").strip().lower() or "us"
        if region not in {"us", "eu"}:
            raise ConfigError(f"MIDA_REGION={region!r} is not a region; use us or eu")
        tz = env.get("MIDA_TIMEZONE", "UTC").strip() or "UTC"
        parse_timezone(tz)
        keys = env.get("MIDA_PROJECT_KEYS", "")
        concurrency = env.get("MIDA_MAX_CONCURRENCY", "8").strip() or "8"
        if not concurrency.isdigit() or not 1 <= int(concurrency) <= 256:
            raise ConfigError(f"MIDA_MAX_CONCURRENCY={concurrency!r} must be a whole number from 1 to 256")
        timeout = env.get("MIDA_HTTP_TIMEOUT", "30").strip() or "30"
        try:
            http_timeout = float(timeout)
        except ValueError:
            http_timeout = -1.0
        if not 0.1 <= http_timeout <= 600:
            raise ConfigError(f"MIDA_HTTP_TIMEOUT={timeout!r} must be seconds from 0.1 to 600")
        return cls(
            mida_api_key=env.get("MIDA_API_KEY") or None,
            project_keys=parse_project_keys(keys) if keys.strip() else (),
            region=region,
            api_base_url=env.get("MIDA_API_BASE_URL") or None,
            timezone=tz,
            start_date=parse_date(env.get("MIDA_START_DATE", DEFAULT_START_DATE), "MIDA_START_DATE"),
            bss_secret_key=env.get("MIDA_BSS_SECRET_KEY") or None,
            bss_sync_url=env.get("MIDA_BSS_SYNC_URL") or None,
            bss_header=env.get("MIDA_BSS_HEADER", "x-mida-secret-key").strip() or "x-mida-secret-key",
            bss_accept_unstated_period=_bool(env, "MIDA_BSS_ACCEPT_UNSTATED_PERIOD"),
            refuse_late_capture=_bool(env, "MIDA_REFUSE_LATE_CAPTURE"),
            max_concurrency=int(concurrency),
            http_timeout=http_timeout,
            lake_dir=parse_lake_dir(env.get("MIDA_LAKE_DIR", "") or "data/lake"),
            duckdb_path=Path(env.get("MIDA_DUCKDB_PATH", "data/warehouse.duckdb")),
            report_dir=Path(env["MIDA_REPORT_DIR"].strip()) if env.get("MIDA_REPORT_DIR", "").strip() else None,
            discover_projects=_bool(env, "MIDA_DISCOVER_PROJECTS"),
            breakdowns=parse_breakdowns(env.get("MIDA_BREAKDOWNS", "device")),
            sequential_tuning=_positive(
                env, "MIDA_SEQUENTIAL_TUNING", f"{DEFAULT_TUNING:g}", 10, 1e9, "a two-arm sample size"
            ),
            alert_webhook_url=_http_url(env, "MIDA_ALERT_WEBHOOK_URL", secret=True),
            report_url=_http_url(env, "MIDA_REPORT_URL"),
            automation_interval_seconds=automation_interval(env),
        )

    def require_mida(self) -> None:
        if not self.mida_api_key:
            raise ConfigError("MIDA_API_KEY is not set; copy the key from Mida > Settings > API and export it")
        if not self.project_keys:
            raise ConfigError("MIDA_PROJECT_KEYS is not set; list your Mida project keys, comma-separated")

    def require_bss(self) -> None:
        if not self.bss_secret_key:
            raise ConfigError(
                "MIDA_BSS_SECRET_KEY is not set; copy the secret key from the MIDA Session Replay app's API settings"
            )
