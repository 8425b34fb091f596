"""Item 1, the fault matrix end to end: every fault the sandbox injects, at every endpoint a sync calls.

A fault the client retries (latency, 429 with and without Retry-After, 500, 502, 503, 504, a reset
connection, a read timeout, an HTML error page) must end in exactly the fault-free run's data. A fault
that cannot be retried (a truncated body, success: false, an unexpected shape), or a retried one that
never stops, must end in a one-line failure per failed asset that names the endpoint, with the failing
partitions and the published marts exactly as before. A key refused (401, 403) names the setting to fix.

Cost: faults are grouped so that one sync exercises many (endpoint, fault) cells at once; each rule
fires a counted number of times, and every test first proves that every rule did fire.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline_tests.reliability.helpers import (
    DAY,
    HTTP_TIMEOUT,
    assert_lake_sound,
    assert_warehouse_opens,
    differences,
    fingerprint,
    lake_rows,
    make_env,
    marts,
    sync,
)

pytestmark = pytest.mark.slow

# Every endpoint a sync calls, as a route glob per project (None: BSS has no projects). One path answers a
# goal's result three ways, told apart by the query (the suite's fault book matches it after a `?`): the
# primary goal's call ends with its `tz` (MIDA_TIMEZONE is UTC here: `tz=0`), a secondary goal's names its
# `goal_key`, a breakdown its `breakdown_by`.
MIDA_ENDPOINTS = {
    "experiments": "/v2/project/{pk}/experiments",
    "experiment": "/v2/project/{pk}/experiment/*[0-9]",
    "metrics": "/v2/project/{pk}/experiment/*/metrics",
    "result": "/v2/project/{pk}/experiment/*/result?*tz=0",
    "result goal_key": "/v2/project/{pk}/experiment/*/result?*goal_key=*",
    "result breakdown_by": "/v2/project/{pk}/experiment/*/result?*breakdown_by=*",
    "timeseries": "/v2/project/{pk}/experiment/*/timeseries?*",
    "goals": "/v2/project/{pk}/goals",
    "events": "/v2/project/{pk}/events",
    "configuration": "/v2/project/{pk}/configuration",
    "projects": "/v2/project/{pk}/projects",
}
# The company's projects are listed once per sync, through the first key of MIDA_PROJECT_KEYS.
COMPANY_WIDE = {"projects"}
ENDPOINTS = [*MIDA_ENDPOINTS, "bss_sync"]


def transient_kinds() -> dict[str, tuple[str, dict]]:
    soon = format_datetime(datetime.now(timezone.utc), usegmt=True)
    return {
        "500": ("status", {"status": 500}),
        "429 Retry-After seconds": ("status", {"status": 429, "retry_after": 1}),
        "429 Retry-After date": ("status", {"status": 429, "retry_after_date": soon}),
        "429 no Retry-After": ("status", {"status": 429}),
        "502": ("status", {"status": 502}),
        "503": ("status", {"status": 503}),
        "504": ("status", {"status": 504}),
        "connection reset": ("reset", {}),
        "read timeout": ("timeout", {"seconds": HTTP_TIMEOUT + 1.5}),
        "HTML error page": ("html", {"status": 502}),
        "latency": ("latency", {"ms": 400}),
    }


def routes(sandbox, endpoint: str) -> list[str]:
    if endpoint == "bss_sync":
        return [SYNC_PATH]
    keys = sandbox.data.project_keys[:1] if endpoint in COMPANY_WIDE else sandbox.data.project_keys
    return [MIDA_ENDPOINTS[endpoint].format(pk=pk) for pk in keys]


def inject_chains(sandbox, route: str, chain: list[str], kinds: dict) -> None:
    """One use each, in order: a request meets them on its first tries (at most four, the fifth succeeds)."""
    for name in chain:
        kind, params = kinds[name]
        sandbox.faults.add(route, kind, times=1, **params)


# Per sync, each project's route gets a different chain, so every kind meets every per-project Mida endpoint in
# one sync; the chains rotate over three rounds, so the one company-wide call (/projects) meets each of them too.
# A 500 is only retried a few times, so it always comes first; latency never fails, so it may end a chain.
CHAINS_BY_PROJECT = [
    ["500", "429 Retry-After seconds", "429 Retry-After date", "429 no Retry-After"],
    ["502", "503", "504", "latency"],
    ["connection reset", "read timeout", "HTML error page"],
]
# BSS is called once for the day and once for the week: two chains per sync, so two syncs (none in the third).
BSS_CHAINS = [
    [
        "500",
        "429 Retry-After seconds",
        "429 Retry-After date",
        "429 no Retry-After",
        "latency",
        "502",
        "503",
        "504",
        "connection reset",
    ],
    ["read timeout", "HTML error page"],
    [],
]
ROUNDS = len(CHAINS_BY_PROJECT)


def every_cell() -> set[tuple[str, str]]:
    return {(e, k) for e in ENDPOINTS for k in transient_kinds()}


# Each round waits out dozens of retries (read timeouts among them), and the first one run also makes the session's
# fault-free baseline: on a loaded machine that outlasts the suite's default limit.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("round_", range(ROUNDS), ids=[f"round-{r + 1}" for r in range(ROUNDS)])
def test_transient_faults_at_every_endpoint_end_in_the_fault_free_data(round_, rel_sandbox, baseline, tmp_path):
    kinds = transient_kinds()
    sandbox = rel_sandbox
    sandbox.faults.clear()
    for endpoint in MIDA_ENDPOINTS:
        # Rotate chains between rounds, so each project meets different faults.
        for i, route in enumerate(routes(sandbox, endpoint)):
            chain = CHAINS_BY_PROJECT[(i + round_) % len(CHAINS_BY_PROJECT)]
            inject_chains(sandbox, route, chain, kinds)
    inject_chains(sandbox, SYNC_PATH, BSS_CHAINS[round_], kinds)

    done = sync(make_env(sandbox, tmp_path))

    assert sandbox.faults.pending() == [], "every injected fault fired"
    assert lake_rows(tmp_path / "lake") == baseline.lake
    assert differences(marts(tmp_path / "warehouse.duckdb"), baseline.marts) == []
    assert done.stdout.strip().splitlines()[-1].startswith(f"synced {DAY}..{DAY}")


def test_the_rounds_cover_every_transient_fault_at_every_endpoint(rel_sandbox):
    """The chains above, read as data: nothing in the matrix is left out."""
    covered = set()
    for round_ in range(ROUNDS):
        for endpoint in MIDA_ENDPOINTS:
            for i in range(len(routes(rel_sandbox, endpoint))):
                covered |= {(endpoint, k) for k in CHAINS_BY_PROJECT[(i + round_) % len(CHAINS_BY_PROJECT)]}
        covered |= {("bss_sync", k) for k in BSS_CHAINS[round_]}
    assert covered == every_cell()
    assert all(len([k for k in chain if k != "latency"]) <= 4 for chain in CHAINS_BY_PROJECT), (
        "a chain outlasts the retries"
    )


# --- faults that end in failure ------------------------------------------------------------------------

UNRETRIED = [
    ("truncated JSON", "truncated", {}),
    ("success: false", "success_false", {}),
    ("unexpected shape", "wrong_shape", {}),
]
PERMANENT = [  # retried kinds that never stop: the retries run out
    ("500 always", "status", {"status": 500}),
    ("502 always", "status", {"status": 502}),
    ("503 always", "status", {"status": 503}),
    ("504 always", "status", {"status": 504}),
    ("429 always", "status", {"status": 429, "retry_after": 0.2}),
    ("reset always", "reset", {}),
    ("timeout always", "timeout", {"seconds": HTTP_TIMEOUT + 0.5}),
    ("HTML page always", "html", {"status": 502}),
]
# Each failing sync: the endpoint under test gets one unretried kind per project, and the permanent kinds get
# their turn at others. In the first two, every other endpoint fails too, so that nothing at all is written
# (results and segments list the experiments themselves, so the listing fails them too); the others fail
# only the assets that call the endpoint under test, and the rest of the lake is rewritten with the same rows.
# The company-wide /projects has one route, so it meets one kind per sync.
U, P = UNRETRIED, PERMANENT
FAILING_SYNCS = {
    "experiments": {
        "experiments": U,
        "goals": U,
        "events": P[0:3],
        "configuration": P[3:6],
        "projects": U[0:1],
        "bss_sync": U[0:1],
    },
    "experiment": {
        "experiment": U,
        "events": U,
        "goals": P[3:6],
        "result": P[5:8],
        "result breakdown_by": P[0:3],
        "timeseries": U,
        "configuration": U,
        "projects": P[7:8],
        "bss_sync": U[1:2],
    },
    "result": {"result": U, "goals": P[6:8] + P[0:1], "bss_sync": U[2:3]},
    "metrics": {"metrics": U, "result breakdown_by": P[3:6], "projects": U[1:2]},
    "goal_key": {"result goal_key": U, "result breakdown_by": U, "configuration": P[6:8] + P[4:5], "projects": U[2:3]},
}
EVERY_ASSET_FAILS = {"experiments", "experiment"}
# Per group, each failing asset and what its line may name (the first failing project's call: some assets call
# two failing endpoints, and either may fail first). The experiments asset's line covers its variants and goals.
BSS = ("BSS POST /apiv1/analytics/sync",)
FAILING_LINES = {
    "experiments": {
        "mida_experiments": ("/experiments", "/goals"),
        "mida_experiment_results": ("/experiments",),
        "mida_experiment_result_segments": ("/experiments",),
        "mida_experiment_timeseries": ("/experiments",),
        "mida_goals": ("/goals",),
        "mida_events": ("/events",),
        "mida_project_configuration": ("/configuration",),
        "mida_projects": ("/projects",),
        "bss_analytics_daily": BSS,
    },
    "experiment": {
        "mida_experiments": ("/experiment/", "/goals"),
        "mida_experiment_results": ("/result",),
        "mida_experiment_result_segments": ("/result",),
        "mida_experiment_timeseries": ("/timeseries",),
        "mida_goals": ("/goals",),
        "mida_events": ("/events",),
        "mida_project_configuration": ("/configuration",),
        "mida_projects": ("/projects",),
        "bss_analytics_daily": BSS,
    },
    "result": {"mida_experiment_results": ("/result",), "mida_goals": ("/goals",), "bss_analytics_daily": BSS},
    "metrics": {
        "mida_experiments": ("/metrics",),
        "mida_experiment_results": ("/metrics",),
        "mida_experiment_timeseries": ("/metrics", "/timeseries"),
        "mida_experiment_result_segments": ("/result",),
        "mida_projects": ("/projects",),
    },
    "goal_key": {
        "mida_experiment_results": ("/result",),
        "mida_experiment_result_segments": ("/result",),
        "mida_project_configuration": ("/configuration",),
        "mida_projects": ("/projects",),
    },
}
# The tables a failing asset writes: the experiments asset writes three.
WRITES = {"mida_experiments": ("mida_experiments", "mida_experiment_variants", "mida_experiment_goals")}


def failing_tables(group: str) -> set[str]:
    return {t for asset in FAILING_LINES[group] for t in WRITES.get(asset, (asset,))}


def asset_lines(stderr: str) -> dict[str, str]:
    """Each failed asset's line, by asset: the first is the command's reason (`mida-pipeline: ` first)."""
    out = {}
    for line in stderr.splitlines():
        if line.startswith(("mida-pipeline: ", "mida_", "bss_")):
            asset, _, rest = line.removeprefix("mida-pipeline: ").partition(": ")
            out.setdefault(asset, rest)
    return out


def test_every_endpoint_meets_each_kind_that_does_not_pass():
    """The groups above, read as data: every Mida endpoint meets each unretried kind, or (the one company-wide
    call) one per group; BSS meets each unretried kind; every group names what each of its failures says."""
    met = {}
    for faults in FAILING_SYNCS.values():
        for endpoint, kinds in faults.items():
            met.setdefault(endpoint, set()).update(name for name, _, _ in kinds)
    unretried = {name for name, _, _ in UNRETRIED}
    assert set(met) == set(ENDPOINTS)
    assert all(met[e] >= unretried for e in ENDPOINTS), {e: unretried - met[e] for e in ENDPOINTS}
    assert {name for name, _, _ in PERMANENT} <= set().union(*met.values())
    assert set(FAILING_LINES) == set(FAILING_SYNCS)


@pytest.mark.parametrize("group", list(FAILING_SYNCS), ids=[f"{g.replace(' ', '-')}-endpoint" for g in FAILING_SYNCS])
def test_faults_that_do_not_pass_end_in_one_clear_line_and_leave_the_lake_as_before(
    group, rel_sandbox, baseline, tmp_path
):
    sandbox = rel_sandbox
    sandbox.faults.clear()
    baseline.copy_to(tmp_path)
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    before = fingerprint(lake, warehouse)
    before_marts = marts(warehouse)
    for endpoint, faults in FAILING_SYNCS[group].items():
        for route, (_, kind, params) in zip(routes(sandbox, endpoint), faults, strict=False):
            sandbox.faults.add(route, kind, **params)

    done = sync(make_env(sandbox, tmp_path), check=False)
    sandbox.faults.clear()

    assert done.returncode != 0
    reason = [line for line in done.stderr.splitlines() if line.startswith("mida-pipeline: ")]
    assert len(reason) == 1, done.stderr[-2000:]
    # One line per failed asset, each naming the API, the method and the path that failed, and that the failed
    # units wrote nothing (every project fails here).
    lines = asset_lines(done.stderr)
    assert set(lines) >= set(FAILING_LINES[group]), done.stderr[-3000:]
    for asset, paths in FAILING_LINES[group].items():
        line = lines[asset]
        assert line.startswith(f"{asset} failed for ") and "nothing was written" in line, (asset, line)
        api = "BSS POST " if asset.startswith("bss_") else "MIDA GET /project/"
        assert api in line and any(p in line for p in paths), (asset, paths, line)

    after = fingerprint(lake, warehouse)
    failing = {p: h for p, h in before.items() if any(f"/lake/{t}/" in p for t in failing_tables(group))}
    assert {p: after.get(p) for p in failing} == failing, "a failing table's partitions changed"
    if group in EVERY_ASSET_FAILS:  # every asset failed: not one byte of lake or warehouse changed
        assert after == before
    assert_lake_sound(lake)
    assert_warehouse_opens(warehouse)
    assert marts(warehouse) == before_marts
    assert lake_rows(lake) == baseline.lake


# --- keys refused ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refused(rel_sandbox, tmp_path_factory):
    """One sync whose key the new endpoints refuse (401), with a paused project first in MIDA_PROJECT_KEYS: the
    company's projects are listed through it, and Mida answers that auth context 403 "Project is inactive"."""
    sandbox = rel_sandbox
    sandbox.faults.clear()
    alpha, beta, gamma = sandbox.data.project_keys
    paused = next(p["project_key"] for p in sandbox.data.projects(include_inactive=True) if p["status"] == 0)
    for route in (
        f"/v2/project/{alpha}/experiment/*/metrics",
        f"/v2/project/{beta}/experiment/*/result?*goal_key=*",
        f"/v2/project/{gamma}/experiment/*/result?*breakdown_by=*",
        *(f"/v2/project/{pk}/configuration" for pk in (alpha, beta, gamma)),
    ):
        sandbox.faults.add(route, "status", status=401, message="Invalid API key")
    root = tmp_path_factory.mktemp("refused")
    done = sync(make_env(sandbox, root, MIDA_PROJECT_KEYS=",".join([paused, alpha, beta, gamma])), check=False)
    sandbox.faults.clear()
    return done, paused, root


