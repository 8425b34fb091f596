"""Item 6, secrets: every run of this suite used sentinel keys; not one byte of them may be anywhere.

Searched: each run's lake (every table, the goals, segments, configuration and projects among them), warehouse
and Dagster storage under DAGSTER_HOME (SQLite files as bytes), dbt's target and logs folders, and everything the
processes printed (including every failure's message, from every endpoint). This
module runs last in the suite (mida_pipeline_tests/scheduling.py puts it there; under xdist its search waits
for the other workers' reliability tests to end), so it searches what all the other tests' runs left, plus runs
of its own that fail on purpose with a key placed in both APIs' URLs.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import pytest

import mida_pipeline
from mida_pipeline.lake.schemas import TABLES
from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline_tests.reliability.helpers import ARTIFACTS, SENTINEL_BSS, SENTINEL_KEY, make_env, sync

pytestmark = pytest.mark.slow

DBT_DIR = Path(mida_pipeline.__file__).resolve().parents[1] / "dbt"
NEEDLES = [s.encode() for secret in (SENTINEL_KEY, SENTINEL_BSS) for s in {secret, quote(secret, safe="")}]


def leaks_in(paths) -> list[str]:
    found = []
    for root in paths:
        files = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for f in files:
            data = f.read_bytes()
            found += [f"{f}: {n.decode()}" for n in NEEDLES if n in data]
    return found


def test_keys_in_urls_are_never_shown(rel_sandbox, tmp_path):
    """A key pasted into MIDA_API_BASE_URL's userinfo or MIDA_BSS_SYNC_URL's query, in a run that fails."""
    sandbox = rel_sandbox
    sandbox.faults.clear()
    env = make_env(
        sandbox,
        tmp_path,
        MIDA_API_BASE_URL=sandbox.mida_base_url.replace("http://", f"http://mida:{SENTINEL_KEY}@"),
        MIDA_BSS_SYNC_URL=f"{sandbox.bss_sync_url}?secret={SENTINEL_BSS}",
    )
    sandbox.faults.add("/v2/project/*/goals", "status", status=401)
    sandbox.faults.add("/v2/project/*/experiments", "status", status=503, retry_after=0.1)
    # The calls a sync added with every goal, segments, the configuration and the company's projects fail too,
    # each its own way, so their messages are among what is searched.
    sandbox.faults.add("/v2/project/*/configuration", "status", status=403, message="Forbidden")
    sandbox.faults.add("/v2/project/*/projects", "html", status=502)
    sandbox.faults.add(SYNC_PATH, "html", status=500)
    done = sync(env, check=False)
    sandbox.faults.clear()
    assert done.returncode != 0
    assert "MIDA GET /project/" in done.stderr and "BSS POST /apiv1/analytics/sync" in done.stderr
    assert "/configuration failed" in done.stderr and "/projects failed" in done.stderr
    for needle in (SENTINEL_KEY, SENTINEL_BSS):
        assert needle not in done.stdout + done.stderr


def others_running(request) -> list[str]:
    """The other tests of the reliability suite in this session that have not ended, in whichever worker runs them.

    Chosen by the module part of the node id alone: a test elsewhere may carry a reliability path in its parameters."""
    here = request.node.nodeid.split("::", 1)[0]
    package = here.rsplit("/", 1)[0]
    modules = {i.nodeid: i.nodeid.split("::", 1)[0] for i in request.session.items}
    others = [n for n, m in modules.items() if m.rsplit("/", 1)[0] == package and m != here]
    return ARTIFACTS.not_ended(others)


WAIT = 1500  # seconds: longer than the longest reliability group has taken; the bound only ends a hung suite


@pytest.mark.timeout(WAIT + 300)
def test_no_sentinel_anywhere_the_suite_wrote_or_printed(baseline, request):
    # Last in the suite: the search waits for the runs of the other reliability modules, which another worker may
    # still be running.
    deadline = time.monotonic() + WAIT
    while running := others_running(request):
        assert time.monotonic() < deadline, f"{len(running)} other reliability tests never ended, first {running[0]}"
        time.sleep(1)
    assert len(ARTIFACTS.dirs) >= 1
    assert leaks_in([*ARTIFACTS.dirs, DBT_DIR / "target", DBT_DIR / "logs"]) == []
    printed = "\n".join(ARTIFACTS.texts)
    assert [s for s in (SENTINEL_KEY, SENTINEL_BSS) if s in printed] == []
    # The search is not vacuous: the storage it read holds the runs and their failures, and every lake table.
    assert any((d / "dagster_home").rglob("*.db") for d in ARTIFACTS.dirs)
    assert {t for t in TABLES if any(baseline.lake_dir.joinpath(t).rglob("part.parquet"))} == set(TABLES)
