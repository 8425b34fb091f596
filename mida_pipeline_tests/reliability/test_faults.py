"""Item 1, the fault matrix end to end: every fault the sandbox injects, at every endpoint a sync calls.

A fault the client retries (latency, 429 with and without Retry-After, 500, 502, 503, 504, a reset
connection, a read timeout, an HTML error page) must end in exactly the fault-free run's data. A fault
that cannot be retried (a truncated body, success: false, an unexpected shape), or a retried one that
never stops, must end in a one-line failure that names the endpoint, with the failing partitions and
the published marts exactly as before.

Cost: faults are grouped so that one sync exercises many (endpoint, fault) cells at once; each rule
fires a counted number of times, and every test first proves that every rule did fire.
"""

from __future__ import annotations

from email.utils import format_datetime
from datetime import datetime, timezone

import pytest

from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline_tests.reliability.conftest import (
    DAY, HTTP_TIMEOUT, assert_lake_sound, assert_warehouse_opens, fingerprint, lake_rows, make_env, marts, sync,
)

pytestmark = pytest.mark.slow

# Every endpoint a sync calls, as a route glob per project (None: BSS has no projects).
MIDA_ENDPOINTS = {
    "experiments": "/v2/project/{pk}/experiments",
    "experiment": "/v2/project/{pk}/experiment/*[0-9]",
    "result": "/v2/project/{pk}/experiment/*/result",
    "goals": "/v2/project/{pk}/goals",
    "events": "/v2/project/{pk}/events",
}
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
    return [MIDA_ENDPOINTS[endpoint].format(pk=pk) for pk in sandbox.data.project_keys]


def inject_chains(sandbox, route: str, chain: list[str], kinds: dict) -> None:
    """One use each, in order: a request meets them on its first tries (at most four, the fifth succeeds)."""
    for name in chain:
        kind, params = kinds[name]
        sandbox.faults.add(route, kind, times=1, **params)


# Per sync, each project's route gets a different chain, so every kind meets every Mida endpoint in one sync.
# A 500 is only retried a few times, so it always comes first; latency never fails, so it may end a chain.
CHAINS_BY_PROJECT = [
    ["500", "429 Retry-After seconds", "429 Retry-After date", "429 no Retry-After"],
    ["502", "503", "504", "latency"],
    ["connection reset", "read timeout", "HTML error page"],
]
# BSS is called once for the day and once for the week: two chains per sync, so two syncs.
BSS_CHAINS = [
    ["500", "429 Retry-After seconds", "429 Retry-After date", "429 no Retry-After", "latency", "502", "503", "504", "connection reset"],
    ["read timeout", "HTML error page"],
]


def every_cell() -> set[tuple[str, str]]:
    return {(e, k) for e in ENDPOINTS for k in transient_kinds()}


@pytest.mark.parametrize("round_", [0, 1], ids=["round-1", "round-2"])
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
    assert marts(tmp_path / "warehouse.duckdb") == baseline.marts
    assert done.stdout.strip().splitlines()[-1].startswith(f"synced {DAY}..{DAY}")


def test_the_two_rounds_cover_every_transient_fault_at_every_endpoint(rel_sandbox):
    """The chains above, read as data: nothing in the matrix is left out."""
    covered = set()
    for round_ in (0, 1):
        for endpoint in MIDA_ENDPOINTS:
            for i in range(len(rel_sandbox.data.project_keys)):
                covered |= {(endpoint, k) for k in CHAINS_BY_PROJECT[(i + round_) % len(CHAINS_BY_PROJECT)]}
        covered |= {("bss_sync", k) for k in BSS_CHAINS[round_]}
    assert covered == every_cell()
    assert all(len([k for k in chain if k != "latency"]) <= 4 for chain in CHAINS_BY_PROJECT), "a chain outlasts the retries"


# --- faults that end in failure ------------------------------------------------------------------------

