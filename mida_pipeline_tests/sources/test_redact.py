"""No secret in any message, log record or repr: a sentinel key is followed through successes, retries and failures."""

from __future__ import annotations

import logging

import pytest

from mida_pipeline.sandbox.data import SandboxConfig
from mida_pipeline.sandbox.server import SandboxServer
from mida_pipeline.sources import AuthError, SourceError
from mida_pipeline.sources.redact import redact

URL_SECRET = "URLPASS-7777"
QUERY_SECRET = "QUERYTOKEN-8888"


@pytest.fixture
def assert_clean(world):
    """Fails when any text holds a secret: the sandbox's key or secret, or one pasted into a URL."""
    secrets = (world.api_key, world.bss_secret, URL_SECRET, QUERY_SECRET)

    def check(*texts: str) -> None:
        for text in texts:
            for secret in secrets:
                assert secret not in text, f"{secret} leaked into: {text[:300]}"

    return check


@pytest.fixture
def debug_logs(caplog):
    for name in (None, "httpx", "httpcore", "mida_pipeline"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def all_log_text(caplog) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records) + caplog.text


def test_the_key_shows_in_no_log_record_through_success_retry_and_failure(
    world, project, debug_logs, open_mida, open_bss, assert_clean
):
    errors = []
    world.faults.add("*/goals", "status", times=1, status=429, retry_after=1)
    world.faults.add("*/events", "status", status=500, message=f"bad key {world.api_key}")
    with open_mida() as client:
        list(client.list_goals(project))
        client.get_result(project, 1001)
        try:
            list(client.list_events(project))
        except SourceError as exc:
            errors.append(exc)
    with open_bss() as bss:
        bss.sync("daily", world.data.today.replace(day=1), world.data.today.replace(day=1), is_latest=True)
    text = all_log_text(debug_logs)
    assert "HTTP Request: GET" in text and "send_request_headers" in text  # the debug logs were really captured
    assert errors and "***" in str(errors[0])  # an API echoing the key back is masked
    assert_clean(text, *map(str, errors), *map(repr, errors))


def test_a_rejected_key_appears_in_neither_the_error_nor_the_logs(debug_logs, open_mida, open_bss, assert_clean):
    with SandboxServer(SandboxConfig(projects=1, experiments_per_project=1)) as other:  # expects its own default key
        with open_mida(base_url=other.mida_base_url) as client:
            with pytest.raises(AuthError) as mida_error:
                client.get_experiment(other.data.project_keys[0], 1001)
        with open_bss(sync_url=other.bss_sync_url) as bss:
            with pytest.raises(AuthError) as bss_error:
                bss.sync("daily", other.data.today, other.data.today, is_latest=True)
    assert str(bss_error.value).startswith(
        'BSS POST /apiv1/analytics/sync failed: 401 "Invalid API key" - check MIDA_BSS_SECRET_KEY'
    )
    assert_clean(
        all_log_text(debug_logs),
        str(mida_error.value),
        repr(mida_error.value),
        str(bss_error.value),
        repr(bss_error.value),
        str(mida_error.value.__dict__),
        str(bss_error.value.__dict__),
    )


def test_reprs_hold_no_secret(mida, bss, project, assert_clean):
    records = [
        next(iter(mida.list_experiments(project))),
        mida.get_result(project, 1001),
        mida.get_timeseries(project, 1001),
    ]
    assert_clean(repr(mida), repr(bss), repr(mida.http), repr(bss.http), *map(repr, records))


def test_a_key_in_the_base_urls_userinfo_or_query_is_never_logged_or_shown(
    world, project, debug_logs, open_mida, assert_clean
):
    host = world.mida_base_url.split("://", 1)[1]
    url = f"http://user:{URL_SECRET}@{host}?api_token={QUERY_SECRET}"
    world.faults.add("*/goals", "status", status=404, message="Project not found")
    with open_mida(base_url=url) as client:
        assert list(client.list_experiments(project))  # the query rides along; userinfo is dropped
        with pytest.raises(SourceError) as caught:
            list(client.list_goals(project))
        shown = repr(client)
    text = all_log_text(debug_logs)
    assert "api_token=***" in text
    assert_clean(text, shown, str(caught.value))


def test_a_key_in_the_bss_sync_urls_query_is_never_logged(world, debug_logs, open_bss, assert_clean):
    with open_bss(sync_url=f"{world.bss_sync_url}?secret={QUERY_SECRET}") as bss:
        day = world.data.today.replace(day=1)
        assert bss.sync("daily", day, day, is_latest=True).metrics["total_visitors"] is not None
        world.faults.add("/apiv1/*", "status", status=401, message="Invalid API key")
        with pytest.raises(AuthError) as caught:
            bss.sync("daily", day, day, is_latest=True)
        assert str(caught.value).startswith('BSS POST /apiv1/analytics/sync failed: 401 "Invalid API key"')
        assert_clean(repr(bss), all_log_text(debug_logs), str(caught.value))


@pytest.mark.parametrize(
    "text, shown",
    [
        ("GET https://u:p4ss@host/v2", "GET https://***@host/v2"),
        ("GET /x?limit=5&api_key=abc123&offset=0", "GET /x?limit=5&api_key=***&offset=0"),
        ("https://h/?access_token=zz-9&sig=f00", "https://h/?access_token=***&sig=***"),
        ("no secret here", "no secret here"),
    ],
)
def test_redact_masks_urls_credentials(text, shown):
    assert redact(text) == shown
