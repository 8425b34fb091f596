"""Timeseries extraction: one call per experiment and goal for the run's whole range (one per offset stretch when
the range crosses a daylight-saving change), every day of the range its own partition holding the sandbox's numbers
for that day, the revenue moments where the goal has revenue and null elsewhere, and a failing project leaving its
partitions as they were while the other projects land."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from mida_pipeline import days as cal
from mida_pipeline.extract.mida import MAX_STRETCH_DAYS, extract_timeseries, offset_stretches
from mida_pipeline.lake.writer import read_partition
from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import AsyncMidaClient, RetryPolicy

TABLE = "mida_experiment_timeseries"
# A fixed "today", so the sandbox's world (and the daylight-saving range below, inside its history) never moves.
TODAY = date(2026, 6, 1)
YESTERDAY = TODAY - timedelta(days=1)
CAPTURED_AT = datetime(2026, 6, 1, 3, tzinfo=timezone.utc)
PARIS = "Europe/Paris"
# Paris moves from UTC+1 to UTC+2 in the night of Sunday 29 March 2026: the 29th starts at +1, the 30th at +2.
WINTER = list(cal.days(date(2026, 3, 25), date(2026, 3, 29)))
SUMMER = list(cal.days(date(2026, 3, 30), date(2026, 4, 5)))
# Tiny backoffs and a sleep that returns at once: a refused call's retries cost no time.
FAST = RetryPolicy(attempts=3, server_error_attempts=2, backoff_base=0.001, backoff_cap=0.01, retry_after_cap=1.0)
MOMENTS = ("sum_sq_revenue", "sum_sq_orders", "sum_revenue_orders_cross")


class TimeseriesQueries:
    """ASGI wrapper: the path and query of every `/timeseries` call the sandbox was sent."""

    def __init__(self, app):
        self.app, self.seen = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith("/timeseries"):
            self.seen.append((scope["path"], dict(parse_qsl(scope["query_string"].decode()))))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served():
    """8 experiments per project, so every kind occurs: a draft, revenue and other primary goals, a secondary metric
    that is the primary again, a deleted goal `/metrics` skips, numeric and text variant ids."""
    server = SandboxServer(SandboxConfig(seed=17, projects=2, experiments_per_project=8, today=TODAY))
    queries = server.wrap(TimeseriesQueries)  # before the server starts
    with server:
        yield server, queries


@pytest.fixture
def sandbox(served):
    server, queries = served
    server.faults.clear()
    server.requests.clear()
    queries.seen.clear()
    return server


@pytest.fixture
def queries(served, sandbox):
    return served[1]


def extract(sandbox, lake: Path, project_keys, days: list[date], tz: str = "UTC"):
    async def run():
        async def no_wait(seconds: float) -> None:
            pass

        async with AsyncMidaClient(
            sandbox.api_key, base_url=sandbox.mida_base_url, retry=FAST, timeout=30.0, sleep=no_wait
        ) as client:
            return await extract_timeseries(client, lake, list(project_keys), days, tz, CAPTURED_AT)

    return asyncio.run(run())


def get_result(sandbox, pk: str, test_id: int, first: date, last: date, goal_key: str | None):
    async def run():
        async with AsyncMidaClient(sandbox.api_key, base_url=sandbox.mida_base_url, retry=FAST) as client:
            return await client.get_result(pk, test_id, start_date=first, end_date=last, tz=0, goal_key=goal_key)

    return asyncio.run(run())


def with_results(data, pk: str, last: date) -> list:
    """The experiments that can have results by `last` (in UTC): not drafts, created by then."""
    return [e for e in data.experiment_records(pk) if e.status != 9 and e.created <= last]


def landed(lake: Path, pk: str, days) -> dict[date, list[dict]]:
    """Each day's rows as the lake holds them; a day never written is missing."""
    out = {}
    for day in days:
        table = read_partition(lake, TABLE, day, pk)
        if table is not None:
            out[day] = table.to_pylist()
    return out


