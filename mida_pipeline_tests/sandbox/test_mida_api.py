"""The Mida routes over a real socket, as the vendor's docs describe them: hour offsets, every goal, metrics,
distribution and segments, in the documented shapes and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mida_pipeline.sandbox.data import DELETED_GOAL
from mida_pipeline_tests.sandbox import documented
from mida_pipeline_tests.sandbox.documented import shape_mismatches


def path(pk: str, rest: str) -> str:
    return f"/v2/project/{pk}{rest}"


def experiment(data, *, revenue: bool | None = None, secondaries: int = 0, running_days: int = 10):
    """The first experiment of the first project that ran long enough and has what is asked."""
    pk = data.project_keys[0]
    for e in data.experiment_records(pk):
        span = data.running_days(e)
        if (
            span
            and (span[1] - span[0]).days >= running_days
            and len(e.secondary_goals) >= secondaries
            and (revenue is None or e.revenue_goal == revenue)
        ):
            return e
    raise AssertionError("the sandbox world has no such experiment")


def totals(body: dict) -> tuple[int, int]:
    return body["total_visitors"], body["total_conversions"]


@pytest.mark.parametrize("route", ["result", "metrics", "timeseries"])
@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC", "+02:00", "nan", "99"])
def test_tz_is_an_hour_offset_and_anything_else_is_400(server, http, route, zone):
    e = experiment(server.data)
    answer = http.get(path(e.project_key, f"/experiment/{e.test_id}/{route}"), params={"tz": zone})
    assert answer.status_code == 400
    body = answer.json()
    assert body["success"] is False and "tz" in body["error"]


@pytest.mark.parametrize("route", ["result", "metrics", "timeseries"])
def test_numeric_offsets_are_accepted_whole_fractional_or_negative(server, http, route):
    e = experiment(server.data)
    for tz in ("0", "2", "-5", "5.5"):
        assert http.get(path(e.project_key, f"/experiment/{e.test_id}/{route}"), params={"tz": tz}).status_code == 200


def test_a_local_day_has_its_own_numbers_and_consecutive_local_days_add_up(server, http):
    data = server.data
    e = experiment(data, running_days=30)
    url = path(e.project_key, f"/experiment/{e.test_id}/result")
    first = data.running_days(e)[0] + timedelta(days=10)
    days = [first + timedelta(days=i) for i in range(5)]

    def day(d, tz):
        return http.get(url, params={"start_date": d.isoformat(), "end_date": d.isoformat(), "tz": tz}).json()

    assert [totals(day(d, 2)) for d in days] != [totals(day(d, 1)) for d in days]
    for tz in (0, 2, -5, 5.5):
        whole = http.get(
            url, params={"start_date": days[0].isoformat(), "end_date": days[-1].isoformat(), "tz": tz}
        ).json()
        parts = [day(d, tz) for d in days]
        assert totals(whole) == tuple(map(sum, zip(*(totals(p) for p in parts), strict=True)))
        # What the server says is what SandboxData says, so other tests can compute their expectations offline.
        assert (
            parts[0]["variants"][0]["visitors"]
            == data.daily(e.project_key, e.test_id, "0", days[0], tz_offset=tz).visitors
        )


def test_timeseries_rows_follow_the_offset(server, http):
    data = server.data
    e = experiment(data, running_days=30)
    d = data.running_days(e)[0] + timedelta(days=12)
    rows = http.get(
        path(e.project_key, f"/experiment/{e.test_id}/timeseries"),
        params={"start_date": d.isoformat(), "end_date": d.isoformat(), "tz": "-5"},
    ).json()["timeseries"]
    assert {str(row["variant_id"]) for row in rows} == set(e.variant_ids)
    assert [row["visitors"] for row in rows] == [
        data.daily(e.project_key, e.test_id, v, d, tz_offset=-5).visitors for v in e.variant_ids
    ]


def test_timeseries_has_the_documented_shape_and_its_rows_add_up_to_the_result_of_the_range(server, http):
    data = server.data
    e = experiment(data, revenue=True, running_days=20)
    first = data.running_days(e)[0] + timedelta(days=3)
    window = {"start_date": first.isoformat(), "end_date": (first + timedelta(days=9)).isoformat(), "tz": "2"}
    body = http.get(path(e.project_key, f"/experiment/{e.test_id}/timeseries"), params=window).json()
    goal = body.pop("goal", None) or body.pop("selected_goal")  # the docs name it either way; the sandbox alternates
    assert shape_mismatches({**body, "goal": goal}, documented.TIMESERIES) == []
    assert body["count"] == len(body["timeseries"]) == 10 * len(e.variant_ids)
    assert all(
        set(row) == {*documented.TIMESERIES_ROW_FIELDS, *documented.TIMESERIES_REVENUE_FIELDS[:3]}
        for row in body["timeseries"]
    )
    result = http.get(path(e.project_key, f"/experiment/{e.test_id}/result"), params=window).json()
    for v in result["variants"]:
        rows = [row for row in body["timeseries"] if str(row["variant_id"]) == v["variant_id"]]
        # `conversion` is what /result counts as conversions; `converted` the events, never fewer.
        assert sum(row["conversion"] for row in rows) == v["conversions"]
        assert all(row["converted"] >= row["conversion"] for row in rows)
        assert sum(row["visitors"] for row in rows) == v["visitors"]
        assert sum(row["no_of_order"] for row in rows) == v["orders"]
        assert sum(row["revenue"] for row in rows) == pytest.approx(v["revenue"], abs=0.01 * len(rows))


def test_timeseries_moments_are_those_of_a_population_of_buyers(server, http):
    """One order per buying visitor, their order values spread: the sums of squares lie between the evenly spread and
    the all-in-one-order bounds, and the cross product is the revenue."""
    data = server.data
    e = experiment(data, revenue=True, running_days=20)
    rows = http.get(path(e.project_key, f"/experiment/{e.test_id}/timeseries")).json()["timeseries"]
    bought = [row for row in rows if row["no_of_order"] > 1]
    assert bought
    for row in bought:
        orders, revenue = row["no_of_order"], row["revenue"]
        assert revenue**2 / orders < row["sum_sq_revenue"] < revenue**2
        assert row["sum_sq_orders"] == orders and row["sum_revenue_orders_cross"] == pytest.approx(revenue)
    plain = experiment(data, revenue=False)
    goal = {"goal_key": "signup"}
    rows = http.get(path(plain.project_key, f"/experiment/{plain.test_id}/timeseries"), params=goal).json()
    assert rows["timeseries"] and not any(
        key in row for row in rows["timeseries"] for key in documented.TIMESERIES_REVENUE_FIELDS
    )


def test_a_secondary_goal_has_its_own_conversions_over_the_same_visitors(server, http):
    data = server.data
    e = experiment(data, secondaries=1)
    url = path(e.project_key, f"/experiment/{e.test_id}/result")
    goals = data.experiment_goals(e.project_key, e.test_id)
    assert goals[0]["is_primary"] and not any(g["is_primary"] for g in goals[1:])
    primary = http.get(url).json()
    for goal in goals[1:]:
        body = http.get(url, params={"goal_key": goal["goal_key"]}).json()
        assert body["selected_goal"]["goal_key"] == goal["goal_key"] and body["selected_goal"]["is_primary"] is False
        assert body["primary_goal"] == primary["primary_goal"]  # the experiment's primary goal, whatever was asked
        assert [v["visitors"] for v in body["variants"]] == [v["visitors"] for v in primary["variants"]]
        assert [v["conversions"] for v in body["variants"]] != [v["conversions"] for v in primary["variants"]]
        assert body["has_revenue"] is (goal["goal_type"] == "revenue")
        assert ("total_revenue" in body) is body["has_revenue"]
        by_id = http.get(url, params={"goal_profile_id": goal["goal_profile_id"]}).json()
        assert by_id["variants"] == body["variants"]
    assert (
        primary["selected_goal"]["is_primary"] is True and primary["selected_goal"]["goal_key"] == goals[0]["goal_key"]
    )


def test_an_unknown_goal_is_404(server, http):
    e = experiment(server.data)
    url = path(e.project_key, f"/experiment/{e.test_id}/result")
    for params in ({"goal_key": "nope"}, {"goal_profile_id": "999999"}):
        answer = http.get(url, params=params)
        assert answer.status_code == 404 and answer.json() == {"success": False, "error": "Goal not found"}


def test_a_result_has_the_documented_shape(server, http):
    e = experiment(server.data, revenue=True)
    body = http.get(path(e.project_key, f"/experiment/{e.test_id}/result")).json()
    assert shape_mismatches(body, documented.RESULT) == []
    assert body["stats_engine"] in ("bayesian", "frequentist")


def test_metrics_list_the_secondary_goals_with_visitors_and_conversions(server, http):
    data = server.data
    e = experiment(data, secondaries=2)
    url = path(e.project_key, f"/experiment/{e.test_id}/metrics")
    body = http.get(url).json()
    assert shape_mismatches(body, documented.METRICS) == []
    secondary = [g["goal_key"] for g in data.experiment_goals(e.project_key, e.test_id)[1:]]
    keys = [d["metric_key"] for d in body["metric_definitions"]]
    assert (
        keys[: len(secondary)] == secondary
        and body["metric_count"] == len(keys)
        and body["count"] == len(body["metrics"])
    )
    assert all(d["goal"]["goal_key"] == d["metric_key"] for d in body["metric_definitions"])
    for n, key in enumerate(keys, 1):
        per_goal = http.get(path(e.project_key, f"/experiment/{e.test_id}/result"), params={"goal_key": key}).json()
        assert [row[f"result_{n}"] for row in body["metrics"]] == [v["conversions"] for v in per_goal["variants"]]
        assert [row["total"] for row in body["metrics"]] == [v["visitors"] for v in per_goal["variants"]]
    assert not any("conversion_rate" in row for row in body["metrics"])  # documented: no synthesised rates
    chosen = http.get(url, params={"goal_keys": f"{secondary[0]},nope"}).json()
    assert [d["metric_key"] for d in chosen["metric_definitions"]] == [secondary[0]] and chosen["warnings"]


def test_one_experiment_per_project_repeats_its_primary_goal_and_one_warns_of_a_deleted_goal(server, http):
    data = server.data
    for pk in data.project_keys:
        repeats, warned = [], []
        for e in data.experiment_records(pk):
            body = http.get(path(pk, f"/experiment/{e.test_id}/metrics")).json()
            keys = [d["metric_key"] for d in body["metric_definitions"]]
            assert keys == [k for k in data.metric_keys(pk, e.test_id) if k != DELETED_GOAL]
            if data.primary_goal(e)["goal_key"] in keys:
                repeats.append(e.test_id)
            if body.get("warnings"):
                assert DELETED_GOAL in body["warnings"][0] and DELETED_GOAL not in keys
                warned.append(e.test_id)
        assert len(repeats) == 1 and len(warned) == 1, pk


def test_metrics_refuse_breakdown_by_and_follow_the_offset(server, http):
    e = experiment(server.data, secondaries=1, running_days=20)
    url = path(e.project_key, f"/experiment/{e.test_id}/metrics")
    answer = http.get(url, params={"breakdown_by": "device"})
    assert answer.status_code == 400 and answer.json()["success"] is False
    d = server.data.running_days(e)[0] + timedelta(days=5)
    one_day = {"start_date": d.isoformat(), "end_date": d.isoformat()}
    row = http.get(url, params={**one_day, "tz": "5.5"}).json()["metrics"][0]
    assert row["total"] == server.data.daily(e.project_key, e.test_id, "0", d, tz_offset=5.5).visitors


def test_distribution_is_the_configured_split(server, http):
    data = server.data
    for e in data.experiment_records(data.project_keys[0]):
        body = http.get(path(e.project_key, f"/experiment/{e.test_id}/distribution")).json()
        assert shape_mismatches(body, documented.DISTRIBUTION) == []
        result = http.get(path(e.project_key, f"/experiment/{e.test_id}/result")).json()
        for key in ("traffic_allocation", "distribution_mode", "is_mab"):
            assert body[key] == result[key]
        assert [(v["variant_id"], v["traffic_weight"], v["variant_status"]) for v in body["variants"]] == [
            (v["variant_id"], v["traffic_weight"], v["variant_status"]) for v in result["variants"]
        ]
        if body["is_mab"]:
            assert all(v["traffic_weight"] is None for v in body["variants"])
        else:
            assert abs(sum(v["traffic_weight"] for v in body["variants"]) - 100) < 0.05


@pytest.mark.parametrize("dimension", documented.BREAKDOWN_DIMENSIONS)
def test_breakdowns_partition_the_result_exactly(server, http, dimension):
    e = experiment(server.data, revenue=True, running_days=20)
    body = http.get(
        path(e.project_key, f"/experiment/{e.test_id}/result"), params={"breakdown_by": dimension, "tz": "2"}
    ).json()
    assert body["breakdown_by"] == dimension and len(body["breakdowns"]) >= 2
    assert sum(b["total_visitors"] for b in body["breakdowns"]) == body["total_visitors"]
    assert sum(b["total_conversions"] for b in body["breakdowns"]) == body["total_conversions"]
    assert round(sum(b.get("total_revenue", 0) for b in body["breakdowns"]), 2) == body["total_revenue"]
    for k, variant in enumerate(body["variants"]):
        cells = [b["variants"][k] for b in body["breakdowns"]]
        assert {c["variant_id"] for c in cells} == {variant["variant_id"]}
        for field in ("visitors", "conversions", "orders"):
            assert sum(c.get(field, 0) for c in cells) == variant[field], field
        assert round(sum(c.get("revenue", 0) for c in cells), 2) == variant["revenue"]
        assert all(c["conversions"] <= c["visitors"] for c in cells)
    for item in body["breakdowns"]:
        assert {"criteria", "total_visitors", "total_conversions", "conversion_rate", "variants"} <= set(item)
        if item.get("has_revenue"):
            assert {"total_revenue", "total_orders", "rpv", "aov", "currency"} <= set(item)
        assert "improvement" not in item["variants"][0] and all(
            "improvement" in v for v in item["variants"][1:] if item["variants"][0]["conversions"]
        )


def test_a_variant_wins_on_one_device_and_loses_on_another(server, http):
    e = experiment(server.data, running_days=60)
    body = http.get(path(e.project_key, f"/experiment/{e.test_id}/result"), params={"breakdown_by": "device"}).json()
    lifts = {b["criteria"]: b["variants"][1]["improvement"] for b in body["breakdowns"]}
    assert lifts["desktop"] * lifts["mobile"] < 0


def test_breakdowns_of_a_goal_without_revenue_carry_no_revenue_keys(server, http):
    e = experiment(server.data, revenue=False, running_days=20)
    body = http.get(path(e.project_key, f"/experiment/{e.test_id}/result"), params={"breakdown_by": "country"}).json()
    assert not any({"has_revenue", "total_revenue"} & set(b) for b in body["breakdowns"])
    assert not any("revenue" in v for b in body["breakdowns"] for v in b["variants"])


@pytest.mark.parametrize("dimension", ["hourofday", "DEVICE", "", "utm_id"])
def test_an_undocumented_breakdown_is_400(server, http, dimension):
    e = experiment(server.data)
    answer = http.get(path(e.project_key, f"/experiment/{e.test_id}/result"), params={"breakdown_by": dimension})
    assert answer.status_code == 400 and answer.json()["success"] is False
