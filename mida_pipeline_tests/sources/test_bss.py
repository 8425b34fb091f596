"""The BSS analytics sync client: request, tolerant metrics, failures, and the period check."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import (
    AuthError,
    BssClient,
    InvalidInputError,
    MalformedResponseError,
    PeriodMismatchError,
    ServerError,
    parse_metrics,
)
from mida_pipeline.sources.bss import KNOWN_METRICS

CONFIG = SandboxConfig(seed=5, projects=1, experiments_per_project=1, events_per_project=1)


def expected_metrics(data, start, end) -> dict:
    flat = {}
    for key, value in data.bss(start, end).items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


@pytest.fixture
def mocked(open_bss):
    """A client whose every call gets `body` (recorded in `seen`)."""

    def client(body, status=200, seen=None):
        def handler(request: httpx.Request) -> httpx.Response:
            if seen is not None:
                seen.append(request)
            return httpx.Response(status, json=body)

        return open_bss(
            "s3cret-key", sync_url="https://bss.test/apiv1/analytics/sync", transport=httpx.MockTransport(handler)
        )

    return client


def test_the_request_is_a_post_with_the_documented_header_and_our_body(mocked):
    seen: list[httpx.Request] = []
    mocked({"data": {"total_visitors": 1}}, seen=seen).sync(
        "weekly", date(2026, 11, 9), date(2026, 11, 15), is_latest=True
    )
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://bss.test/apiv1/analytics/sync")
    assert (
        request.headers["x-mida-secret-key"] == "s3cret-key" and request.headers["content-type"] == "application/json"
    )
    assert json.loads(request.content) == {"frequency": "weekly", "start_date": "2026-11-09", "end_date": "2026-11-15"}


@pytest.mark.parametrize("frequency, days", [("daily", 1), ("weekly", 7)])
def test_echo_mode_returns_the_period_asked_with_its_metrics(bss, world, frequency, days):
    start = world.data.today - timedelta(days=30)
    end = start + timedelta(days=days - 1)
    sync = bss.sync(frequency, start, end, is_latest=False)
    assert (sync.start_date, sync.end_date, sync.period_stated) == (start, end, True)
    assert sync.metrics == expected_metrics(world.data, start, end)
    assert world.requests == [("POST", "/apiv1/analytics/sync")]


@pytest.mark.parametrize("style", ["snake", "camel", "title"])
@pytest.mark.parametrize("layout, numbers", [("data", "numbers"), ("top", "strings")])
def test_every_key_style_layout_and_number_form_reads_the_same(style, layout, numbers, world, open_bss):
    with SandboxServer(
        CONFIG, bss_secret=world.bss_secret, bss_key_style=style, bss_layout=layout, bss_numbers=numbers
    ) as server:
        day = server.data.today - timedelta(days=3)
        with open_bss(sync_url=server.bss_sync_url) as client:
            sync = client.sync("daily", day, day, is_latest=False)
        raw_keys = set(sync.raw["data"] if layout == "data" else sync.raw)
    expected = expected_metrics(server.data, day, day)
    assert sync.metrics == expected and sync.period_stated
    assert {"snake": "total_visitors", "camel": "totalVisitors", "title": "Total Visitors"}[style] in raw_keys


def test_a_configurable_header_name(world, open_bss):
    with SandboxServer(CONFIG, bss_secret=world.bss_secret, bss_header="Mida-api-key") as server:
        day = server.data.today - timedelta(days=1)
        with open_bss(sync_url=server.bss_sync_url, header_name="Mida-api-key") as client:
            assert client.sync("daily", day, day, is_latest=True).metrics["total_visitors"] > 0
        with open_bss(sync_url=server.bss_sync_url) as client:
            with pytest.raises(AuthError, match=r'POST /apiv1/analytics/sync failed: 401 "Invalid API key"'):
                client.sync("daily", day, day, is_latest=True)


def test_missing_metrics_are_null_and_unknown_keys_are_kept(mocked):
    sync = mocked({"data": {"Total Visitors": "1,204", "sessionCount": "77", "heatmap": {"Hot Spots": 3}}}).sync(
        "daily", date(2026, 11, 21), date(2026, 11, 21), is_latest=True
    )
    assert sync.metrics["total_visitors"] == 1204
    assert sync.metrics["rage_clicks"] is None and sync.metrics["revenue"] is None
    assert sync.metrics["session_count"] == "77" and sync.metrics["heatmap_hot_spots"] == 3
    assert set(KNOWN_METRICS) <= set(sync.metrics)


@pytest.mark.parametrize("value", ["many", "12abc", 12.5, 10**30, "NaN"])
def test_a_known_metric_that_is_no_whole_number_is_refused_by_name(value, mocked):
    with pytest.raises(MalformedResponseError) as failure:
        mocked({"data": {"total_visitors": 5, "successful_orders": value}}).sync(
            "daily", date(2026, 11, 21), date(2026, 11, 21), is_latest=True
        )
    line = str(failure.value)
    assert "POST /apiv1/analytics/sync failed: 200" in line and "metric successful_orders is a" in line
    assert "nothing was written" in line


@pytest.mark.parametrize(
    "body, cls, said",
    [
        ({"status": "error", "message": "Sync failed"}, ServerError, '200 "Sync failed"'),
        (
            {"status": "error", "message": "Invalid API key"},
            AuthError,
            '200 "Invalid API key" - check MIDA_BSS_SECRET_KEY',
        ),
        ({"success": False, "error": "Sync failed"}, ServerError, '200 "Sync failed"'),
        ({"data": "oops"}, MalformedResponseError, "200 no known metric"),
        ({}, MalformedResponseError, "200 no known metric"),
    ],
)
def test_failures_told_in_a_200_body(body, cls, said, mocked):
    with pytest.raises(cls) as caught:
        mocked(body).sync("daily", date(2026, 11, 21), date(2026, 11, 21), is_latest=True)
    assert str(caught.value).startswith(f"BSS POST /apiv1/analytics/sync failed: {said}")


def test_sync_failed_is_retried_then_a_server_error(bss, world, waits):
    world.faults.add("/apiv1/*", "status", status=500, message="Sync failed")
    day = world.data.today - timedelta(days=1)
    with pytest.raises(
        ServerError,
        match=r'BSS POST /apiv1/analytics/sync failed: 500 "Sync failed" - the API failed through every retry; retry later',
    ):
        bss.sync("daily", day, day, is_latest=True)
    assert len(world.requests) == bss.http.core.retry.server_error_attempts


def test_a_passing_sync_failure_is_retried_into_the_data(bss, world, waits):
    world.faults.add("/apiv1/*", "status", times=1, status=503, retry_after=4)
    day = world.data.today - timedelta(days=1)
    assert bss.sync("daily", day, day, is_latest=True).metrics == expected_metrics(world.data, day, day)
    assert waits == [4.0]


def test_a_wrong_shape_answer_is_refused(bss, world):
    world.faults.add("/apiv1/*", "wrong_shape")
    day = world.data.today - timedelta(days=1)
    with pytest.raises(MalformedResponseError, match="no known metric"):
        bss.sync("daily", day, day, is_latest=True)


# The period check, exactly as the reference states it.


@pytest.mark.parametrize(
    "stated",
    [
        {"start_date": "2026-11-20", "end_date": "2026-11-20"},
        {"date": "2026-11-20"},
        {"period": {"start": "2026-11-21", "end": "2026-11-22"}},
        {"start_date": "2026-11-21T00:00:00Z", "end_date": "last week"},
    ],
)
def test_a_stated_period_other_than_the_one_asked_fails_even_for_the_latest(stated, mocked):
    client = mocked({"data": {**stated, "total_visitors": 5}})
    for allow in (False, True):
        with pytest.raises(
            PeriodMismatchError, match=r"when asked for daily 2026-11-21\.\.2026-11-21 - nothing was written"
        ):
            client.sync("daily", date(2026, 11, 21), date(2026, 11, 21), is_latest=True, allow_unstated_period=allow)


def test_a_stated_period_in_any_form_that_matches_is_accepted(mocked):
    for stated in (
        {"start_date": "2026-11-21", "end_date": "2026-11-21"},
        {"date": "2026-11-21T00:00:00Z"},
        {"Date From": "2026-11-21", "Date To": "2026-11-21"},
    ):
        sync = mocked({"data": {**stated, "totalVisitors": 5}}).sync(
            "daily", date(2026, 11, 21), date(2026, 11, 21), is_latest=False
        )
        assert sync.period_stated and sync.metrics["total_visitors"] == 5


def test_documented_mode_unstated_period_is_accepted_only_for_the_latest(world, open_bss):
    with SandboxServer(CONFIG, bss_secret=world.bss_secret, bss_mode="documented") as server:
        today = server.data.today
        yesterday = today - timedelta(days=1)
        last_monday = today - timedelta(days=today.weekday() + 7)
        with open_bss(sync_url=server.bss_sync_url) as client:
            daily = client.sync("daily", yesterday, yesterday, is_latest=True)
            weekly = client.sync("weekly", last_monday, last_monday + timedelta(days=6), is_latest=True)
            older = yesterday - timedelta(days=5)
            with pytest.raises(PeriodMismatchError) as caught:
                client.sync("daily", older, older, is_latest=False)
            opted_in = client.sync("daily", older, older, is_latest=False, allow_unstated_period=True)
    assert not daily.period_stated and daily.metrics == expected_metrics(server.data, yesterday, yesterday)
    assert weekly.metrics == expected_metrics(server.data, last_monday, last_monday + timedelta(days=6))
    message = str(caught.value)
    assert message.startswith("BSS POST /apiv1/analytics/sync failed: 200 the response states no period")
    assert "not the latest closed one" in message and "MIDA_BSS_ACCEPT_UNSTATED_PERIOD" in message
    assert not opted_in.period_stated  # the operator vouched for the endpoint honouring the dates


def test_inputs_are_checked_before_any_call(mocked):
    with pytest.raises(InvalidInputError, match="MIDA_BSS_SECRET_KEY is empty"):
        BssClient("  ")
    with pytest.raises(InvalidInputError, match="spaces or control characters"):
        BssClient("abc\ndef")
    with pytest.raises(InvalidInputError, match="daily or weekly"):
        mocked({}).sync("monthly", date(2026, 11, 1), date(2026, 11, 30), is_latest=True)


def test_parse_metrics_reads_top_level_and_data_alike():
    top, stated = parse_metrics({"Total Visitors": "10", "trafficSources": {"Organic": "4"}})
    nested, _ = parse_metrics({"data": {"total_visitors": 10, "traffic_sources": {"organic": 4}}})
    assert top == nested and top["total_visitors"] == 10 and top["traffic_sources_organic"] == 4 and stated is None