def expected_rows(data, pk: str, days, tz_offset_of) -> dict[tuple, tuple[int, int]]:
    """(day, test_id, goal_key, variant_id) -> (visitors, conversions), from the sandbox's daily truth: every goal of
    every experiment with results, on each of its running days inside `days`."""
    out = {}
    for e in with_results(data, pk, max(days)):
        first, last = data.running_days(e)
        for goal in data.experiment_goals(pk, e.test_id):
            for day in days:
                if not first <= day <= last:
                    continue
                for vid in e.variant_ids:
                    c = data.daily(pk, e.test_id, vid, day, goal_key=goal["goal_key"], tz_offset=tz_offset_of(day))
                    out[(day, e.test_id, goal["goal_key"], vid)] = (c.visitors, c.conversions)
    return out


def as_found(rows_by_day: dict[date, list[dict]]) -> dict[tuple, tuple[int, int]]:
    return {
        (day, r["test_id"], r["goal_key"], r["variant_id"]): (r["visitors"], r["conversions"])
        for day, day_rows in rows_by_day.items()
        for r in day_rows
    }


def snapshot_files(lake: Path, pk: str) -> dict[str, tuple[bytes, int]]:
    """Every file under a project's folders of the table (temporaries included), with its bytes and mtime."""
    root = lake / TABLE / f"project_key={pk}"
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


# 1. One call per experiment and goal for the run's whole range.


@pytest.mark.parametrize("n_days", [90, 1])
def test_one_call_per_experiment_and_goal_for_the_whole_range_whatever_its_length(sandbox, tmp_path, n_days):
    data, pk = sandbox.data, sandbox.data.project_keys[0]
    days = list(cal.days(YESTERDAY - timedelta(days=n_days - 1), YESTERDAY))
    outcome = extract(sandbox, tmp_path / "lake", [pk], days)
    assert outcome.errors == {}

    experiments = with_results(data, pk, YESTERDAY)
    called = Counter(path for _, path in sandbox.requests)
    timeseries = sum(n for path, n in called.items() if path.endswith("/timeseries"))
    assert timeseries == sum(len(data.experiment_goals(pk, e.test_id)) for e in experiments)
    for e in experiments:
        base = f"/v2/project/{pk}/experiment/{e.test_id}"
        assert called[f"{base}/metrics"] == 1
        assert called[f"{base}/timeseries"] == len(data.experiment_goals(pk, e.test_id))
    asked = {int(path.split("/")[-2]) for path in called if path.endswith(("/timeseries", "/metrics"))}
    assert asked == {e.test_id for e in experiments}  # a draft, or a test created after the range, is never asked


def test_a_secondary_metric_that_is_the_primary_goal_is_not_asked_twice(sandbox, tmp_path, queries):
    data, pk = sandbox.data, sandbox.data.project_keys[0]
    # The sandbox attaches the primary goal again as a metric of its fourth experiment.
    (twice,) = [
        e for e in data.experiment_records(pk) if data.primary_goal(e)["goal_key"] in data.metric_keys(pk, e.test_id)
    ]
    extract(sandbox, tmp_path / "lake", [pk], [YESTERDAY])
    asked = [q.get("goal_key") for path, q in queries.seen if f"/experiment/{twice.test_id}/" in path]
    assert sorted(asked, key=str) == sorted([None, *twice.secondary_goals], key=str)  # the primary asked without a goal


# 2. Each day of the range its own partition, holding the sandbox's numbers for that day.


