"""Mida parity, end to end over real sockets: every goal, the project's settings, the company's projects, segments,
and days cut in MIDA_TIMEZONE (sent as its hour offset) on both sides of a clock change.

The raw assets are materialized in process against the sandbox; the expected numbers come from the sandbox's own
data, computed at the offset the day should have been asked with.
"""

from datetime import date

import dagster as dg
import duckdb
import pytest

from mida_pipeline.defs.mida_assets import assets as mida_assets
from mida_pipeline.defs.resources import resources
from mida_pipeline.lake.catalog import refresh_raw_views
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer

pytestmark = pytest.mark.dagster

# Paris leaves summer time at 03:00 on 2026-10-25: that day begins at +2 like the 24th; the 26th begins at +1.
DAYS = {date(2026, 10, 24): 2.0, date(2026, 10, 25): 2.0, date(2026, 10, 26): 1.0}
TZ = "Europe/Paris"


def _env(monkeypatch, server, root, **extra):
    for name, value in {
        "MIDA_API_KEY": server.api_key,
        "MIDA_PROJECT_KEYS": ",".join(server.data.project_keys),
        "MIDA_API_BASE_URL": server.mida_base_url,
        "MIDA_LAKE_DIR": str(root / "lake"),
        "MIDA_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "MIDA_TIMEZONE": TZ,
        "MIDA_BREAKDOWNS": "device,user_type",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MIDA_REFUSE_LATE_CAPTURE", raising=False)


def _materialize(start: date, end: date) -> dg.ExecuteInProcessResult:
    tags = {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }
    return dg.materialize(mida_assets, resources=resources(), tags=tags, raise_on_error=False)


def _query(root, sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        refresh_raw_views(con, root / "lake")
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """Three days around Paris's autumn clock change, every raw Mida asset, in one run."""
    root = tmp_path_factory.mktemp("parity")
    with SandboxServer(
        SandboxConfig(seed=23, projects=3, experiments_per_project=6, today=date(2026, 12, 1))
    ) as server:
        with pytest.MonkeyPatch.context() as mp:
            _env(mp, server, root)
            result = _materialize(min(DAYS), max(DAYS))
        yield server, root, result


def test_every_asset_of_the_run_succeeds(synced):
    _, _, result = synced
    assert result.success


def test_every_goal_of_every_experiment_lands_once(synced):
    server, root, _ = synced
    data = server.data
    landed = set(
        _query(root, "SELECT project_key, test_id, goal_key, is_primary_goal FROM raw.mida_experiment_results")
    )
    expected = set()
    for pk in data.project_keys:
        for e in (data.experiment(pk, item["test_id"]) for item in data.experiments(pk)):
            if data.running_days(e) is None or e.created > max(DAYS):
                continue
            for g in data.experiment_goals(pk, e.test_id):
                expected.add((pk, e.test_id, g["goal_key"], g["is_primary"]))
    assert landed == expected
    assert any(not primary for *_, primary in landed), "the sandbox gives experiments secondary goals"
    # The primary goal is never fetched again as a secondary one.
    assert not _query(
        root,
        """SELECT project_key, test_id, goal_key FROM raw.mida_experiment_results
                               GROUP BY ALL HAVING count(DISTINCT is_primary_goal) > 1""",
    )


def test_each_day_is_cut_at_the_zones_offset_of_that_day(synced):
    server, root, _ = synced
    data = server.data
    rows = _query(
        root,
        """SELECT project_key, test_id, goal_key, variant_id, "window", date, visitors, conversions
                           FROM raw.mida_experiment_results""",
    )
    assert rows
    sensitive = 0
    for pk, test_id, goal_key, variant_id, window, day, visitors, conversions in rows:
        e = data.experiment(pk, test_id)
        start = day if window == "day" else data.running_days(e)[0]
        want = data.window(pk, test_id, variant_id, start, day, goal_key=goal_key, tz_offset=DAYS[day])
        assert (visitors, conversions) == (want.visitors, want.conversions), (
            pk,
            test_id,
            goal_key,
            variant_id,
            window,
            day,
        )
        wrong = data.window(pk, test_id, variant_id, start, day, goal_key=goal_key, tz_offset=0.0)
        sensitive += (wrong.visitors, wrong.conversions) != (visitors, conversions)
    assert sensitive > len(rows) / 2, "a wrong offset must give wrong numbers, or this test proves nothing"


def test_secondary_goals_have_their_own_numbers(synced):
    _, root, _ = synced
    differing = _query(
        root,
        """
        SELECT count(*) FROM raw.mida_experiment_results p JOIN raw.mida_experiment_results s
          ON p.project_key = s.project_key AND p.date = s.date AND p.test_id = s.test_id AND p.variant_id = s.variant_id
         AND p."window" = s."window" AND p.is_primary_goal AND NOT s.is_primary_goal
        WHERE p.conversions <> s.conversions""",
    )[0][0]
    assert differing > 0


def test_the_experiment_goals_snapshot_lists_primary_then_secondary_goals(synced):
    server, root, _ = synced
    data = server.data
    for pk in data.project_keys:
        for item in data.experiments(pk):
            want = {(g["goal_key"], g["is_primary"]) for g in data.experiment_goals(pk, item["test_id"])}
            got = set(
                _query(
                    root,
                    f"""SELECT goal_key, is_primary_goal FROM raw.mida_experiment_goals
                                      WHERE project_key = '{pk}' AND test_id = {item["test_id"]} AND date = DATE '2026-10-26'""",
                )
            )
            assert got == want, (pk, item["test_id"])


def test_each_projects_statistics_settings_land(synced):
    server, root, _ = synced
    got = {
        pk: (engine, tails, threshold)
        for pk, engine, tails, threshold in _query(
            root,
            "SELECT project_key, stats_engine, tails, confidence_threshold_percent FROM raw.mida_project_configuration "
            "WHERE date = DATE '2026-10-26'",
        )
    }
    for pk in server.data.project_keys:
        c = server.data.configuration(pk)
        tails = 1 if c["frequentist_type"] == "0" else 2
        assert got[pk] == (c["stats_engine"], tails, float(c["confidence_threshold_percent"]))
    assert {engine for engine, _, _ in got.values()} == {"bayesian", "frequentist"}


def test_the_company_projects_land_with_paused_ones_flagged(synced):
    server, root, _ = synced
    got = dict(_query(root, "SELECT project_key, is_active FROM raw.mida_projects WHERE date = DATE '2026-10-26'"))
    assert got == {p["project_key"]: p["status"] == 1 for p in server.data.projects(include_inactive=True)}
    assert False in got.values()


def test_segments_partition_the_cumulative_result(synced):
    server, root, _ = synced
    data = server.data
    rows = _query(
        root,
        """SELECT project_key, test_id, dimension, segment, variant_id, visitors, conversions
                           FROM raw.mida_experiment_result_segments WHERE date = DATE '2026-10-26'""",
    )
    assert {r[2] for r in rows} == {"device", "user_type"}
    for pk, test_id, dimension, segment, variant_id, visitors, conversions in rows:
        e = data.experiment(pk, test_id)
        want = data.breakdown(pk, test_id, dimension, data.running_days(e)[0], date(2026, 10, 26), tz_offset=1.0)
        assert (visitors, conversions) == (want[segment][variant_id].visitors, want[segment][variant_id].conversions)


def test_only_get_reaches_mida(synced):
    server, _, _ = synced
    methods = {m for m, path in server.requests if path.startswith("/v2/")}
    assert methods == {"GET"}


def test_discovery_syncs_a_project_added_between_runs_and_skips_paused_ones(tmp_path, monkeypatch):
    with SandboxServer(SandboxConfig(seed=5, projects=2, experiments_per_project=2, today=date(2026, 12, 1))) as server:
        first = server.data.project_keys[0]
        _env(monkeypatch, server, tmp_path, MIDA_PROJECT_KEYS=first, MIDA_DISCOVER_PROJECTS="true")
        day = date(2026, 11, 29)
        assert _materialize(day, day).success
        server.data.add_project("shop-new")
        assert _materialize(date(2026, 11, 30), date(2026, 11, 30)).success
        landed = {(pk, d) for pk, d in _query(tmp_path, "SELECT DISTINCT project_key, date FROM raw.mida_experiments")}
        assert landed == {(pk, day) for pk in server.data.project_keys} | {
            (pk, date(2026, 11, 30)) for pk in [*server.data.project_keys, "shop-new"]
        }
        paused = [p["project_key"] for p in server.data.projects(include_inactive=True) if p["status"] != 1]
        assert paused and not any(f"/project/{pk}/" in path for _, path in server.requests for pk in paused)
