"""The experiment alerts through the real pipeline: the mart from the sandbox's history, the posts a webhook on
loopback receives (exactly once across syncs, re-executions and restarts; a receiver that fails), the check.

Each `mida-pipeline` command is a new process, so every sync after the first is also a restart; the ledger of what
was sent lives beside the warehouse, never in memory."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pytest

from mida_pipeline import days as cal
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.helpers import instance_at, run_cli, sandbox_env
from mida_pipeline_tests.report.test_alerts import Receiver

pytestmark = pytest.mark.slow

LAST = cal.latest_complete_day("UTC")
FIRST = LAST - timedelta(days=6)
KINDS = {"srm", "ready_to_call", "secondary_goal_harm", "no_traffic", "underpowered"}
ID = re.compile(r"\[alert ([0-9a-f]{8})\]")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A sandbox where every kind of alert occurs (three projects of eight experiments, as the demo's), and a receiver."""
    hook = Receiver([])
    with SandboxServer(SandboxConfig(seed=7, projects=3, experiments_per_project=8)) as sandbox:
        yield sandbox, hook, tmp_path_factory
    hook.close()


def env_of(world, name: str, url: str | None) -> dict[str, str]:
    sandbox, _, factory = world
    env = sandbox_env(sandbox, factory.mktemp(name))
    env.update(MIDA_HTTP_TIMEOUT="2", **({"MIDA_ALERT_WEBHOOK_URL": url} if url else {}))
    return env


def mart(env) -> pd.DataFrame:
    with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (message), message FROM marts.fct_experiment_alerts ORDER BY ALL").df()