def test_each_day_lands_as_its_own_partition_with_the_days_numbers_of_every_goal(sandbox, tmp_path):
    data, lake = sandbox.data, tmp_path / "lake"
    days = list(cal.days(YESTERDAY - timedelta(days=89), YESTERDAY))
    outcome = extract(sandbox, lake, data.project_keys, days)
    assert outcome.errors == {} and outcome.partitions == len(days) * len(data.project_keys)

    # Every file of the projects' folders, temporaries included: one part.parquet per project and day, nothing else.
    files = {p.relative_to(lake).as_posix() for p in lake.glob(f"{TABLE}/project_key=*/**/*") if p.is_file()}
    assert files == {
        f"{TABLE}/project_key={pk}/date={day.isoformat()}/part.parquet" for pk in data.project_keys for day in days
    }
    for pk in data.project_keys:
        by_day = landed(lake, pk, days)
        assert all(r["date"] == day and r["project_key"] == pk for day, rows in by_day.items() for r in rows)
        assert as_found(by_day) == expected_rows(data, pk, days, lambda day: 0.0)
        primary = {e.test_id: data.primary_goal(e)["goal_key"] for e in data.experiment_records(pk)}
        assert all(
            r["is_primary_goal"] == (r["goal_key"] == primary[r["test_id"]]) for rows in by_day.values() for r in rows
        )


def test_a_variants_rows_summed_over_the_range_are_its_result_for_the_range(sandbox, tmp_path):
    """`conversion` is what `/result` counts as `conversions`: the days add up to the range's result, per goal."""
    data, lake, pk = sandbox.data, tmp_path / "lake", sandbox.data.project_keys[1]
    first, last = YESTERDAY - timedelta(days=29), YESTERDAY
    extract(sandbox, lake, [pk], list(cal.days(first, last)))

    summed: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for rows in landed(lake, pk, cal.days(first, last)).values():
        for r in rows:
            totals = summed[(r["test_id"], r["goal_key"], r["variant_id"])]
            totals[0] += r["visitors"]
            totals[1] += r["conversions"]
    compared = 0
    for e in with_results(data, pk, last):
        for goal in data.experiment_goals(pk, e.test_id):
            result = get_result(sandbox, pk, e.test_id, first, last, goal["goal_key"])
            for v in result.variants:
                assert summed.get((e.test_id, goal["goal_key"], v.variant_id), [0, 0]) == [v.visitors, v.conversions]
                compared += v.visitors > 0
    assert compared  # some experiment ran in the range: the comparison is not between zeros


# 3. The revenue moments: carried by revenue goals, null (never 0) elsewhere.


def test_revenue_goals_carry_the_moments_and_other_goals_have_them_null(sandbox, tmp_path):
    data, lake = sandbox.data, tmp_path / "lake"
    days = list(cal.days(YESTERDAY - timedelta(days=13), YESTERDAY))
    extract(sandbox, lake, data.project_keys, days)

    rows = [r for pk in data.project_keys for day_rows in landed(lake, pk, days).values() for r in day_rows]
    revenue = [r for r in rows if r["goal_type"] == "revenue"]
    other = [r for r in rows if r["goal_type"] != "revenue"]
    assert revenue and other
    assert {r["is_primary_goal"] for r in revenue} == {True, False}  # a revenue goal as primary and as secondary
    assert all(r[m] is not None for r in revenue for m in MOMENTS)
    assert all(r[m] is None for r in other for m in MOMENTS)
    # A visitor's revenue squared sums to at least the day's revenue squared over its buyers (Cauchy-Schwarz).
    assert all(r["sum_sq_revenue"] * r["orders"] >= r["revenue"] ** 2 * (1 - 1e-9) for r in revenue)


# 4. A range crossing a daylight-saving change: one call per offset stretch, each sending its own offset.


def test_a_range_crossing_a_daylight_saving_change_is_two_stretches_with_their_offsets():
    assert offset_stretches([*WINTER, *SUMMER], PARIS) == [(WINTER[0], WINTER[-1], 1.0), (SUMMER[0], SUMMER[-1], 2.0)]


def test_a_range_without_a_change_is_one_stretch_whatever_its_order_or_length():
    days = list(cal.days(YESTERDAY - timedelta(days=89), YESTERDAY))
    assert offset_stretches(days[::-1], "UTC") == [(days[0], days[-1], 0.0)]
    assert offset_stretches(SUMMER, PARIS) == [(SUMMER[0], SUMMER[-1], 2.0)]


