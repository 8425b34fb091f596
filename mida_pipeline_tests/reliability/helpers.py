"""The reliability suite's plain helpers: sentinel keys, real `mida-pipeline` processes, the query-aware fault
book of its sandbox, and the yardsticks every test measures against (a fault-free run's rows and marts, and byte
fingerprints).

Every process started through here is registered in ARTIFACTS, so the secrets test can search all it left behind.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from mida_pipeline import days as cal
from mida_pipeline.lake.writer import LAYOUTS_DIR
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.faults import FaultBook
from mida_pipeline.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("mida-pipeline")
# Distinctive values: any occurrence anywhere is a leak, never a coincidence.
SENTINEL_KEY = "SENTINEL-mida-key-7f3a9c2e"
SENTINEL_BSS = "SENTINEL-bss-secret-41d2e8b0"
# The suite's sandbox: three active projects of two experiments (and one paused), so every endpoint is called for
# every project, and little else.
SANDBOX = SandboxConfig(seed=5, projects=3, experiments_per_project=2)
# The last closed Sunday: its sync runs the daily and the weekly jobs, so every endpoint is called.
DAY: date = cal.latest_complete_week("UTC") + timedelta(days=6)
HTTP_TIMEOUT = 2.0  # short, so a read-timeout fault costs seconds, not minutes


@dataclass
class Artifacts:
    """Everything the suite's processes wrote or printed, and which of its tests have ended, for the secrets search.

    Kept in a folder all xdist workers of one run share (conftest sets it), so the search, in whichever worker runs
    it, reads what every worker's runs left, once every other test of the suite has ended.
    """

    folder: Path | None = None

    def _at(self, name: str) -> Path:
        assert self.folder is not None, "the reliability conftest sets ARTIFACTS.folder before any run"
        (self.folder / name).mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def add_dir(self, root: Path) -> None:
        (self._at("dirs") / uuid.uuid4().hex).write_text(str(root))

    def add_texts(self, *texts: str) -> None:
        for text in texts:
            (self._at("texts") / uuid.uuid4().hex).write_text(text)

    @property
    def dirs(self) -> list[Path]:
        return [Path(f.read_text()) for f in sorted(self._at("dirs").iterdir())]

    @property
    def texts(self) -> list[str]:
        return [f.read_text() for f in sorted(self._at("texts").iterdir())]

    def ended(self, nodeid: str) -> None:
        (self._at("ended") / hashlib.sha256(nodeid.encode()).hexdigest()).touch()

    def not_ended(self, nodeids: list[str]) -> list[str]:
        done = {f.name for f in self._at("ended").iterdir()}
        return [n for n in nodeids if hashlib.sha256(n.encode()).hexdigest() not in done]


ARTIFACTS = Artifacts()


# The query string of the request being answered, for the fault book below.
_QUERY: contextvars.ContextVar[str] = contextvars.ContextVar("query", default="")


# Every request the suite's sandbox answered, with its query (the sandbox's own log holds method and path).
REQUESTS_WITH_QUERY: list[tuple[str, str, str]] = []


class KeepQuery:
    """ASGI: notes each request's query string before the sandbox picks the fault for its path."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        query = scope.get("query_string", b"").decode("latin-1") if scope["type"] == "http" else ""
        if scope["type"] == "http":
            REQUESTS_WITH_QUERY.append((scope["method"], scope["path"], query))
        token = _QUERY.set(query)
        try:
            await self.app(scope, receive, send)
        finally:
            _QUERY.reset(token)


class QueryFaultBook(FaultBook):
    """The sandbox's fault book, where a route holding `?` also matches the query string.

    One path serves a goal's result, a secondary goal's (`goal_key=`) and a breakdown (`breakdown_by=`), so a
    fault meant for one of those calls names its query: `.../result?*goal_key=*`. A route without `?` matches
    the path alone, whatever the query, exactly as the sandbox's own book does.
    """

    def add(self, route: str, kind: str, times: int | None = None, **params):
        return super().add(route if "?" in route else f"{route}[?]*", kind, times, **params)

    def take(self, path: str, kind: str | None = None):
        return super().take(f"{path}?{_QUERY.get()}", kind)


