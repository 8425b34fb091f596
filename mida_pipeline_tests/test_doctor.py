"""`mida-pipeline doctor` against the sandbox: every check passes, and each failure names its variable and its fix."""

from __future__ import annotations

import pytest

from mida_pipeline.doctor import checks

WRONG = "wrong-key-4f9d2c"


@pytest.fixture
def env(pipeline_env, tmp_path):
    return pipeline_env | {"MIDA_REPORT_DIR": str(tmp_path / "report")}


@pytest.fixture
def doctor(cli):
    """The command as a user runs it: exit status, FAIL lines, SKIP lines, all output."""

    def run(env, **overrides):
        proc = cli(env | overrides, "doctor", check=False)
        lines = proc.stdout.splitlines()
        return (
            proc.returncode,
            [line for line in lines if line.startswith("FAIL")],
            [line for line in lines if line.startswith("SKIP")],
            proc.stdout,
        )

    return run


def lines(env, **overrides) -> list[str]:
    """The same checks in-process (quicker), as the command prints them."""
    marks = {True: "PASS", False: "FAIL", None: "SKIP"}
    return [f"{marks[c.passed]} {c.name}: {c.detail}" for c in checks(env | overrides)]


def test_a_sound_setup_passes_every_check(env, sandbox, doctor):
    status, failed, skipped, out = doctor(env)
    assert status == 0 and failed == [] and skipped == [], out
    for key in sandbox.data.project_keys:
        assert f"PASS Mida API {key}: key accepted" in out
    assert "PASS BSS analytics API: key accepted" in out
    for check in ("lake", "warehouse folder", "warehouse", "report folder"):
        assert f"PASS {check}:" in out
    assert sandbox.api_key not in out and sandbox.bss_secret not in out


def test_a_wrong_mida_key_is_named_once_with_its_fix(env, doctor):
    status, failed, _, out = doctor(env, MIDA_API_KEY=WRONG)
    assert status != 0
    assert len(failed) == 1, out
    assert failed[0].startswith("FAIL Mida API") and "MIDA_API_KEY is wrong" in failed[0]
    assert "copy the key again from Mida > Settings > API" in failed[0] and "MIDA_REGION" in failed[0]
    assert "PASS BSS analytics API" in out and WRONG not in out


def test_a_wrong_bss_secret_is_named_with_its_fix(env, doctor):
    status, failed, _, out = doctor(env, MIDA_BSS_SECRET_KEY=WRONG)
    assert status != 0 and len(failed) == 1, out
    assert failed[0].startswith("FAIL BSS analytics API: MIDA_BSS_SECRET_KEY is wrong")
    assert "copy the secret key again from the MIDA Session Replay app" in failed[0]
    assert "PASS Mida API" in out and WRONG not in out


def test_an_unknown_project_is_named_and_the_others_still_checked(env, sandbox, doctor):
    status, failed, _, out = doctor(env, MIDA_PROJECT_KEYS=f"{sandbox.data.project_keys[0]},no-such-shop")
    assert status != 0 and len(failed) == 1, out
    assert (
        "FAIL Mida API no-such-shop: project no-such-shop is unknown" in failed[0] and "MIDA_PROJECT_KEYS" in failed[0]
    )
    assert f"PASS Mida API {sandbox.data.project_keys[0]}" in out


@pytest.mark.parametrize(
    "variable, value, fix",
    [
        ("MIDA_TIMEZONE", "Mars/Olympus", "is not an IANA time zone; use e.g. UTC"),
        ("MIDA_REGION", "moon", "is not a region; use us or eu"),
        ("MIDA_MAX_CONCURRENCY", "lots", "must be a whole number from 1 to 256"),
        ("MIDA_START_DATE", "23/11/2026", "is not a date; use YYYY-MM-DD"),
        ("MIDA_BSS_SYNC_URL", "bss.example.com/sync", "is not an http(s) URL"),
    ],
)
def test_a_malformed_setting_is_named_with_its_fix(env, variable, value, fix):
    failed = [line for line in lines(env, **{variable: value}) if not line.startswith("PASS")]
    assert any(line.startswith(f"FAIL {variable}: ") and fix in line for line in failed), failed


def test_a_malformed_setting_skips_the_api_that_needs_it_and_says_why(env):
    out = lines(env, MIDA_REGION="moon")
    assert [line for line in out if line.startswith("SKIP")] == [
        "SKIP Mida API: not called until MIDA_REGION is fixed"
    ], out
    assert any(line.startswith("PASS BSS analytics API") for line in out)


def test_the_command_exits_non_zero_on_a_malformed_setting(env, doctor):
    status, failed, _, out = doctor(env, MIDA_TIMEZONE="Mars/Olympus")
    assert status != 0 and [line.split(":")[0] for line in failed] == ["FAIL MIDA_TIMEZONE"], out


def test_paths_that_cannot_be_written_or_opened_name_their_variable(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    notduck = tmp_path / "notduck" / "warehouse.duckdb"
    notduck.parent.mkdir()
    notduck.write_text("this is not a DuckDB file")
    failed = out = [
        line
        for line in lines(env, MIDA_LAKE_DIR=str(blocker / "lake"), MIDA_DUCKDB_PATH=str(notduck))
        if line.startswith("FAIL")
    ]
    assert any(
        line.startswith("FAIL lake:") and "point MIDA_LAKE_DIR at a folder you can write" in line for line in failed
    ), out
    assert any(
        line.startswith("FAIL warehouse:") and "point MIDA_DUCKDB_PATH at the warehouse" in line for line in failed
    ), out


def test_discovery_says_how_many_projects_it_finds(env, sandbox):
    found = [line for line in lines(env, MIDA_DISCOVER_PROJECTS="true") if "Mida project discovery" in line]
    active = sum(p["status"] == 1 for p in sandbox.data.projects(include_inactive=True))
    listed = len(sandbox.data.projects(include_inactive=True))
    assert f"PASS Mida project discovery: {active} active project(s) of {listed} in the company" in found[0], found


def test_discovery_through_a_paused_project_says_to_put_an_active_one_first(env, sandbox):
    paused = next(p["project_key"] for p in sandbox.data.projects(include_inactive=True) if p["status"] != 1)
    found = [
        line
        for line in lines(env, MIDA_DISCOVER_PROJECTS="true", MIDA_PROJECT_KEYS=paused)
        if "Mida project discovery" in line
    ]
    assert found[0].startswith("FAIL Mida project discovery") and "put an active project's key first" in found[0], found
