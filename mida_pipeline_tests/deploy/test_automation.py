"""The models follow every raw materialization, however it was launched, through the daemon's automation.

Here on the default SQLite instance (`dagster dev`, `make demo`); test_shared_instance.py does the same on
PostgreSQL. Raw runs are launched as asset jobs of a selection, as the UI's Materialize button launches them,
not as the schedules' jobs.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta

import duckdb
import pytest

from mida_pipeline import days as cal
from mida_pipeline_tests.deploy.helpers import (
    BIN,
    MART,
    automation_ticks_after,
    code_server,
    daemon,
    instance,
    runs_of,
    settled,
    wait_for,
)
from mida_pipeline_tests.helpers import REPO

# A recent closed day: the sandbox's experiments have results for the last weeks only.
DAY = (cal.latest_complete_day("UTC") - timedelta(days=2)).isoformat()
SELECTION = "mida_experiments,mida_experiment_variants,mida_experiment_goals,mida_experiment_results,mida_goals"


def materialize(env, *, check: bool = True):
    args = [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        "mida_pipeline.definitions",
        "--select",
        SELECTION,
        "--partition",
        DAY,
    ]
    proc = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _settled_models(inst, count):
    runs = runs_of(inst, MART)
    return len(runs) >= count and settled(inst) and runs


@pytest.mark.slow
@pytest.mark.dagster
def test_raw_materializations_are_each_followed_by_one_models_run_even_a_partly_failed_one(
    pipeline_env, sandbox, tmp_path
):
    env = pipeline_env
    with code_server(env, tmp_path / "code.log") as workspace, daemon(env, tmp_path / "daemon.log", workspace):
        inst = instance(env)
        # The automation's first look sets its starting point; raw data landed before it would not count as new.
        wait_for("the daemon's first automation tick", lambda: automation_ticks_after(inst, 0) >= 1)

        materialize(env)
        models = wait_for("one models run after the raw run", lambda: _settled_models(inst, 1))
        assert [r.status.value for r in models] == ["SUCCESS"]
        assert "dagster/from_automation_condition_sensor" in models[0].tags or models[0].tags.get("dagster/sensor_name")
        with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
            assert con.execute("SELECT count(*) FROM marts.fct_experiment_scorecard").fetchone()[0] > 0

        # One project's goals fail: the run fails, the other project's data landed and the marts still follow.
        broken = sandbox.data.project_keys[0]
        sandbox.faults.add(f"/v2/project/{broken}/goals", "status", status=404)
        failed = materialize(env, check=False)
        assert failed.returncode != 0
        models = wait_for("a second models run after the partly failed raw run", lambda: _settled_models(inst, 2))
        assert [r.status.value for r in models] == ["SUCCESS", "SUCCESS"]
        raw_runs = [r for r in inst.get_runs() if r.asset_selection and MART not in r.asset_selection]
        assert sorted(r.status.value for r in raw_runs) == ["FAILURE", "SUCCESS"]
