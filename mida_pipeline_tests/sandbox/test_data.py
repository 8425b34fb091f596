"""The sandbox's world: deterministic, sized by knobs, and consistent between windows and days."""

from __future__ import annotations

import random
from datetime import date, timedelta

from mida_pipeline.sandbox.data import SandboxConfig, SandboxData

TODAY = date(2026, 11, 22)


def world(**knobs) -> SandboxData:
    return SandboxData(SandboxConfig(**{"seed": 3, "today": TODAY, **knobs}))


def test_the_same_seed_gives_the_same_world_and_another_seed_another():
    a, b, c = world(), world(), world(seed=4)
    pk = a.project_keys[0]
    test_id = a.experiments(pk)[0]["test_id"]
    assert a.experiments(pk) == b.experiments(pk)
    assert a.daily(pk, test_id, "0", TODAY - timedelta(days=3)) == b.daily(pk, test_id, "0", TODAY - timedelta(days=3))
    assert a.bss_day(TODAY) == b.bss_day(TODAY)
    assert a.experiments(pk) != c.experiments(pk) or a.bss_day(TODAY) != c.bss_day(TODAY)


def test_any_window_is_the_sum_of_its_days():
    data = world()
    rnd = random.Random(1)
    for pk in data.project_keys:
        for e in data.experiment_records(pk):
            span = data.running_days(e)
            if span is None:
                continue
            for _ in range(3):
                start = span[0] + timedelta(days=rnd.randint(-5, 30))
                end = start + timedelta(days=rnd.randint(0, 20))
                for vid in e.variant_ids:
                    window = data.window(pk, e.test_id, vid, start, end)
                    days = [
                        data.daily(pk, e.test_id, vid, start + timedelta(days=i)) for i in range((end - start).days + 1)
                    ]
                    assert window.visitors == sum(d.visitors for d in days)
                    assert window.conversions == sum(d.conversions for d in days)
                    assert window.orders == sum(d.orders for d in days)
                    assert abs(window.revenue - sum(d.revenue for d in days)) < 0.01 * len(days)


def test_at_least_400_days_of_history():
    data = world()
    assert (data.today - data.first_day).days >= 400
    oldest = min(e.created for pk in data.project_keys for e in data.experiment_records(pk))
    assert (data.today - oldest).days >= 400
    long_one = next(e for e in data.experiment_records(data.project_keys[0]) if (data.today - e.created).days >= 400)
    assert data.daily(long_one.project_key, long_one.test_id, "0", long_one.created).visitors > 0


def test_every_status_variant_count_and_special_case_is_present():
    data = world(experiments_per_project=8)
    experiments = [e for pk in data.project_keys for e in data.experiment_records(pk)]
    assert len(data.project_keys) >= 2
    assert {e.status for e in experiments} == {0, 1, 9}
    assert all(2 <= len(e.variant_ids) <= 5 for e in experiments)
    assert any(e.weights is None for e in experiments)  # a MAB
    assert any(e.paused_variant and e.status == 1 for e in experiments)
    assert any(e.revenue_goal for e in experiments) and any(not e.revenue_goal for e in experiments)
    assert any(not e.name.isascii() for e in experiments)
    assert any(e.ended for e in experiments if e.status == 0)  # completed ones
    assert any(g["goal_type"] == "revenue" for g in data.goals(data.project_keys[0]))


def test_size_knobs_scale_the_world():
    data = world(projects=12, experiments_per_project=30, events_per_project=700)
    assert len(data.project_keys) == len(set(data.project_keys)) == 12
    ids = [e["test_id"] for pk in data.project_keys for e in data.experiments(pk)]
    assert len(ids) == len(set(ids)) == 360
    assert len(data.events(data.project_keys[-1])) == 700


def test_a_draft_has_no_numbers():
    data = world()
    draft = next(e for pk in data.project_keys for e in data.experiment_records(pk) if e.status == 9)
    assert data.window(draft.project_key, draft.test_id, "0", data.first_day, TODAY).visitors == 0


