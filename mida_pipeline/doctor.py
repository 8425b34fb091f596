"""`mida-pipeline doctor`: one line per check, with the fix for each failure.

It checks every setting on its own (so one bad value does not hide the
others), then each API with one cheap call (the first page of one experiment
per project; the latest closed day of store analytics), then the folders the
pipeline writes. It reads nothing it does not need and never prints a secret.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Console
from rich.markup import escape

from mida_pipeline import days as cal
from mida_pipeline.config import ConfigError, Settings
from mida_pipeline.report.build import report_dir
from mida_pipeline.sources.errors import AuthError, NotFoundError

# A check should answer in seconds: one retry, short waits.
TIMEOUT = 15.0
SECRETS = ("MIDA_API_KEY", "MIDA_BSS_SECRET_KEY")
# Every variable the pipeline reads, with the default it falls back to.
VARIABLES = {
    "MIDA_API_KEY": None,
    "MIDA_PROJECT_KEYS": None,
    "MIDA_REGION": "us",
    "MIDA_API_BASE_URL": None,
    "MIDA_TIMEZONE": "UTC",
    "MIDA_START_DATE": "2024-01-01",
    "MIDA_MAX_CONCURRENCY": "8",
    "MIDA_HTTP_TIMEOUT": "30",
    "MIDA_REFUSE_LATE_CAPTURE": "false",
    "MIDA_BSS_SECRET_KEY": None,
    "MIDA_BSS_SYNC_URL": None,
    "MIDA_BSS_HEADER": "x-mida-secret-key",
    "MIDA_BSS_ACCEPT_UNSTATED_PERIOD": "false",
    "MIDA_LAKE_DIR": "data/lake",
    "MIDA_DUCKDB_PATH": "data/warehouse.duckdb",
    "MIDA_REPORT_DIR": "a report folder beside the warehouse",
}
URLS = ("MIDA_API_BASE_URL", "MIDA_BSS_SYNC_URL")


@dataclass
class Check:
    name: str
    passed: bool | None  # None: skipped because a check it needs failed
    detail: str


def _attempt(name: str, fn: Callable[[], str], explain: Callable[[Exception], str | None] = lambda exc: None) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:  # doctor reports every failure; it never stops at the first
        text = explain(exc) or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return Check(name, False, text)


def setting_checks(env: Mapping[str, str]) -> list[Check]:
    """Each variable alone: its value (secrets only by length) or what is wrong with it and the fix."""
    results = []
    for name, default in VARIABLES.items():
        value = env.get(name, "")
        if not value.strip():
            results.append(Check(name, True, "not set" + (f" (default {default})" if default else "")))
            continue
        try:
            Settings.from_env({name: value})
            if name in URLS and not value.strip().lower().startswith(("http://", "https://")):
                raise ConfigError(f"{name}={value!r} is not an http(s) URL; use the full address, e.g. https://…")
        except ConfigError as exc:
            results.append(Check(name, False, str(exc)))
            continue
        shown = f"set ({len(value.strip())} characters)" if name in SECRETS else value
        results.append(Check(name, True, shown))
    return results


def _mida_auth(exc: Exception, settings: Settings) -> str | None:
    if isinstance(exc, AuthError):
        return (
            f"MIDA_API_KEY is wrong: the Mida API answered {exc.status} for it in region {settings.region}; copy the key "
            "again from Mida > Settings > API, and set MIDA_REGION to the region of your Mida account"
        )
    return None


async def _first_experiment(settings: Settings, project_key: str):
    from mida_pipeline.sources import AsyncMidaClient
    from mida_pipeline.sources.transport import RetryPolicy

    async with AsyncMidaClient(
        settings.mida_api_key,
        region=settings.region,
        base_url=settings.api_base_url,
        page_size=1,
        timeout=TIMEOUT,
        retry=RetryPolicy(attempts=2, server_error_attempts=1),
    ) as client:
        async with aclosing(client.list_experiments(project_key)) as experiments:
            return await anext(experiments, None)


def _mida(settings: Settings, project_key: str) -> str:
    first = asyncio.run(_first_experiment(settings, project_key))
    return f"key accepted for project {project_key}, " + ("experiments listed" if first else "no experiments yet")


async def _discovered(settings: Settings) -> tuple[int, int]:
    from mida_pipeline.extract.mida import list_company_projects
    from mida_pipeline.sources import AsyncMidaClient
    from mida_pipeline.sources.transport import RetryPolicy

    async with AsyncMidaClient(
        settings.mida_api_key,
        region=settings.region,
        base_url=settings.api_base_url,
        timeout=TIMEOUT,
        retry=RetryPolicy(attempts=2, server_error_attempts=1),
    ) as client:
        projects = await list_company_projects(client, settings.project_keys[0])
    return sum(p.is_active for p in projects), len(projects)


def _discovery(settings: Settings) -> str:
    active, listed = asyncio.run(_discovered(settings))
    return (
        f"{active} active project(s) of {listed} in the company, listed through {settings.project_keys[0]}; "
        "each sync covers the active ones"
    )


def _discovery_refused(exc: Exception, settings: Settings) -> str | None:
    if isinstance(exc, AuthError) and exc.status == 403:
        return (
            f"Mida refused to list the company's projects through {settings.project_keys[0]} (403: that project is "
            "paused); put an active project's key first in MIDA_PROJECT_KEYS"
        )
    return _mida_auth(exc, settings)


def mida_checks(settings: Settings) -> list[Check]:
    if settings.discover_projects:
        check = _attempt(
            "Mida project discovery", lambda: _discovery(settings), lambda exc: _discovery_refused(exc, settings)
        )
        if not check.passed:
            return [check]
        results = [check]
    else:
        results = []
    for key in settings.project_keys:

        def explain(exc, key=key):
            if isinstance(exc, NotFoundError):
                return (
                    f"project {key} is unknown to this API key ({exc.status}); check MIDA_PROJECT_KEYS against "
                    "the project keys in Mida, and that the key belongs to the same account"
                )
            return _mida_auth(exc, settings)

        check = _attempt(f"Mida API {key}", lambda key=key: _mida(settings, key), explain)
        results.append(check)
        if not check.passed and "is unknown to this API key" not in check.detail:
            break  # a refused key or an unreachable API fails every other project the same way
    return results


def _bss(settings: Settings) -> str:
    from mida_pipeline.sources import BssClient
    from mida_pipeline.sources.bss import DEFAULT_SYNC_URL
    from mida_pipeline.sources.transport import RetryPolicy

    day = cal.latest_complete_day(settings.timezone)

    async def latest_day() -> None:
        async with BssClient(
            settings.bss_secret_key,
            sync_url=settings.bss_sync_url or DEFAULT_SYNC_URL,
            header_name=settings.bss_header,
            timeout=TIMEOUT,
            retry=RetryPolicy(attempts=2, server_error_attempts=1),
        ) as client:
            await client.sync("daily", day, day, is_latest=True, allow_unstated_period=True)

    asyncio.run(latest_day())
    return f"key accepted, analytics for {day} served"


def _bss_auth(exc: Exception, settings: Settings) -> str | None:
    if isinstance(exc, AuthError):
        return (
            f"MIDA_BSS_SECRET_KEY is wrong: the analytics sync endpoint answered {exc.status} for it; copy the secret key "
            f"again from the MIDA Session Replay app's API settings (it is sent in the {settings.bss_header} header, "
            "set by MIDA_BSS_HEADER)"
        )
    return None


def _writable(path: Path | str, variable: str) -> str:
    if isinstance(path, str):  # an object-storage lake
        from mida_pipeline.lake.storage import check_writable

        return check_writable(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OSError(
            f"{path.resolve()} is not writable ({exc.strerror}); point {variable} at a folder you can write"
        ) from None
    return f"{path.resolve()} is writable"


def _warehouse(path: Path) -> str:
    if not path.exists():
        return f"{path} does not exist yet; the first sync creates it"
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            views = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchone()[
                0
            ]
    except duckdb.Error as exc:
        raise OSError(
            f"{path} does not open as a DuckDB file ({str(exc).splitlines()[0]}); point MIDA_DUCKDB_PATH "
            "at the warehouse, or move the file away so the next sync creates it"
        ) from None
    return f"{path} opens read-only ({views} raw views)"


def _names(variables: set[str]) -> str:
    names = sorted(variables)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def checks(env: Mapping[str, str] | None = None) -> list[Check]:
    env = os.environ if env is None else env
    results = setting_checks(env)
    bad = {c.name for c in results if not c.passed}
    # Go on with the good settings, so one typo does not hide every other problem.
    settings = Settings.from_env({k: v for k, v in env.items() if k not in bad})
    if bad & {"MIDA_REGION", "MIDA_API_BASE_URL", "MIDA_PROJECT_KEYS", "MIDA_API_KEY"}:
        results.append(
            Check("Mida API", None, f"not called until {_names(bad)} {'is' if len(bad) == 1 else 'are'} fixed")
        )
    elif settings.mida_api_key and settings.project_keys:
        results += mida_checks(settings)
    elif settings.mida_api_key or settings.project_keys:
        missing = "MIDA_PROJECT_KEYS" if settings.mida_api_key else "MIDA_API_KEY"
        results.append(Check("Mida API", False, f"{missing} is not set; set it too to sync Mida (see .env.example)"))
    if bad & {"MIDA_BSS_SECRET_KEY", "MIDA_BSS_SYNC_URL", "MIDA_BSS_HEADER", "MIDA_TIMEZONE"}:
        results.append(
            Check("BSS analytics API", None, f"not called until {_names(bad)} {'is' if len(bad) == 1 else 'are'} fixed")
        )
    elif settings.bss_secret_key:
        results.append(_attempt("BSS analytics API", lambda: _bss(settings), lambda exc: _bss_auth(exc, settings)))
    if not any(env.get(v, "").strip() for v in ("MIDA_API_KEY", "MIDA_PROJECT_KEYS", "MIDA_BSS_SECRET_KEY")):
        results.append(
            Check(
                "sources",
                False,
                "no source is configured; set MIDA_API_KEY and MIDA_PROJECT_KEYS, "
                "or MIDA_BSS_SECRET_KEY (see .env.example)",
            )
        )
    results.append(_attempt("lake", lambda: _writable(settings.lake_dir, "MIDA_LAKE_DIR")))
    results.append(_attempt("warehouse folder", lambda: _writable(settings.duckdb_path.parent, "MIDA_DUCKDB_PATH")))
    results.append(_attempt("warehouse", lambda: _warehouse(settings.duckdb_path)))
    results.append(_attempt("report folder", lambda: _writable(report_dir(settings), "MIDA_REPORT_DIR")))
    return results


def run_doctor(console: Console | None = None) -> bool:
    console = console or Console(highlight=False, soft_wrap=True)
    results = checks()
    marks = {True: "[green]PASS[/]", False: "[red]FAIL[/]", None: "[yellow]SKIP[/]"}
    for check in results:
        console.print(f"{marks[check.passed]} {check.name}: {escape(check.detail)}")
    failed = sum(1 for c in results if c.passed is not True)
    console.print(
        f"{len(results) - failed} of {len(results)} checks passed"
        + ("" if not failed else "; fix the lines above and run doctor again")
    )
    return failed == 0
