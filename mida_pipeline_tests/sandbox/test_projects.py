"""One company of projects: the listing, paused projects, projects added while serving, and Global Settings."""

from __future__ import annotations

import httpx
import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline_tests.sandbox import documented
from mida_pipeline_tests.sandbox.documented import shape_mismatches


@pytest.fixture(scope="module")
def company():
    """A server of its own: these specifications add projects to its world."""
    with SandboxServer(SandboxConfig(seed=9, projects=5, experiments_per_project=8)) as running:
        yield running


@pytest.fixture
def http(company):
    company.faults.clear()
    company.requests.clear()
    with httpx.Client(
        base_url=company.url, headers={"Authorization": f"Bearer {company.api_key}"}, timeout=5
    ) as client:
        yield client


def listed(http, auth: str, **params) -> list[dict]:
    answer = http.get(f"/v2/project/{auth}/projects", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["projects"]


def test_any_active_project_lists_every_active_project_of_the_company(company, http):
    keys = company.data.project_keys
    everyone = [p["project_key"] for p in company.data.projects()]  # those at start, then any added since
    assert everyone[: len(keys)] == keys
    for auth in keys:
        assert [p["project_key"] for p in listed(http, auth)] == everyone
    body = http.get(f"/v2/project/{keys[0]}/projects").json()
    assert shape_mismatches(body, documented.PROJECTS) == []
    assert {p["status"] for p in body["projects"]} == {1} and {p["company_id"] for p in body["projects"]} == {
        body["company_id"]
    }


def test_paged_by_limit_and_offset_default_100_max_500(company, http):
    auth = company.data.project_keys[0]
    pages, offset = [], 0
    while not pages or len(pages[-1]) == 2:
        pages.append(listed(http, auth, limit=2, offset=offset))
        offset += 2
    assert [p["project_key"] for page in pages for p in page] == [p["project_key"] for p in company.data.projects()]
    assert len(listed(http, auth)) == len(company.data.projects()) <= 100
    assert http.get(f"/v2/project/{auth}/projects", params={"limit": 500}).status_code == 200
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"include_inactive": "maybe"}):
        assert http.get(f"/v2/project/{auth}/projects", params=bad).status_code == 400


def test_a_paused_project_is_listed_only_with_include_inactive(company, http):
    auth = company.data.project_keys[0]
    everyone = listed(http, auth, include_inactive="true")
    paused = [p for p in everyone if p["status"] == 0]
    assert [p["project_key"] for p in paused] == ["shop-dormant-1"]
    assert "shop-dormant-1" not in [p["project_key"] for p in listed(http, auth)]
    assert "shop-dormant-1" not in company.data.project_keys
    assert [p["project_key"] for p in company.data.projects(include_inactive=True)] == [
        p["project_key"] for p in everyone
    ]


def test_a_paused_project_as_auth_context_is_403_while_its_data_routes_still_answer(company, http):
    for rest in ("/projects", "/configuration", ""):
        answer = http.get(f"/v2/project/shop-dormant-1{rest}")
        assert answer.status_code == 403 and answer.json() == {"success": False, "error": "Project is inactive"}
    experiments = http.get("/v2/project/shop-dormant-1/experiments").json()["experiments"]
    assert (
        experiments
        and http.get(f"/v2/project/shop-dormant-1/experiment/{experiments[0]['test_id']}").status_code == 200
    )


def test_a_project_added_in_process_is_listed_on_the_next_call_and_serves_data(company, http):
    auth = company.data.project_keys[0]
    before = listed(http, auth)
    company.data.add_project("shop-newcomer", name="Newcomer")
    after = listed(http, auth)
    assert [p["project_key"] for p in after] == [p["project_key"] for p in before] + ["shop-newcomer"]
    assert after[-1]["name"] == "Newcomer" and after[-1]["status"] == 1
    assert "shop-newcomer" not in company.data.project_keys  # the projects that existed at start
    test_id = http.get("/v2/project/shop-newcomer/experiments").json()["experiments"][0]["test_id"]
    assert http.get(f"/v2/project/shop-newcomer/experiment/{test_id}/result").json()["test_id"] == test_id
    assert http.get("/v2/project/shop-newcomer/configuration").json()["success"] is True
    assert test_id not in {e["test_id"] for pk in company.data.project_keys for e in company.data.experiments(pk)}
    with pytest.raises(ValueError, match="already exists"):
        company.data.add_project("shop-newcomer")


def test_a_project_added_over_the_control_route_is_listed_and_the_post_is_not_logged(company, http):
    answer = http.post("/_sandbox/projects", json={"project_key": "shop-remote"})
    assert answer.status_code == 201 and answer.json()["project"]["project_key"] == "shop-remote"
    assert "shop-remote" in [p["project_key"] for p in listed(http, company.data.project_keys[1])]
    assert http.get("/v2/project/shop-remote/goals").status_code == 200
    for bad in ({"project_key": "shop-remote"}, {"project_key": "a/b"}, {}):
        assert http.post("/_sandbox/projects", json=bad).status_code == 400
    assert {m for m, _ in company.requests} == {"GET"}


def test_configuration_has_the_documented_shape_and_both_engines_and_tails_occur(company, http):
    seen = set()
    for pk in company.data.project_keys:
        body = http.get(f"/v2/project/{pk}/configuration").json()
        assert shape_mismatches(body, documented.CONFIGURATION) == []
        c = body["configuration"]
        assert c == company.data.configuration(pk)
        assert c["stats_engine"] == {"1": "bayesian", "0": "frequentist"}[c["analysis_method"]]
        assert c["frequentist_type"] in ("0", "2") and float(c["confidence_level"]) == c["confidence_threshold_percent"]
        assert c["primary_goal"]["goal_profile_id"] == c["primary_goal_id"]
        assert any("event_name" in g for g in c["secondary_goals"]) and any(
            "goal_key" in g for g in c["secondary_goals"]
        )
        seen.add((c["stats_engine"], c["frequentist_type"]))
    assert {engine for engine, _ in seen} == {"bayesian", "frequentist"}
    assert {tails for engine, tails in seen if engine == "frequentist"} == {"0", "2"}


def test_results_mostly_speak_in_their_projects_configured_engine(company, http):
    agree = differ = 0
    for pk in company.data.project_keys:
        configured = company.data.configuration(pk)["stats_engine"]
        for e in company.data.experiments(pk):
            engine = http.get(f"/v2/project/{pk}/experiment/{e['test_id']}/result").json()["stats_engine"]
            agree, differ = agree + (engine == configured), differ + (engine != configured)
    assert differ >= 1 and agree >= 5 * differ


def test_without_a_limit_a_page_holds_100_projects():
    with SandboxServer(SandboxConfig(seed=2, projects=130, experiments_per_project=1)) as many:
        url = f"{many.url}/v2/project/{many.data.project_keys[0]}/projects"
        headers = {"x-api-key": many.api_key}
        assert len(httpx.get(url, headers=headers).json()["projects"]) == 100
        assert len(httpx.get(url, headers=headers, params={"offset": 100}).json()["projects"]) == 30
