"""The sandbox's HTTP surface: auth, ids, paging limits, faults, the request log, and in-process use."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from mida_pipeline.sandbox.app import create_app
from mida_pipeline.sandbox.data import SandboxConfig, SandboxData


def v2(server, rest: str) -> str:
    return f"/v2/project/{server.data.project_keys[0]}{rest}"


@pytest.mark.parametrize(
    "headers", [lambda k: {"Authorization": f"Bearer {k}"}, lambda k: {"x-api-key": k}, lambda k: {"api-key": k}]
)
def test_each_documented_auth_header_opens_the_api(server, headers):
    answer = httpx.get(server.url + v2(server, "/goals"), headers=headers(server.api_key))
    assert answer.status_code == 200 and answer.json()["success"] is True


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {"Authorization": "sandbox-mida-key"}]
)
def test_anything_else_is_401(server, headers):
    answer = httpx.get(server.url + v2(server, "/goals"), headers=headers)
    assert answer.status_code == 401 and answer.json() == {"success": False, "error": "Invalid API key"}


def test_unknown_ids_other_projects_ids_and_unknown_projects_are_404(server, http):
    other = server.data.project_keys[1]
    other_test = server.data.experiments(other)[0]["test_id"]
    for path in (
        v2(server, f"/experiment/{other_test}"),
        v2(server, f"/experiment/{other_test}/result"),
        v2(server, "/experiment/999999/timeseries"),
        v2(server, "/experiment/abc/share-link"),
        v2(server, f"/goal/{server.data.goals(other)[0]['goal_profile_id']}"),
        v2(server, f"/event/{server.data.events(other)[0]['event_id']}"),
        "/v2/project/shop-nowhere/experiments",
    ):
        answer = http.get(path)
        assert answer.status_code == 404 and answer.json()["success"] is False and "not found" in answer.json()["error"]


def test_paging_by_limit_and_offset_with_a_max_of_500(server, http):
    path = v2(server, "/events")
    assert len(http.get(path).json()["events"]) == 30  # default limit 50
    assert [e["event_id"] for e in http.get(path, params={"limit": 10, "offset": 25}).json()["events"]] == [
        e["event_id"] for e in server.data.events(server.data.project_keys[0])[25:30]
    ]
    assert http.get(path, params={"limit": 500}).status_code == 200
    assert http.get(path, params={"offset": 100}).json()["events"] == []
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"limit": "ten"}):
        assert http.get(path, params=bad).status_code == 400


def test_results_refuse_bad_dates(server, http):
    path = v2(server, f"/experiment/{server.data.experiments(server.data.project_keys[0])[0]['test_id']}/result")
    assert http.get(path, params={"start_date": "2026-02-30"}).status_code == 400
    assert http.get(path, params={"start_date": "2026-02-10", "end_date": "2026-02-01"}).status_code == 400


def test_results_name_the_goal_asked_keep_the_primary_and_echo_the_phase(server, http):
    pk = server.data.project_keys[0]
    test_id = server.data.experiments(pk)[0]["test_id"]
    path = v2(server, f"/experiment/{test_id}/result")
    signup = server.data.goals(pk)[2]
    primary = server.data.experiment_goals(pk, test_id)[0]
    by_key = http.get(path, params={"goal_key": "signup"}).json()
    assert by_key["selected_goal"]["goal_profile_id"] == signup["goal_profile_id"]
    assert by_key["selected_goal"]["is_primary"] is False
    assert by_key["primary_goal"]["goal_key"] == primary["goal_key"] != "signup"
    assert (
        http.get(path, params={"goal_profile_id": signup["goal_profile_id"]}).json()["selected_goal"]["goal_key"]
        == "signup"
    )
    assert http.get(path, params={"report_phase": "post_deploy"}).json()["report_phase"] == "post_deploy"
    assert http.get(path, params={"goal_key": "nope"}).status_code == 404
    assert http.get(path, params={"report_phase": "someday"}).status_code == 400


def test_a_write_is_refused_and_recorded(server, http):
    answer = http.post(v2(server, "/goals"), json={"goal_name": "x"})
    assert answer.status_code == 405
    http.get(v2(server, "/goals"))
    assert http.get("/_sandbox/requests").json()["requests"] == [
        {"method": "POST", "path": v2(server, "/goals")},
        {"method": "GET", "path": v2(server, "/goals")},
    ]
    http.delete("/_sandbox/requests")
    assert server.requests == []


def test_faults_are_switched_over_http_and_fire_the_times_asked(server, http):
    assert (
        http.post(
            "/_sandbox/faults", json={"route": "*/goals", "kind": "status", "status": 503, "times": 2, "retry_after": 3}
        ).status_code
        == 200
    )
    first, second, third = (http.get(v2(server, "/goals")) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["retry-after"] == "3"
    assert http.post("/_sandbox/faults", json={"kind": "no-such-fault"}).status_code == 400
    http.post("/_sandbox/faults", json={"route": "*", "kind": "status", "status": 500})
    http.delete("/_sandbox/faults")
    assert http.get(v2(server, "/goals")).status_code == 200


def test_each_fault_kind_breaks_the_answer_as_described(server, http):
    route = "*/experiments"
    path = v2(server, "/experiments")

    def once(kind, **params):
        server.faults.add(route, kind, times=1, **params)
        return http.get(path)

    assert once("latency", ms=10).json()["success"] is True
    answer = once("status", status=429, retry_after_date="Wed, 21 Oct 2026 07:28:00 GMT")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    answer = once("html")
    assert (
        answer.status_code == 502 and answer.headers["content-type"] == "text/html" and answer.text.startswith("<html>")
    )
    with pytest.raises(json.JSONDecodeError):
        once("truncated").json()
    assert once("success_false", message="Nope").json() == {"success": False, "error": "Nope"}
    assert once("wrong_shape").json()["experiments"] == "oops"
    with pytest.raises(httpx.RemoteProtocolError):
        once("reset")
    server.faults.add(route, "timeout", times=1, seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        http.get(path, timeout=0.2)
    server.faults.add(route, "endless", times=2)
    pages = [http.get(path, params={"limit": 3, "offset": offset}).json()["experiments"] for offset in (0, 3)]
    assert len(pages[0]) == 3 and pages[0] == pages[1]
    assert http.get(path).json()["success"] is True  # every fault above has run out


def test_bss_answers_errors_in_the_documented_words(server):
    sync = server.url + "/apiv1/analytics/sync"
    assert httpx.post(sync, json={}).json() == {"status": "error", "message": "Invalid API key"}
    bad = httpx.post(sync, json={"frequency": "monthly"}, headers={"x-mida-secret-key": server.bss_secret})
    assert bad.status_code == 500 and bad.json() == {"status": "error", "message": "Sync failed"}


def test_bss_documented_mode_ignores_the_dates_and_states_no_period():
    from datetime import date, timedelta

    data = SandboxData(SandboxConfig(seed=1, projects=1, experiments_per_project=1, today=date(2026, 11, 22)))
    app = create_app(data, bss_mode="documented")

    async def ask(body):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
            return (
                await client.post(
                    "/apiv1/analytics/sync", json=body, headers={"x-mida-secret-key": "sandbox-bss-secret"}
                )
            ).json()

    answer = asyncio.run(ask({"frequency": "daily", "start_date": "2026-01-01", "end_date": "2026-01-01"}))
    assert not {"start_date", "end_date", "frequency"} & set(answer["data"])
    assert answer["data"]["total_visitors"] == data.bss_day(date(2026, 11, 21))["total_visitors"]
    weekly = asyncio.run(ask({"frequency": "weekly", "start_date": "2026-01-05", "end_date": "2026-01-11"}))
    monday = date(2026, 11, 9)
    assert weekly["data"]["total_visitors"] == data.bss(monday, monday + timedelta(days=6))["total_visitors"]


def test_the_app_serves_in_process_through_httpx_asgi_transport():
    data = SandboxData(SandboxConfig(seed=1, projects=1, experiments_per_project=3))
    app = create_app(data)

    async def read():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers={"x-api-key": "sandbox-mida-key"}
        ) as client:
            return (await client.get(f"/v2/project/{data.project_keys[0]}/experiments")).json()

    assert [e["test_id"] for e in asyncio.run(read())["experiments"]] == [
        e["test_id"] for e in data.experiments(data.project_keys[0])
    ]
    assert app.state.requests == [("GET", f"/v2/project/{data.project_keys[0]}/experiments")]
