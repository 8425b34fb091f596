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
        for e in data._experiments(pk):
            span = data.running_days(e)
            if span is None:
                continue
            for _ in range(3):
                start = span[0] + timedelta(days=rnd.randint(-5, 30))
                end = start + timedelta(days=rnd.randint(0, 20))
                for vid in e.variant_ids:
                    window = data.window(pk, e.test_id, vid, start, end)
                    days = [data.daily(pk, e.test_id, vid, start + timedelta(days=i)) for i in range((end - start).days + 1)]
                    assert window.visitors == sum(d.visitors for d in days)
                    assert window.conversions == sum(d.conversions for d in days)
                    assert window.orders == sum(d.orders for d in days)
                    assert abs(window.revenue - sum(d.revenue for d in days)) < 0.01 * len(days)


def test_at_least_400_days_of_history():
    data = world()
    assert (data.today - data.first_day).days >= 400
    oldest = min(e.created for pk in data.project_keys for e in data._experiments(pk))
    assert (data.today - oldest).days >= 400
    long_one = next(e for e in data._experiments(data.project_keys[0]) if (data.today - e.created).days >= 400)
    assert data.daily(long_one.project_key, long_one.test_id, "0", long_one.created).visitors > 0


def test_every_status_variant_count_and_special_case_is_present():
    data = world(experiments_per_project=8)
    experiments = [e for pk in data.project_keys for e in data._experiments(pk)]
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
    draft = next(e for pk in data.project_keys for e in data._experiments(pk) if e.status == 9)
    assert data.window(draft.project_key, draft.test_id, "0", data.first_day, TODAY).visitors == 0


def test_a_weekly_bss_total_is_the_sum_of_its_days():
    data = world()
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    week = data.bss(monday, monday + timedelta(days=6))
    days = [data.bss_day(monday + timedelta(days=i)) for i in range(7)]
    assert week["total_visitors"] == sum(d["total_visitors"] for d in days)
    assert week["traffic_sources"]["organic"] == sum(d["traffic_sources"]["organic"] for d in days)