def test_a_refused_key_names_the_setting_to_fix_at_every_new_endpoint(refused, rel_sandbox):
    done, paused, root = refused
    alpha, beta, gamma = rel_sandbox.data.project_keys
    assert done.returncode != 0
    lines = asset_lines(done.stderr)
    expected = {
        "mida_experiments": (alpha, "/metrics"),
        "mida_experiment_results": (alpha, "/metrics"),
        "mida_experiment_result_segments": (gamma, "/result"),
        "mida_project_configuration": (alpha, "/configuration"),
        "mida_projects": (paused, "/projects"),
    }
    for asset, (project, path) in expected.items():
        line = lines.get(asset, "")
        # A results unit is a project-day: its day follows the project.
        assert f"{project}: " in line and f"MIDA GET /project/{project}/" in line and path in line, (
            asset,
            done.stderr[-3000:],
        )
        # The 403 of /projects through a paused project is fixed in MIDA_PROJECT_KEYS (an active project first).
        setting = "MIDA_PROJECT_KEYS" if asset == "mida_projects" else "MIDA_API_KEY"
        assert ("401" in line or "403" in line) and setting in line, (asset, line)
    # Every project's configuration refused (401 for the active ones, 403 for the paused one), and named.
    assert all(pk in lines["mida_project_configuration"].split(";")[0] for pk in (paused, alpha, beta, gamma))
    assert beta in lines["mida_experiment_results"].split(";")[0], "the refused secondary goal's project is named"
    assert "403" in lines["mida_projects"] and "Project is inactive" in lines["mida_projects"]
    # Nothing written for a refused unit; the units not refused are written.
    written = {(f.parts[-4], f.parts[-3].removeprefix("project_key=")) for f in (root / "lake").rglob("part.parquet")}
    refused_units = {
        ("mida_experiments", alpha),
        ("mida_experiment_results", alpha),
        ("mida_experiment_results", beta),
        ("mida_experiment_result_segments", gamma),
        *(("mida_project_configuration", pk) for pk in (paused, alpha, beta, gamma)),
    }
    assert refused_units & written == set()
    assert ("mida_experiment_results", gamma) in written and ("mida_experiments", beta) in written
    assert not (root / "lake" / "mida_projects").exists()


def test_a_paused_project_first_in_the_keys_is_named_as_what_to_fix(refused):
    done, paused, _ = refused
    line = asset_lines(done.stderr)["mida_projects"]
    assert "MIDA_PROJECT_KEYS" in line and "active" in line.split(" - ", 1)[1], line
