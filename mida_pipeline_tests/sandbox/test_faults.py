"""Every fault kind reaches every route Mida's later docs added, and those routes keep the API's rules (key, GET only)."""

from __future__ import annotations

import json

import httpx
import pytest


def new_routes(server) -> dict[str, tuple[str, dict, str]]:
    """Per route glob: a path, its query, and the key its body holds its payload under."""
    pk = server.data.project_keys[0]
    e = next(e for e in server.data.experiment_records(pk) if e.status == 1 and e.secondary_goals)
    base = f"/v2/project/{pk}"
    return {
        "*/metrics": (f"{base}/experiment/{e.test_id}/metrics", {}, "metric_definitions"),
        "*/configuration": (f"{base}/configuration", {}, "configuration"),
        "*/projects": (f"{base}/projects", {}, "projects"),
        "*/distribution": (f"{base}/experiment/{e.test_id}/distribution", {}, "variants"),
        "*/result": (f"{base}/experiment/{e.test_id}/result", {"breakdown_by": "device", "tz": "2"}, "breakdowns"),
        "*/timeseries": (f"{base}/experiment/{e.test_id}/timeseries", {"goal_key": e.secondary_goals[0]}, "timeseries"),
    }


ROUTES = ["*/metrics", "*/configuration", "*/projects", "*/distribution", "*/result", "*/timeseries"]


@pytest.mark.parametrize("route", ROUTES)
def test_each_fault_kind_breaks_each_new_route(server, http, route):
    path, params, payload = new_routes(server)[route]

    def once(kind, **fault):
        server.faults.add(route, kind, times=1, **fault)
        return http.get(path, params=params)

    normal = http.get(path, params=params).json()
    assert normal["success"] is True and payload in normal
    assert once("latency", ms=5).json() == normal
    answer = once("status", status=429, retry_after=2)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "2" and answer.json()["success"] is False
    answer = once("status", status=503, retry_after_date="Wed, 21 Oct 2026 07:28:00 GMT")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    answer = once("html")
    assert answer.status_code == 502 and answer.headers["content-type"] == "text/html"
    with pytest.raises(json.JSONDecodeError):
        once("truncated").json()
    assert once("success_false").json()["success"] is False
    assert once("wrong_shape").json()[payload] == "oops"
    with pytest.raises(httpx.RemoteProtocolError):
        once("reset")
    mutated = once("mutate", set={"success": "yes"}, drop=["variant_id"]).json()
    assert mutated["success"] == "yes" and '"variant_id"' not in json.dumps(mutated)
    assert http.get(path, params=params).json() == normal  # every fault above has run out


def test_the_projects_listing_can_page_endlessly(server, http):
    path = new_routes(server)["*/projects"][0]
    server.faults.add("*/projects", "endless", times=2)
    pages = [http.get(path, params={"limit": 3, "offset": offset}).json()["projects"] for offset in (0, 3)]
    assert len(pages[0]) == 3 and pages[0] == pages[1]
    assert len(http.get(path, params={"limit": 3, "offset": 3}).json()["projects"]) < 3  # the fault has run out


@pytest.mark.parametrize("route", ROUTES)
def test_a_wrong_key_is_401_and_a_write_405_on_each_new_route(server, route):
    path, params, _ = new_routes(server)[route]
    answer = httpx.get(server.url + path, params=params, headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401 and answer.json() == {"success": False, "error": "Invalid API key"}
    assert httpx.post(server.url + path, headers={"Authorization": f"Bearer {server.api_key}"}).status_code == 405


def test_reading_every_new_route_logs_only_gets(server, http):
    for path, params, _ in new_routes(server).values():
        assert http.get(path, params=params).status_code == 200
    log = http.get("/_sandbox/requests").json()["requests"]
    assert {r["method"] for r in log} == {"GET"} and len(log) == len(ROUTES)