def test_a_range_longer_than_a_quarter_is_asked_a_quarter_at_a_time():
    """A year's backfill holds a quarter of a project's rows at a time; a 90-day one is still one call."""
    days = list(cal.days(date(2025, 1, 1), date(2025, 7, 19)))  # 200 days of UTC
    assert offset_stretches(days, "UTC") == [
        (date(2025, 1, 1), date(2025, 4, 2), 0.0),
        (date(2025, 4, 3), date(2025, 7, 3), 0.0),
        (date(2025, 7, 4), date(2025, 7, 19), 0.0),
    ]
    assert all((last - first).days + 1 <= MAX_STRETCH_DAYS for first, last, _ in offset_stretches(days, "UTC"))


def test_a_skipped_day_splits_a_stretch():
    days = [date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 7), date(2026, 5, 8)]
    assert offset_stretches(days, PARIS) == [
        (date(2026, 5, 4), date(2026, 5, 5), 2.0),
        (date(2026, 5, 7), date(2026, 5, 8), 2.0),
    ]


def test_each_experiment_and_goal_is_asked_once_per_stretch_with_the_stretchs_offset(sandbox, tmp_path, queries):
    data, lake, pk = sandbox.data, tmp_path / "lake", sandbox.data.project_keys[0]
    days = [*WINTER, *SUMMER]
    extract(sandbox, lake, [pk], days, tz=PARIS)

    asked: dict[tuple, list[tuple]] = defaultdict(list)
    for path, q in queries.seen:
        test_id = int(path.split("/")[-2])
        asked[(test_id, q.get("goal_key"))].append((q["start_date"], q["end_date"], q["tz"]))
    stretches = [("2026-03-25", "2026-03-29", "1"), ("2026-03-30", "2026-04-05", "2")]
    experiments = with_results(data, pk, days[-1])
    assert set(asked) == {
        (e.test_id, None if g["is_primary"] else g["goal_key"])
        for e in experiments
        for g in data.experiment_goals(pk, e.test_id)
    }
    assert all(sorted(calls) == stretches for calls in asked.values())
    # Each local day holds the numbers of its own offset: the 29th at +1, the 30th at +2.
    offset = {day: 1.0 for day in WINTER} | {day: 2.0 for day in SUMMER}
    assert as_found(landed(lake, pk, days)) == expected_rows(data, pk, days, offset.get)


# 5. A failing project: its partitions as they were, the other projects landed, the project named.


def test_a_failing_project_keeps_its_earlier_partitions_and_the_others_land(sandbox, tmp_path):
    data, lake = sandbox.data, tmp_path / "lake"
    failing, fine = data.project_keys
    earlier = list(cal.days(YESTERDAY - timedelta(days=6), YESTERDAY - timedelta(days=3)))
    assert extract(sandbox, lake, data.project_keys, earlier).errors == {}
    kept = snapshot_files(lake, failing)
    assert len(kept) == len(earlier)

    # Every timeseries call of one project refused, as when Mida fails on it; the run overlaps the earlier days.
    sandbox.faults.add(f"/v2/project/{failing}/experiment/*/timeseries", "status", status=500, message="Boom")
    days = list(cal.days(YESTERDAY - timedelta(days=4), YESTERDAY))
    outcome = extract(sandbox, lake, data.project_keys, days)

    assert list(outcome.errors) == [failing] and "500" in outcome.errors[failing]
    assert snapshot_files(lake, failing) == kept  # the same files, byte for byte, untouched; no new or partial file
    assert sorted(landed(lake, fine, days)) == days
    assert as_found(landed(lake, fine, days)) == expected_rows(data, fine, days, lambda day: 0.0)
    assert outcome.partitions == len(days) and outcome.rows_by_project[TABLE].keys() == {fine}
