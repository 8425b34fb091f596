"""Many projects in one daily sync: bounded concurrency per API host, and one failing project isolated.

The sandbox serves 40 projects of 5 experiments and refuses every call for one
of them; the sync (the CLI, as a user runs it) lands the other 39 exactly in
every table (every goal, segments and configuration included),
never has more calls in flight than MIDA_MAX_CONCURRENCY, and names the
failing project and the reason. The 200 x 50 run is benchmarks/many_projects.py.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.in_flight import InFlight
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.helpers import expected, results, run_cli

pytestmark = pytest.mark.slow

DAY = cal.latest_complete_day("UTC") - timedelta(days=1)
MAX_CONCURRENCY = 4
MIDA_TABLES = (
    "mida_experiments",
    "mida_experiment_variants",
    "mida_experiment_goals",
    "mida_experiment_results",
    "mida_experiment_timeseries",
    "mida_experiment_result_segments",
    "mida_goals",
    "mida_events",
    "mida_project_configuration",
)
# The assets that call the failing project's endpoints (the experiments asset's line covers its variants and goals).
FAILING_STEPS = (
    "mida_experiments",
    "mida_experiment_results",
    "mida_experiment_timeseries",
    "mida_experiment_result_segments",
    "mida_goals",
    "mida_events",
    "mida_project_configuration",
)


@pytest.fixture(scope="module")
def many():
    server = SandboxServer(SandboxConfig(seed=23, projects=40, experiments_per_project=5))
    counter = server.wrap(InFlight)  # before the server starts
    with server:
        yield server, counter


def test_one_failing_project_is_named_and_the_other_39_land_with_bounded_concurrency(many, pipeline_env):
    sandbox, counter = many
    failing = sandbox.data.project_keys[17]
    # Every call for this project is refused, as when the key loses access to one project.
    sandbox.faults.add(f"/v2/project/{failing}/*", "status", status=403, message="Forbidden for this project")
    # A little latency keeps calls overlapping, so the bound is exercised rather than never reached.
    sandbox.faults.add("/v2/*", "latency", ms=15)
    env = pipeline_env | {
        "MIDA_API_KEY": sandbox.api_key,
        "MIDA_PROJECT_KEYS": ",".join(sandbox.data.project_keys),
        "MIDA_API_BASE_URL": sandbox.mida_base_url,
        "MIDA_BSS_SYNC_URL": sandbox.bss_sync_url,
        "MIDA_BSS_SECRET_KEY": sandbox.bss_secret,
        "MIDA_MAX_CONCURRENCY": str(MAX_CONCURRENCY),
    }
    try:
        proc = run_cli(env, "sync", "--date", DAY.isoformat(), check=False)
    finally:
        sandbox.faults.clear()

    assert proc.returncode != 0
    for step in FAILING_STEPS:
        # One line per failed step names the project and the reason the API gave.
        line = next(
            (line for line in proc.stderr.splitlines() if f"{step}: {step} failed" in line and failing in line), ""
        )
        assert "403" in line and "Forbidden" in line, (step, proc.stderr)
    others = [pk for pk in sandbox.data.project_keys if pk != failing]
    with duckdb.connect() as con:
        for table in MIDA_TABLES:
            landed = con.execute(
                f"SELECT DISTINCT project_key FROM read_parquet('{env['MIDA_LAKE_DIR']}/{table}/**/*.parquet', "
                "hive_partitioning = true) ORDER BY 1"
            ).fetchall()
            assert [pk for (pk,) in landed] == sorted(others), table
        # The company's projects are listed through the first key, which still works: every project, the failing
        # one and the paused ones included.
        listed = con.execute(
            f"SELECT DISTINCT project_key FROM read_parquet('{env['MIDA_LAKE_DIR']}/mida_projects/**/*.parquet')"
        ).fetchall()
        assert sorted(pk for (pk,) in listed) == sorted(
            p["project_key"] for p in sandbox.data.projects(include_inactive=True)
        )
    with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        for window in ("day", "cumulative"):
            want = {k: v for k, v in expected(sandbox, DAY, window).items() if k[0] != failing}
            assert results(con, DAY, window) == want
        # The failed project does not hold the marts back: they are rebuilt from what the others landed.
        in_marts = {
            pk for (pk,) in con.execute("SELECT DISTINCT project_key FROM marts.fct_experiment_scorecard").fetchall()
        }
    assert in_marts == set(others)
    assert counter.peak <= MAX_CONCURRENCY  # the bound; how near a run comes to it is a matter of timing
