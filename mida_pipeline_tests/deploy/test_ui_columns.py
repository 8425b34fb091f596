"""A mart's asset page in the Dagster UI, opened in a real headless Chromium, explains its columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from mida_pipeline_tests.deploy.helpers import webserver
from mida_pipeline_tests.helpers import sandbox_env

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MART = ["marts", "fct_experiment_scorecard"]
SCREENSHOT = Path("/tmp/mida-ui-fct_experiment_scorecard.png")


def test_a_marts_asset_page_shows_its_column_descriptions(sandbox, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's `chromium` package (.ci/run does it when run as root)",
            pytrace=False,
        )
    import dagster as dg
    from playwright.sync_api import sync_playwright

    from mida_pipeline.definitions import defs

    schema = defs.resolve_asset_graph().get(dg.AssetKey(MART)).metadata["dagster/column_schema"]
    column = next(c for c in schema.columns if c.description)
    env = sandbox_env(sandbox, tmp_path)
    with webserver(env, tmp_path / "webserver.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(f"{url}/assets/{'/'.join(MART)}", wait_until="networkidle", timeout=180_000)
            page.get_by_text(column.description, exact=False).first.wait_for(timeout=120_000)
            skip = page.get_by_role("button", name="Skip")  # the first-visit newsletter dialog covers the page
            if skip.count():
                skip.first.click()
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            text = page.inner_text("body")
        finally:
            browser.close()
    assert column.name in text and column.description in text
