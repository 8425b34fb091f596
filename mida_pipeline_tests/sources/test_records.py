"""Each inconsistency the reference documents, as served by the sandbox, parsed into one typed form."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from mida_pipeline.sources import MalformedResponseError
from mida_pipeline.sources import records as r
from mida_pipeline.sources import result_records as rr
from mida_pipeline.sources.coerce import ShapeError


def test_status_is_an_int_in_listings_and_a_word_with_a_code_in_results(mida, world, project):
    listed = {e.test_id: e for e in mida.list_experiments(project)}
    assert {type(e.raw["status"]) for e in listed.values()} == {int}
    for test_id, item in listed.items():
        result = mida.get_result(project, test_id)
        assert isinstance(result.raw["status"], str) and isinstance(result.raw["status_code"], int)
        assert (result.status_code, result.status) == (item.status_code, item.status)


def test_variant_ids_are_ints_in_details_and_strings_in_results_and_parse_alike(mida, world, project):
    for item in world.data.experiments(project)[:4]:
        detail = mida.get_experiment(project, item["test_id"])
        result = mida.get_result(project, item["test_id"])
        assert {type(v.raw["variant_id"]) for v in detail.variants} == {int}
        assert {type(v.raw["variant_id"]) for v in result.variants} == {str}
        assert [v.variant_id for v in detail.variants] == [v.variant_id for v in result.variants]
        assert [v.is_control for v in result.variants] == [v.variant_id == "0" for v in result.variants]


def test_result_variant_names_come_as_the_nickname_or_as_variant_n_with_a_nickname(mida, world, project):
    forms = set()
    for item in world.data.experiments(project)[:2]:
        detail = {v.variant_id: v for v in mida.get_experiment(project, item["test_id"]).variants}
        for v in mida.get_result(project, item["test_id"]).variants:
            if v.nickname is None:  # name is the nickname itself
                forms.add("nickname as name")
                assert v.name == detail[v.variant_id].nickname
            else:
                forms.add("Variant N plus nickname")
                assert v.nickname == detail[v.variant_id].nickname and v.name in ("Original", f"Variant {v.variant_id}")
    assert forms == {"nickname as name", "Variant N plus nickname"}


def test_dates_come_as_plain_days_and_as_timestamps_and_parse_alike(mida, world, project):
    listed = list(mida.list_experiments(project))
    raw_forms = {len(e.raw["created_at"]) for e in listed}
    assert raw_forms == {10, 20}  # "2026-01-02" and "2026-01-02T09:30:00Z"
    for e in listed:
        assert e.created_at.tzinfo is not None
        assert e.created_at.date() == date.fromisoformat(e.raw["created_at"][:10])


def test_the_sandbox_world_has_every_documented_case(mida, world, project):
    results = [mida.get_result(project, e["test_id"]) for e in world.data.experiments(project)]
    assert {x.distribution_mode for x in results} == {"equal", "custom", "mab"}
    mab = next(x for x in results if x.is_mab)
    assert all(v.traffic_weight is None for v in mab.variants)
    assert any(v.variant_status == "paused" for x in results if x.status == "live" for v in x.variants)
    assert any(x.has_revenue and x.total_revenue and x.currency == "USD" for x in results)
    assert {len(x.variants) for x in results} <= {2, 3, 4, 5}
    assert any(not name.isascii() for name in (x.test_name for x in results))
    listed = list(mida.list_experiments(project))
    assert {e.status for e in listed} == {"draft", "live", "inactive"} and any(e.is_completed for e in listed)


@pytest.mark.parametrize(
    "item",
    [
        {"test_id": "1001", "status": "1", "is_completed": "0", "created_at": "2026-01-02 09:30:00"},
        {"test_id": 1001.0, "status": 1, "is_completed": False, "created_at": "2026-01-02T09:30:00+00:00"},
        {
            "test_id": 1001,
            "status": "live",
            "status_code": "1",
            "is_completed": 0,
            "created_at": "2026-01-02T10:30:00+01:00",
        },
    ],
)
def test_an_experiment_reads_the_same_in_every_form(item):
    e = r.parse_experiment(item)
    assert (e.test_id, e.status_code, e.status, e.is_completed) == (1001, 1, "live", False)
    assert e.created_at == datetime(2026, 1, 2, 9, 30, tzinfo=timezone.utc)
    assert e.raw is item


def test_items_without_their_id_are_a_shape_error():
    with pytest.raises(ShapeError, match="test_id is missing"):
        r.parse_experiment({"test_name": "x"})
    with pytest.raises(ShapeError, match="variants is not a list"):
        rr.parse_result({"test_id": 1, "variants": "oops"})


def test_a_result_without_variants_is_refused_with_the_path(mida, world, project):
    world.faults.add("*/result", "wrong_shape")
    with pytest.raises(
        MalformedResponseError, match=r"GET /project/.*/experiment/1001/result failed: 200 unexpected shape"
    ):
        mida.get_result(project, 1001)


def test_event_property_may_be_a_json_string_an_object_or_null():
    assert r.parse_event({"event_id": 1, "event_property": '{"a": 1}'}).event_property == '{"a": 1}'
    assert r.parse_event({"event_id": 1, "event_property": {"b": 2, "a": 1}}).event_property == '{"a": 1, "b": 2}'
    assert r.parse_event({"event_id": "1", "event_property": None}).event_property is None


def test_the_vendors_timeseries_example_parses_with_conversion_read_as_converting_visitors():
    from mida_pipeline_tests.sandbox.documented import TIMESERIES

    series = rr.parse_timeseries(TIMESERIES)
    assert (series.test_id, series.goal_key, series.goal_type, series.is_primary_goal) == (
        1234,
        "purchase",
        "revenue",
        True,
    )
    assert [(row.variant_id, row.day, row.visitors, row.conversion, row.converted) for row in series.rows] == [
        ("0", date(2024, 1, 15), 150, 8, 12),
        ("1", date(2024, 1, 15), 150, 12, 18),
    ]
    # Moments the example's goal does not carry are null, never 0.
    assert (
        series.rows[0].revenue == 1200 and series.rows[0].sum_sq_revenue is None and series.rows[0].no_of_order is None
    )


def test_timeseries_rows_parse_alike_in_every_documented_shape():
    row = {"variant_id": 1, "conversion": 3, "visitors": 40, "start_date": "2026-03-01", "sum_sq_revenue": "1250.5"}
    numbered = rr.parse_timeseries({"test_id": 7, "selected_goal": {"goal_key": "purchase"}, "timeseries": [row]})
    texted = rr.parse_timeseries(
        {"test_id": "7", "goal": {"goal_key": "purchase"}, "timeseries": [{**row, "variant_id": "1"}]}
    )
    assert numbered.rows[0].variant_id == texted.rows[0].variant_id == "1"
    assert numbered.goal_key == texted.goal_key == "purchase"
    assert numbered.rows[0].day == date(2026, 3, 1) and numbered.rows[0].sum_sq_revenue == 1250.5
    dated_by_creation = {**row, "start_date": None, "created_at": "2026-03-02T00:00:00.000Z"}
    assert rr.parse_timeseries({"test_id": 7, "timeseries": [dated_by_creation]}).rows[0].day == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("oops", r"timeseries\[1\] is str, not an object"),
        ({"visitors": 4, "conversion": 1, "start_date": "2026-03-01"}, r"timeseries\[1\] variant_id is missing"),
        ({"variant_id": "1", "visitors": 4, "conversion": 1}, r"timeseries\[1\] has no day"),
        (
            {"variant_id": "1", "visitors": "many", "conversion": 1, "start_date": "2026-03-01"},
            r"timeseries\[1\] visitors",
        ),
        (
            {"variant_id": "1", "visitors": 4, "conversion": 1, "start_date": "2026-03-01", "sum_sq_revenue": {}},
            r"timeseries\[1\] sum_sq_revenue: expected a number",
        ),
    ],
)
def test_an_unreadable_timeseries_row_is_refused_by_its_place(bad, message):
    good = {"variant_id": "0", "visitors": 4, "conversion": 1, "start_date": "2026-03-01"}
    with pytest.raises(ShapeError, match=message):
        rr.parse_timeseries({"test_id": 7, "timeseries": [good, bad]})