def test_a_weekly_bss_total_is_the_sum_of_its_days():
    data = world()
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    week = data.bss(monday, monday + timedelta(days=6))
    days = [data.bss_day(monday + timedelta(days=i)) for i in range(7)]
    assert week["total_visitors"] == sum(d["total_visitors"] for d in days)
    assert week["traffic_sources"]["organic"] == sum(d["traffic_sources"]["organic"] for d in days)


def test_local_days_at_any_offset_add_up_to_their_window():
    data = world()
    rnd = random.Random(4)
    for e in data.experiment_records(data.project_keys[0]):
        span = data.running_days(e)
        if span is None:
            continue
        for tz in (1, 2, -5, 5.5, -9.5, 14):
            start = span[0] + timedelta(days=rnd.randint(-2, 20))
            days = [start + timedelta(days=i) for i in range(rnd.randint(1, 9))]
            for vid in e.variant_ids:
                whole = data.window(e.project_key, e.test_id, vid, days[0], days[-1], tz_offset=tz)
                parts = [data.daily(e.project_key, e.test_id, vid, d, tz_offset=tz) for d in days]
                assert whole.visitors == sum(p.visitors for p in parts)
                assert whole.conversions == sum(p.conversions for p in parts) and whole.orders == sum(
                    p.orders for p in parts
                )
                assert abs(whole.revenue - sum(p.revenue for p in parts)) < 0.01 * len(days)
                assert all(0 <= p.conversions <= p.visitors for p in parts)


def test_the_whole_history_is_the_same_at_every_offset_and_a_day_is_not():
    data = world()
    e = next(e for e in data.experiment_records(data.project_keys[0]) if e.status == 0)
    span = data.running_days(e)
    wide = (span[0] - timedelta(days=2), span[1] + timedelta(days=2))
    assert len({data.window(e.project_key, e.test_id, "0", *wide, tz_offset=tz) for tz in (0, 2, -5, 5.5)}) == 1
    days = [span[0] + timedelta(days=i) for i in range(2, 7)]
    by_offset = {tz: [data.daily(e.project_key, e.test_id, "0", d, tz_offset=tz) for d in days] for tz in (0, 1, 2)}
    assert by_offset[0] != by_offset[1] != by_offset[2] != by_offset[0]


def test_a_local_day_is_the_utc_instants_shifted_by_the_offset():
    # A local day D at offset h covers [D - h, D + 1 - h) in UTC: a whole day's shift is the neighbouring UTC day,
    # and D at +12 is the same instants as the day before at -12.
    data = world()
    e = data.experiment_records(data.project_keys[0])[1]
    day = data.running_days(e)[0] + timedelta(days=10)
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    for vid in e.variant_ids:

        def at(d, tz, last=None, vid=vid):
            return data.window(e.project_key, e.test_id, vid, d, last or d, tz_offset=tz)

        assert at(day, 0) == data.daily(e.project_key, e.test_id, vid, day)
        assert at(day, 24) == at(before, 0) and at(day, -24) == at(after, 0)
        assert at(day, 12) == at(before, -12) and at(day, 12, after) == at(before, -12, day)
        assert at(day, 12) != at(day, 0)


def test_every_experiment_has_its_primary_goal_first_and_some_have_secondary_ones():
    data = world()
    counts = []
    for pk in data.project_keys:
        keys = {g["goal_key"] for g in data.goals(pk)}
        for e in data.experiment_records(pk):
            goals = data.experiment_goals(pk, e.test_id)
            assert goals[0]["is_primary"] and goals[0]["goal_key"] == data.primary_goal(e)["goal_key"]
            assert len({g["goal_key"] for g in goals}) == len(goals) and {g["goal_key"] for g in goals} <= keys
            assert set(goals[0]) == {
                "goal_key",
                "goal_name",
                "goal_type",
                "goal_value",
                "goal_profile_id",
                "is_primary",
            }
            counts.append(len(goals) - 1)
    assert {0, 1, 2, 3} <= set(counts)