UNRETRIED = [("truncated JSON", "truncated", {}), ("success: false", "success_false", {}), ("unexpected shape", "wrong_shape", {})]
PERMANENT = [  # retried kinds that never stop: the retries run out
    ("500 always", "status", {"status": 500}), ("502 always", "status", {"status": 502}),
    ("503 always", "status", {"status": 503}), ("504 always", "status", {"status": 504}),
    ("429 always", "status", {"status": 429, "retry_after": 0.2}), ("reset always", "reset", {}),
    ("timeout always", "timeout", {"seconds": HTTP_TIMEOUT + 0.5}), ("HTML page always", "html", {"status": 502}),
]
# Each failing sync: the endpoint under test gets one unretried kind per project; the other endpoints fail too
# (so that nothing at all is written; results list the experiments themselves, so the listing fails them too),
# and with it the permanent kinds get their turn.
FAILING_SYNCS = {
    "experiments": {"experiments": UNRETRIED, "goals": UNRETRIED, "events": PERMANENT[0:3], "bss_sync": UNRETRIED[0:1]},
    "experiment": {"experiment": UNRETRIED, "events": UNRETRIED, "goals": PERMANENT[3:6], "result": PERMANENT[5:8],
                   "bss_sync": UNRETRIED[1:2]},
    "result": {"result": UNRETRIED, "goals": PERMANENT[6:8] + PERMANENT[0:1], "bss_sync": UNRETRIED[2:3]},
}
FAILING_TABLES = {
    "experiments": {"mida_experiments", "mida_experiment_variants", "mida_experiment_results", "mida_goals", "mida_events",
                    "bss_analytics_daily"},
    "experiment": {"mida_experiments", "mida_experiment_variants", "mida_experiment_results", "mida_goals", "mida_events",
                   "bss_analytics_daily"},
    "result": {"mida_experiment_results", "mida_goals", "bss_analytics_daily"},
}


@pytest.mark.parametrize("group", list(FAILING_SYNCS), ids=[f"{g}-endpoint" for g in FAILING_SYNCS])
def test_faults_that_do_not_pass_end_in_one_clear_line_and_leave_the_lake_as_before(group, rel_sandbox, baseline, tmp_path):
    sandbox = rel_sandbox
    sandbox.faults.clear()
    baseline.copy_to(tmp_path)
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    before = fingerprint(lake, warehouse)
    before_marts = marts(warehouse)
    for endpoint, faults in FAILING_SYNCS[group].items():
        for route, (_, kind, params) in zip(routes(sandbox, endpoint), faults):
            sandbox.faults.add(route, kind, **params)

    done = sync(make_env(sandbox, tmp_path), check=False)
    sandbox.faults.clear()

    assert done.returncode != 0
    reason = [line for line in done.stderr.splitlines() if line.startswith("mida-pipeline: ")]
    assert len(reason) == 1, done.stderr[-2000:]
    failed_steps = {line.removeprefix("mida-pipeline: ").split(":", 1)[0] for line in done.stderr.splitlines()
                    if line.startswith(("mida-pipeline: ", "mida_", "bss_"))}
    # One line per failed asset, each naming the API, the method and the path that failed.
    assert failed_steps >= {t for t in FAILING_TABLES[group] if t != "mida_experiment_variants"}, done.stderr[-3000:]
    assert "/experiment" in done.stderr or "/experiments" in done.stderr
    assert "MIDA GET /project/" in done.stderr and "BSS POST /apiv1/analytics/sync" in done.stderr

    after = fingerprint(lake, warehouse)
    failing = {p: h for p, h in before.items() if any(f"/lake/{t}/" in p for t in FAILING_TABLES[group])}
    assert {p: after.get(p) for p in failing} == failing, "a failing table's partitions changed"
    if group != "result":  # every asset failed: not one byte of lake or warehouse changed
        assert after == before
    assert_lake_sound(lake)
    assert_warehouse_opens(warehouse)
    assert marts(warehouse) == before_marts
    assert lake_rows(lake) == baseline.lake
