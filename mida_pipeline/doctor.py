"""`mida-pipeline doctor`: one line per check, with the fix for each failure.

Each API gets one cheap call (the first experiment of each project; the
latest closed day of store analytics), so doctor can run any time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
from rich.console import Console

from mida_pipeline import days as cal
from mida_pipeline.config import ConfigError, Settings

console = Console(highlight=False)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def _attempt(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:  # doctor reports every failure; it never stops at the first
        return Check(name, False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _writable(path: Path | str, what: str, variable: str) -> str:
    if isinstance(path, str):  # an object-storage lake
        from mida_pipeline.lake.storage import check_writable

        return check_writable(path)
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path):
        pass
    return f"{what} {path.resolve()} is writable"


def _mida(settings: Settings, project_key: str) -> str:
    from mida_pipeline.sources import MidaClient

    with MidaClient(settings.mida_api_key, region=settings.region, base_url=settings.api_base_url, page_size=1) as client:
        first = next(iter(client.list_experiments(project_key)), None)
    return f"project {project_key}: key accepted, " + ("experiments listed" if first else "no experiments yet")


def _bss(settings: Settings) -> str:
    from mida_pipeline.sources import BssClient
    from mida_pipeline.sources.bss import DEFAULT_SYNC_URL

    day = cal.latest_complete_day(settings.timezone)
    with BssClient(settings.bss_secret_key, sync_url=settings.bss_sync_url or DEFAULT_SYNC_URL, header_name=settings.bss_header) as client:
        client.sync("daily", day, day, is_latest=True, allow_unstated_period=True)
    return f"key accepted, analytics for {day} served"


def _warehouse(path: Path) -> str:
    if not path.exists():
        return f"{path} does not exist yet; the first sync creates it"
    with duckdb.connect(str(path), read_only=True) as con:
        views = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchone()[0]
    return f"{path} opens read-only ({views} raw views)"


def checks() -> list[Check]:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return [Check("settings", False, str(exc))]
    results = [Check("settings", True, f"region {settings.region}, day in {settings.timezone}")]
    if settings.mida_api_key and settings.project_keys:
        results += [_attempt(f"mida {pk}", lambda pk=pk: _mida(settings, pk)) for pk in settings.project_keys]
    else:
        missing = "MIDA_API_KEY" if not settings.mida_api_key else "MIDA_PROJECT_KEYS"
        results.append(Check("mida", False, f"{missing} is not set; set it to sync Mida (see .env.example)"))
    if settings.bss_secret_key:
        results.append(_attempt("bss", lambda: _bss(settings)))
    else:
        results.append(Check("bss", False, "MIDA_BSS_SECRET_KEY is not set; set it to sync store analytics (see .env.example)"))
    results.append(_attempt("lake", lambda: _writable(settings.lake_dir, "MIDA_LAKE_DIR", "MIDA_LAKE_DIR")))
    results.append(_attempt("warehouse dir", lambda: _writable(settings.duckdb_path.parent, "MIDA_DUCKDB_PATH's folder", "MIDA_DUCKDB_PATH")))
    results.append(_attempt("warehouse", lambda: _warehouse(settings.duckdb_path)))
    return results


def run_doctor() -> bool:
    results = checks()
    for check in results:
        mark = "[green]PASS[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.detail}")
    return all(c.passed for c in results)