def test_a_variant_can_win_one_goal_and_lose_another():
    data = world()
    pk = data.project_keys[0]
    split = []
    for e in data.experiment_records(pk):
        span = data.running_days(e)
        if span is None or not e.secondary_goals:
            continue
        rates = {}
        for g in data.experiment_goals(pk, e.test_id):
            c = [data.window(pk, e.test_id, v, *span, goal_key=g["goal_key"]) for v in e.variant_ids[:2]]
            assert c[0].visitors == data.window(pk, e.test_id, "0", *span).visitors  # the same visitors for every goal
            rates[g["goal_key"]] = c[1].conversions / c[1].visitors > c[0].conversions / c[0].visitors
        split.append(len(set(rates.values())) == 2)
    assert any(split)


def test_revenue_belongs_to_revenue_goals_only():
    data = world()
    pk = data.project_keys[0]
    e = next(e for e in data.experiment_records(pk) if not e.revenue_goal and e.status != 9)
    span = data.running_days(e)
    assert data.window(pk, e.test_id, "0", *span).revenue == 0
    assert data.window(pk, e.test_id, "0", *span, goal_key="purchase").revenue > 0
    assert data.window(pk, e.test_id, "0", *span, goal_key="signup").revenue == 0


def test_breakdowns_partition_every_window_exactly():
    from mida_pipeline.sandbox.segments import DIMENSIONS

    data = world()
    pk = data.project_keys[1]
    for e in data.experiment_records(pk)[:4]:
        span = data.running_days(e)
        if span is None:
            continue
        for dimension in DIMENSIONS:
            for goal in data.experiment_goals(pk, e.test_id):
                split = data.breakdown(
                    pk,
                    e.test_id,
                    dimension,
                    span[0],
                    span[0] + timedelta(days=3),
                    goal_key=goal["goal_key"],
                    tz_offset=5.5,
                )
                assert list(split) == [value for value, _ in DIMENSIONS[dimension]]
                for vid in e.variant_ids:
                    whole = data.window(
                        pk,
                        e.test_id,
                        vid,
                        span[0],
                        span[0] + timedelta(days=3),
                        goal_key=goal["goal_key"],
                        tz_offset=5.5,
                    )
                    cells = [split[s][vid] for s in split]
                    assert sum(c.visitors for c in cells) == whole.visitors
                    assert sum(c.conversions for c in cells) == whole.conversions
                    assert sum(c.orders for c in cells) == whole.orders
                    assert round(sum(c.revenue for c in cells), 2) == whole.revenue
                    assert all(0 <= c.conversions <= c.visitors for c in cells)


def test_projects_the_company_lists_and_a_project_added_later():
    data = world(projects=3)
    assert [p["project_key"] for p in data.projects()] == data.project_keys
    assert [p["status"] for p in data.projects(include_inactive=True)] == [1, 1, 1, 0]
    added = data.add_project("shop-late")
    assert added["status"] == 1 and data.projects()[-1] == added and "shop-late" not in data.project_keys
    assert data.experiments("shop-late") and data.configuration("shop-late")["stats_engine"] in (
        "bayesian",
        "frequentist",
    )
    assert world(projects=3, inactive_projects=0).projects(include_inactive=True) == world(projects=3).projects()


def test_configuration_alternates_engines_and_tails_by_project():
    data = world(projects=4)
    settings = [(c["stats_engine"], c["frequentist_type"]) for c in map(data.configuration, data.project_keys)]
    assert set(settings) == {("frequentist", "0"), ("bayesian", "2"), ("frequentist", "2"), ("bayesian", "0")}


def test_a_stalled_live_experiment_gets_no_visitors_in_its_last_closed_days():
    data = world()
    stalled = [e for pk in data.project_keys for e in data.experiment_records(pk) if e.stalled]
    assert stalled and all(e.status == 1 for e in stalled)
    for e in stalled:
        before = TODAY - timedelta(days=4)
        for vid in e.variant_ids:
            assert all(
                data.daily(e.project_key, e.test_id, vid, TODAY - timedelta(days=k)).visitors == 0 for k in (1, 2, 3)
            )
        assert sum(data.daily(e.project_key, e.test_id, vid, before).visitors for vid in e.variant_ids) > 0