def history(env) -> pd.DataFrame:
    with duckdb.connect(env["MIDA_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(
            "SELECT h.*, e.status, e.ended_on, e.updated_at FROM marts.fct_experiment_scorecard_daily h "
            "JOIN marts.dim_experiments e USING (project_key, test_id)"
        ).df()


def announced(hook: Receiver) -> Counter:
    """(short id, event) for every line of every accepted message."""
    seen = Counter()
    for body in hook.accepted:
        for line in body["text"].splitlines()[1:]:
            if match := ID.search(line):
                seen[(match.group(1), "raised" if line.startswith("• New") else "cleared")] += 1
    return seen


@pytest.fixture(scope="module")
def lived(world):
    """Five days backfilled, then two daily syncs (each a restart) and the last one executed again."""
    _, hook, _ = world
    env = env_of(world, "lived", hook.url)
    steps = []
    run_cli(env, "backfill", "--start", FIRST.isoformat(), "--end", (LAST - timedelta(days=2)).isoformat())
    steps.append(("backfill", mart(env), announced(hook)))
    for label, day in (("sync", LAST - timedelta(days=1)), ("sync", LAST), ("again", LAST)):
        run_cli(env, "sync", "--date", day.isoformat())
        steps.append((label, mart(env), announced(hook)))
    return env, steps


def test_every_kind_of_alert_is_raised_by_the_sandboxs_data(lived):
    env, _ = lived
    assert set(mart(env)["alert_kind"]) == KINDS


def expected_alerts(h: pd.DataFrame) -> set[tuple]:
    """The alerts, computed here from the scorecard's history with pandas: a second reading of the rules."""
    h = h.assign(day=pd.to_datetime(h["as_of_date"]).dt.date)
    until = h["ended_on"].where(h["ended_on"].notna(), pd.to_datetime(h["updated_at"]).dt.date)
    h["live"] = (h["status"] == "live") | (pd.to_datetime(h["day"]) <= pd.to_datetime(until))
    primary = h[h["is_primary_goal"]]
    holds: dict[tuple, set] = {}

    def hold(key, day):
        holds.setdefault(key, set()).add(day)

    for (pk, t), g in primary.groupby(["project_key", "test_id"]):
        per_day = g.groupby("day").agg(visitors=("visitors", "sum"), srm=("srm_flag", "any"), live=("live", "all"))
        per_day = per_day.sort_index()
        for i, (day, row) in enumerate(per_day.iterrows()):
            if row["live"] and row["srm"]:
                hold((pk, t, None, None, "srm"), day)
            if row["live"] and i >= 2 and row["visitors"] == per_day["visitors"].iloc[i - 2]:
                hold((pk, t, None, None, "no_traffic"), day)
    for r in primary[primary["live"] & ~primary["is_control"]].itertuples():
        if r.safe_verdict in ("winner", "loser"):
            hold((r.project_key, r.test_id, r.goal_key, r.variant_id, "ready_to_call"), r.day)
        elif r.safe_verdict != "srm_warning" and pd.notna(r.days_remaining) and r.days_remaining > 365:
            hold((r.project_key, r.test_id, r.goal_key, r.variant_id, "underpowered"), r.day)
    winners = primary[primary["safe_verdict"] == "winner"][["project_key", "test_id", "variant_id", "day"]]
    others = h[~h["is_primary_goal"] & h["live"] & ~h["is_control"] & (h["safe_verdict"] == "loser")]
    for r in others.merge(winners, on=["project_key", "test_id", "variant_id", "day"]).itertuples():
        hold((r.project_key, r.test_id, r.goal_key, r.variant_id, "secondary_goal_harm"), r.day)
    out = set()
    for key, held in holds.items():
        grid = sorted(set(primary[(primary["project_key"] == key[0]) & (primary["test_id"] == key[1])]["day"]))
        raised = None
        for day in grid:
            if day in held and raised is None:
                raised = day
            elif day not in held and raised is not None:
                out.add((*key, raised, day))
                raised = None
        if raised is not None:
            out.add((*key, raised, None))
    return out


def test_the_mart_holds_the_alerts_the_history_says(lived):
    env, _ = lived
    got = {
        (
            r.project_key,
            r.test_id,
            r.goal_key,
            r.variant_id,
            r.alert_kind,
            r.raised_on.date(),
            None if pd.isna(r.cleared_on) else r.cleared_on.date(),
        )
        for r in mart(env).itertuples()
    }
    got = {tuple(None if (isinstance(v, float) and pd.isna(v)) else v for v in row) for row in got}
    assert got == expected_alerts(history(env))


def test_a_backfill_raises_the_alerts_the_days_lived_through_raised(lived, world):
    env, _ = lived
    backfilled = env_of(world, "backfilled", None)
    run_cli(backfilled, "backfill", "--start", FIRST.isoformat(), "--end", LAST.isoformat())
    pd.testing.assert_frame_equal(mart(backfilled), mart(env))
    assert not os.path.exists(
        os.path.join(os.path.dirname(backfilled["MIDA_DUCKDB_PATH"]), "alerts")
    )  # no URL, no post


def test_each_alert_is_announced_once_and_its_clearing_once_across_syncs_and_a_re_execution(lived, world):
    env, steps = lived
    _, hook, _ = world
    final = mart(env)
    ever_open = set()
    for _, alerts, _ in steps:
        ever_open |= set(alerts.loc[alerts["is_open"], "alert_id"].str[:8])
    counts = announced(hook)
    assert counts and max(counts.values()) == 1  # never twice
    assert {i for i, e in counts if e == "raised"} == ever_open  # every alert open after some sync, announced
    cleared = set(final.loc[~final["is_open"], "alert_id"].str[:8])
    assert {i for i, e in counts if e == "cleared"} == cleared & ever_open
    assert steps[-1][2] == steps[-2][2]  # executing the last day again sent nothing
    assert len({body["text"].splitlines()[0] for body in hook.accepted}) == len(hook.accepted)  # one per project a run


def forget(env, project_key: str) -> int:
    """Remove a project's lines from the ledger, as if they had never been sent; returns how many were removed."""
    path = os.path.join(os.path.dirname(env["MIDA_DUCKDB_PATH"]), "alerts", "sent.jsonl")
    lines = open(path).read().splitlines(keepends=True)
    kept = [line for line in lines if f'"project_key": "{project_key}"' not in line]
    open(path, "w").writelines(kept)
    return len(lines) - len(kept)


def test_a_receiver_that_fails_once_then_accepts_gets_the_message_once(lived, world):
    env, _ = lived
    sandbox, _, _ = world
    project = sandbox.data.project_keys[0]
    hook = Receiver([500, 200])
    try:
        env = {**env, "MIDA_ALERT_WEBHOOK_URL": hook.url}
        assert forget(env, project)
        run_cli(env, "sync", "--date", LAST.isoformat())
        assert hook.calls == 2 and len(hook.accepted) == 1
        assert hook.accepted[0]["text"].startswith(f"*{project}*")
    finally:
        hook.close()


def test_a_receiver_that_never_answers_fails_the_step_keeps_the_marts_and_the_alerts_go_next_run(lived, world):
    env, _ = lived
    sandbox, _, _ = world
    project = sandbox.data.project_keys[1]
    silent = Receiver([None] * 3)
    try:
        env = {**env, "MIDA_ALERT_WEBHOOK_URL": silent.url}
        assert forget(env, project)
        before = mart(env)
        failed = run_cli(env, "sync", "--date", LAST.isoformat(), check=False)
        assert failed.returncode != 0 and silent.calls == 3
        line = [x for x in (failed.stdout + failed.stderr).splitlines() if "alert_notifications" in x]
        assert line and "no answer in time" in line[0] and "sent on the next run" in line[0]
        assert "SENTINEL" not in failed.stdout + failed.stderr
        assert mart(env).equals(before)  # the data stays
    finally:
        silent.close()
    again = Receiver([])
    try:
        run_cli({**env, "MIDA_ALERT_WEBHOOK_URL": again.url}, "sync", "--date", LAST.isoformat())
        assert len(again.accepted) == 1 and again.accepted[0]["text"].startswith(f"*{project}*")
    finally:
        again.close()


def test_the_check_warns_while_alerts_hold_and_lists_them(lived):
    env, _ = lived
    open_now = mart(env)["is_open"].sum()
    with instance_at(env["DAGSTER_HOME"]) as inst:
        key = dg.AssetCheckKey(dg.AssetKey(["marts", "fct_experiment_alerts"]), "no_open_alerts")
        record = inst.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        evaluation = record.event.dagster_event.event_specific_data
    assert open_now > 0 and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["open alerts"].value == open_now


def test_the_webhook_address_never_lands_in_the_warehouse_the_lake_the_ledger_or_run_storage(lived):
    env, _ = lived
    secret = "SENTINEL-hook-token"
    for folder in (os.path.dirname(env["MIDA_DUCKDB_PATH"]), env["DAGSTER_HOME"]):
        for root, _, files in os.walk(folder):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    assert secret.encode() not in f.read(), os.path.join(root, name)