def make_env(sandbox: SandboxServer, root: Path, **overrides: str) -> dict[str, str]:
    """The environment of a pipeline process that syncs the sandbox into `root`."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.add_dir(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIDA_", "DAGSTER_"))}
    env.update(
        MIDA_API_KEY=SENTINEL_KEY,
        MIDA_PROJECT_KEYS=",".join(sandbox.data.project_keys),
        MIDA_API_BASE_URL=sandbox.mida_base_url,
        MIDA_BSS_SECRET_KEY=SENTINEL_BSS,
        MIDA_BSS_SYNC_URL=sandbox.bss_sync_url,
        MIDA_LAKE_DIR=str(root / "lake"),
        MIDA_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        MIDA_START_DATE="2025-01-01",
        MIDA_HTTP_TIMEOUT=str(HTTP_TIMEOUT),
        DAGSTER_HOME=str(home),
    )
    env.update(overrides)
    return env


def start_cli(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CLI), *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    ARTIFACTS.add_texts(out, err)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`mida-pipeline ARGS` in its own process, as a user (or the scheduler) runs it."""
    done = finish(start_cli(env, *args))
    if check and done.returncode != 0:
        raise AssertionError(
            f"mida-pipeline {' '.join(args)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return done


def sync(env: dict[str, str], day: date = DAY, check: bool = True) -> subprocess.CompletedProcess:
    return run_cli(env, "sync", "--date", day.isoformat(), check=check)


# --- yardsticks -----------------------------------------------------------------------------------------


def lake_rows(lake_dir: Path) -> dict[str, list[tuple]]:
    """Every lake table's rows, sorted, without the capture time (the one column two runs may differ in)."""
    out = {}
    with duckdb.connect() as con:
        for table in sorted(p for p in Path(lake_dir).iterdir() if p.is_dir()):
            files = sorted(str(f) for f in table.rglob("*.parquet"))
            if files:
                out[table.name] = con.execute(
                    f"SELECT * EXCLUDE (captured_at) FROM read_parquet({files!r}, hive_partitioning = false, union_by_name = true) "
                    "ORDER BY ALL"
                ).fetchall()
    return out


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table dbt built in the published warehouse (those that grow by the day are views over their published
    files), sorted, capture times (`captured_at`, `source_captured_at`) left out."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Over the generation of whichever warehouse this one was copied from, too (Baseline.copy_to).
        facts = con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE regexp_matches(sql, '[.]facts/g[0-9]{20}-')"
        ).fetchall()
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY ALL"
        ).fetchall()
        tables = sorted([*tables, *facts])
        for schema, name in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
                if not c.endswith("captured_at")
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'SELECT {select} FROM "{schema}"."{name}" ORDER BY ALL').fetchall()
            out[f"{schema}.{name}"] = [dict(zip(cols, row, strict=True)) for row in rows]
    return out


def differences(got: dict[str, list[dict]], want: dict[str, list[dict]], most: int = 12) -> list[str]:
    """What differs between two `marts()` results, a line per table, row and column: none when equal."""
    out = [f"{t}: missing" for t in want if t not in got] + [f"{t}: unexpected" for t in got if t not in want]
    for table in (t for t in want if t in got):
        if len(got[table]) != len(want[table]):
            out.append(f"{table}: {len(got[table])} rows, want {len(want[table])}")
        for i, (g, w) in enumerate(zip(got[table], want[table], strict=False)):
            out += [f"{table} row {i} {c}: {g.get(c)!r}, want {w[c]!r}" for c in w if g.get(c) != w[c]]
    return out[:most]


def fingerprint(*roots: Path) -> dict[str, str]:
    """sha256 of every file under the roots (or of the root file itself): byte identity, not just equal rows."""
    out = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def assert_lake_sound(lake_dir: Path) -> None:
    """Every Parquet file reads whole; a partition folder holds `part.parquet` or nothing a reader sees yet
    (a temporary left by a kill is hidden: a dot name that does not end in .parquet)."""
    import pyarrow.parquet as pq

    for folder in {f.parent for f in Path(lake_dir).rglob("*") if f.is_file() and f.parent.name != LAYOUTS_DIR}:
        names = sorted(f.name for f in folder.iterdir())
        visible = [n for n in names if n.endswith(".parquet")]
        assert visible in ([], ["part.parquet"]), f"{folder}: {names}"
        assert all(n == "part.parquet" or (n.startswith(".") and n.endswith(".tmp")) for n in names), (
            f"{folder}: {names}"
        )
        if visible:
            pq.read_table(folder / "part.parquet")  # raises on a torn file
    with duckdb.connect() as con:  # and what readers glob reads, too
        for table in (p for p in Path(lake_dir).iterdir() if any(p.rglob("part.parquet"))):
            con.execute(f"SELECT count(*) FROM read_parquet('{table}/**/*.parquet', union_by_name = true)").fetchone()


def assert_warehouse_opens(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, name in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall():
            con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()


@dataclass
class Baseline:
    root: Path
    lake: dict[str, list[tuple]]
    marts: dict[str, list[tuple]]

    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def copy_to(self, root: Path) -> None:
        """Start another run from this run's lake and warehouse (its 'before')."""
        shutil.copytree(self.lake_dir, root / "lake")
        shutil.copy2(self.warehouse, root / "warehouse.duckdb")
