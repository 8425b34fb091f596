"""The Mida V2 read client against the sandbox over a real socket: every endpoint, auth, paging, ids."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

from mida_pipeline.sandbox.app import create_app
from mida_pipeline.sandbox.data import SandboxConfig, SandboxData
from mida_pipeline.sources import (
    AsyncMidaClient,
    AuthError,
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    validate_project_key,
)
from mida_pipeline.sources.mida import REGION_BASE_URLS


def test_experiments_listing_returns_every_experiment_with_its_status(mida, world, project):
    listed = list(mida.list_experiments(project))
    expected = world.data.experiments(project)
    assert [e.test_id for e in listed] == [e["test_id"] for e in expected]
    assert {e.status for e in listed} == {"live", "inactive", "draft"}
    assert any(e.is_completed for e in listed)
    assert all(e.raw == x for e, x in zip(listed, expected, strict=True))


def test_experiment_detail_has_variants_configuration_and_primary_goal(mida, world, project):
    e = world.data.experiment(project, world.data.experiments(project)[0]["test_id"])
    detail = mida.get_experiment(project, e.test_id)
    assert detail.test_id == e.test_id
    assert [v.variant_id for v in detail.variants] == list(e.variant_ids)
    assert detail.primary_goal["goal_profile_id"] == int(detail.goal_profile_id)
    assert detail.confidence_interval == e.threshold
    assert "devices" in detail.targeting


def test_result_window_equals_the_sum_of_its_days(mida, world, project):
    e = next(world.data.experiment(project, x["test_id"]) for x in world.data.experiments(project) if x["status"] == 0)
    start, end = e.created + timedelta(days=2), e.created + timedelta(days=5)
    window = mida.get_result(project, e.test_id, start_date=start, end_date=end, tz=0.0, report_phase="all_time")
    days = [
        mida.get_result(project, e.test_id, start_date=start + timedelta(days=i), end_date=start + timedelta(days=i))
        for i in range(4)
    ]
    for k, variant in enumerate(window.variants):
        assert variant.visitors == sum(d.variants[k].visitors for d in days)
        assert variant.conversions == sum(d.variants[k].conversions for d in days)
    assert window.total_visitors == sum(v.visitors for v in window.variants)
    assert (window.start_date, window.end_date) == (start, end)
    assert world.requests[0] == ("GET", f"/v2/project/{project}/experiment/{e.test_id}/result")


def test_result_sends_goal_and_phase_parameters(open_mida):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json={"success": True, "test_id": 1, "variants": []})

    with open_mida(base_url="http://mida.test/v2", transport=httpx.MockTransport(handler)) as client:
        client.get_result(
            "p",
            1,
            start_date=date(2026, 1, 1),
            end_date="2026-01-31",
            tz=1.0,
            goal_key="purchase",
            report_phase="post_deploy",
        )
        client.get_result("p", 1, goal_profile_id=100)
    assert seen == [
        {
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "tz": "1",
            "goal_key": "purchase",
            "report_phase": "post_deploy",
        },
        {"goal_profile_id": "100"},
    ]


def test_timeseries_rows_are_typed_and_match_daily_numbers(mida, world, project):
    e = next(world.data.experiment(project, x["test_id"]) for x in world.data.experiments(project) if x["status"] == 1)
    series = mida.get_timeseries(project, e.test_id)
    assert series.test_id == e.test_id and series.rows
    row = series.rows[-1]
    assert isinstance(row.variant_id, str) and row.variant_id in e.variant_ids
    assert row.visitors == world.data.daily(project, e.test_id, row.variant_id, row.day).visitors


def test_share_link(mida, world, project):
    test_id = world.data.experiments(project)[1]["test_id"]
    link = mida.get_share_link(project, test_id)
    assert link.test_id == test_id and str(test_id) in link.share_link and isinstance(link.is_public, bool)


def test_goals_listing_and_goal_detail(mida, world, project):
    goals = list(mida.list_goals(project))
    assert [g.goal_profile_id for g in goals] == [str(g["goal_profile_id"]) for g in world.data.goals(project)]
    assert any(g.goal_type == "revenue" for g in goals)
    detail = mida.get_goal(project, goals[0].goal_profile_id)
    assert detail.goal_key == goals[0].goal_key and detail.created_at is not None and detail.status == "1"


def test_events_listing_pages_past_500_and_event_detail(mida, world, project):
    events = list(mida.list_events(project))
    assert len(events) == 620
    assert len({e.event_id for e in events}) == 620
    pages = [p for m, p in world.requests if p.endswith("/events")]
    assert len(pages) == 2  # 500, then a short page of 120 ends the listing
    detail = mida.get_event(project, events[-1].event_id)
    assert detail.event_id == events[-1].event_id and detail.event_path


def test_events_filters_reach_the_api(mida, world, project):
    assert [e.event_text for e in mida.list_events(project, event_text="custom_event_7")] == ["custom_event_7"]
    day = world.data.first_day + timedelta(days=10)
    within = list(mida.list_events(project, start_date=day, end_date=day))
    assert within and all(e.created_at.date() == day for e in within)


def test_paging_with_small_pages_keeps_order_and_stops_at_a_short_page(world, project, waits, open_mida):
    with open_mida(page_size=7) as client:
        assert [e.test_id for e in client.list_experiments(project)] == [
            e["test_id"] for e in world.data.experiments(project)
        ]
    assert len(world.requests) == 2  # 7 + 1


def test_a_listing_that_exactly_fills_its_pages_ends_on_an_empty_page(world, project, waits, open_mida):
    with open_mida(page_size=4) as client:
        assert len(list(client.list_experiments(project))) == 8
    assert len(world.requests) == 3


def test_the_page_guard_stops_a_listing_that_never_ends(mida, world, project):
    world.faults.add("*/events", "endless")
    with pytest.raises(MalformedResponseError, match=r"MIDA GET /project/.*/events failed: 200 .*never ends"):
        list(mida.list_events(project))


def test_the_page_count_guard_stops_a_listing_longer_than_allowed(world, project, waits, open_mida):
    with open_mida(page_size=100, max_pages=3) as client:
        with pytest.raises(MalformedResponseError, match="more than 3 pages"):
            list(client.list_events(project))
    assert len(world.requests) == 3


@pytest.mark.parametrize("auth_header", ["bearer", "x-api-key", "api-key"])
def test_each_documented_auth_header_is_accepted(world, project, auth_header, open_mida):
    with open_mida(auth_header=auth_header) as client:
        assert list(client.list_goals(project))


def test_a_wrong_key_is_an_auth_error_naming_the_variable(world, project, open_mida):
    with open_mida("not-the-key") as client:
        with pytest.raises(AuthError) as caught:
            client.get_experiment(project, 1001)
    message = str(caught.value)
    assert message.startswith(f"MIDA GET /project/{project}/experiment/1001 failed: 401")
    assert '"Invalid API key"' in message and "MIDA_API_KEY" in message and "\n" not in message


def test_unknown_ids_and_another_projects_ids_are_not_found(mida, world):
    first, second = world.data.project_keys
    other = world.data.experiments(second)[0]["test_id"]
    for call in (
        lambda: mida.get_experiment(first, other),
        lambda: mida.get_result(first, 999999),
        lambda: mida.get_goal(first, world.data.goals(second)[0]["goal_profile_id"]),
        lambda: mida.get_event(first, 1),
        lambda: list(mida.list_goals("shop-nowhere")),
    ):
        with pytest.raises(NotFoundError, match=r"failed: 404 \"(Experiment|Goal|Event|Project) not found\""):
            call()


def test_region_picks_the_base_url_and_an_override_wins(monkeypatch):
    assert (
        AsyncMidaClient("k-123", region="eu").http.core.base_url
        == REGION_BASE_URLS["eu"]
        == "https://api-eu.mida.so/v2"
    )
    assert AsyncMidaClient("k-123").http.core.base_url == "https://api-us.mida.so/v2"
    assert (
        AsyncMidaClient("k-123", region="eu", base_url="http://127.0.0.1:9/v2/").http.core.base_url
        == "http://127.0.0.1:9/v2"
    )
    with pytest.raises(InvalidInputError, match="MIDA_REGION='ap'"):
        AsyncMidaClient("k-123", region="ap")


@pytest.mark.parametrize("key", ["../etc", "a/b", "", "..", "a b", "shop\\x", "x" * 200, "ä-shop"])
def test_project_keys_with_separators_or_traversal_are_refused(key):
    with pytest.raises(InvalidInputError, match="not a Mida project key"):
        validate_project_key(key)


def test_ids_are_encoded_as_one_path_segment(world, project, mida):
    for bad in ("..", "1/../../other", "1?limit=5"):
        with pytest.raises(NotFoundError):
            mida.get_goal(project, bad)
    assert [p for _, p in world.requests] == [
        f"/v2/project/{project}/goal/{x}" for x in ("..", "1/../../other", "1?limit=5")
    ]
    with pytest.raises(InvalidInputError, match="goal_profile_id is empty"):
        mida.get_goal(project, "")


def test_the_clients_have_no_write_methods_and_only_ever_get(mida, world, project):
    writes = ("create", "update", "patch", "delete", "post", "put", "set_", "deploy")
    assert not [n for n in dir(AsyncMidaClient) if n.lower().startswith(writes)]
    list(mida.list_experiments(project)), list(mida.list_goals(project)), list(mida.list_events(project))
    assert {m for m, _ in world.requests} == {"GET"}


def test_async_fan_out_is_bounded_and_agrees_with_one_call_at_a_time(world, project, mida, retry):
    in_flight, peak = 0, 0
    app = create_app(SandboxData(SandboxConfig(seed=5, projects=2, experiments_per_project=8)), api_key=world.api_key)
    asgi = httpx.ASGITransport(app=app)
    bound = 3

    class Counting(httpx.AsyncBaseTransport):
        """Holds the result calls until `bound` are in flight at once: the peak is the bound, whatever the timing."""

        def __init__(self):
            self.full = asyncio.Event()

        async def handle_async_request(self, request):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                if request.url.path.endswith("/result"):
                    if in_flight == bound:
                        self.full.set()
                    await self.full.wait()
                return await asgi.handle_async_request(request)
            finally:
                in_flight -= 1

    async def fan_out():
        async with AsyncMidaClient(
            world.api_key, base_url="http://sandbox/v2", max_concurrency=bound, transport=Counting(), retry=retry
        ) as client:
            listed = [e async for e in client.list_experiments(project)]
            return await asyncio.gather(*(client.get_result(project, e.test_id) for e in listed))

    results = asyncio.run(fan_out())
    assert peak == bound  # reached (the held calls prove it) and never passed (the client's bound)
    assert [r.total_visitors for r in results] == [mida.get_result(project, r.test_id).total_visitors for r in results]


def test_async_client_over_a_real_socket(world, project):
    async def read():
        async with AsyncMidaClient(world.api_key, base_url=world.mida_base_url) as client:
            return [e async for e in client.list_events(project)], await client.get_share_link(project, 1001)

    events, link = asyncio.run(read())
    assert len(events) == 620 and link.test_id == 1001
