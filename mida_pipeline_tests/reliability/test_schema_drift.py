"""Item 4, schema drift, end to end: the sandbox changes its answers (the `mutate` fault) and a real sync runs.

A new field is kept (in `raw`), a missing optional field becomes null, and a known field whose type changes
fails its asset with one line naming the table, the column, the type expected and the type received, with
nothing written for it.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from mida_pipeline_tests.reliability.helpers import make_env, sync

pytestmark = pytest.mark.slow


def read(lake, table: str, columns: str = "*") -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT {columns} FROM read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning = false) ORDER BY ALL"
        ).fetchall()


def test_new_fields_are_kept_missing_ones_are_null_and_changed_types_fail_by_name(rel_sandbox, baseline, tmp_path):
    sandbox = rel_sandbox
    sandbox.faults.clear()
    alpha, beta, gamma = sandbox.data.project_keys
    sandbox.faults.add(
        "/v2/project/*/goals", "mutate", where="goal_profile_id", add={"brand_new_field": {"tier": "gold"}}
    )
    sandbox.faults.add("/v2/project/*/events", "mutate", drop=["event_property"])
    # A count turned into words, a count beyond int64, a count with letters in it: each project one drift.
    sandbox.faults.add(f"/v2/project/{alpha}/experiment/*/result", "mutate", set={"visitors": "many"})
    sandbox.faults.add(f"/v2/project/{beta}/experiment/*/result", "mutate", set={"visitors": 10**30})
    sandbox.faults.add(f"/v2/project/{gamma}/experiment/*/result", "mutate", set={"conversions": "12abc"})

    done = sync(make_env(sandbox, tmp_path), check=False)
    sandbox.faults.clear()
    lake = tmp_path / "lake"

    assert done.returncode != 0
    line = next(line for line in done.stderr.splitlines() if "mida_experiment_results" in line and "failed" in line)
    assert all(pk in line for pk in (alpha, beta, gamma)), "every drifted project is named"
    assert "visitors: expected a whole number (int64), got str 'many'" in line
    assert not list((lake / "mida_experiment_results").rglob("*.parquet")), "a failed table wrote a partition"

    goals = [json.loads(raw) for (raw,) in read(lake, "mida_goals", "raw")]
    assert goals and all(g["brand_new_field"] == {"tier": "gold"} for g in goals)
    goal_cols = "project_key, goal_profile_id, goal_key, goal_name, goal_type, goal_value"
    assert read(lake, "mida_goals", goal_cols) == read(baseline.lake_dir, "mida_goals", goal_cols)

    assert read(lake, "mida_events", "DISTINCT event_property") == [(None,)]
    assert any(p is not None for (p,) in read(baseline.lake_dir, "mida_events", "DISTINCT event_property"))
