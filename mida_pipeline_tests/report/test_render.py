"""The report in a real headless Chromium: it loads offline, the charts render, and its numbers are the marts'.

Expected values come from SQL on the published warehouse, never from the report's own code.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the report must be tested in a real Chromium; install Debian's "
            "`chromium` package (.ci/run does it when run as root)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, path: Path):
    """Load a page, recording every request that failed or left the file (file://, data:)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside, failed = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file://", "data:")) else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.url[:80]}: {r.failure}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, outside, failed


def attrs(page, selector: str) -> list[dict[str, str]]:
    return page.eval_on_selector_all(selector, "els => els.map(e => Object.assign({}, e.dataset))")


def value(text: str):
    return None if text == "" else float(text)


def same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and float(a) == float(b))


def test_every_page_loads_offline_with_its_charts(browser, report_dir, sandbox):
    pages = [report_dir / "index.html", *[report_dir / f"{k}.html" for k in sandbox.data.project_keys]]
    for path in pages:
        page, outside, failed = open_offline(browser, path)
        assert outside == [] and failed == [], (path.name, outside, failed)
        images = page.eval_on_selector_all("img", "els => els.map(i => [i.complete, i.naturalWidth])")
        assert images and all(done and width > 100 for done, width in images), (path.name, images)
        if path.name != "index.html":  # the experiments' charts: SVG the browser drew, with lines and points in it
            drawn = page.eval_on_selector_all(
                "figure.chart svg",
                "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height, "
                "e.querySelectorAll('path, circle').length])",
            )
            assert drawn and all(w > 200 and h > 60 and marks for w, h, marks in drawn), (path.name, drawn)
        shot = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L"), dtype=float)
        assert shot.std() > 10, f"{path.name} renders blank"
        page.close()


def test_each_variant_on_the_page_equals_the_scorecard(browser, report_dir, marts, sandbox):
    columns = [
        "visitors",
        "conversions",
        "conversion_rate",
        "abs_lift",
        "rel_lift",
        "ci_low",
        "ci_high",
        "p_value",
        "chance_to_beat_control",
        "revenue_per_visitor",
        "rpv_lift",
    ]
    for key in sandbox.data.project_keys:
        expected = {
            (str(r[0]), r[1] or "", r[2]): r[3:]
            for r in marts.execute(
                f"SELECT test_id, goal_key, variant_id, {', '.join(columns)}, verdict, safe_verdict "
                "FROM marts.fct_experiment_scorecard WHERE project_key = ?",
                [key],
            ).fetchall()
        }
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        shown = {(a["testId"], a["goalKey"], a["variantId"]): a for a in attrs(page, "tr.variant")}
        assert set(shown) == set(expected) and expected
        for ident, row in expected.items():
            a = shown[ident]
            for name, want in zip(columns, row[:-2], strict=True):
                got = value(a["".join(w.title() if i else w for i, w in enumerate(name.split("_")))])
                assert same(got, want), (key, ident, name, got, want)
            assert (a["verdict"], a["safeVerdict"]) == row[-2:]
        # What a person reads is the same number, formatted.
        cells = page.eval_on_selector_all(
            "tr.variant",
            "rows => rows.map(r => [r.dataset.testId, r.dataset.goalKey, r.dataset.variantId, "
            "r.querySelector('[data-field=visitors]').textContent, r.querySelector('[data-field=conversion_rate]').textContent])",
        )
        for test_id, goal_key, variant_id, visitors, rate in cells:
            row = expected[(test_id, goal_key, variant_id)]
            assert visitors == f"{row[0]:,}" and rate == f"{row[2] * 100:.2f} %"
        page.close()


def test_each_experiment_badge_follows_its_variants(browser, report_dir, marts, sandbox):
    for key in sandbox.data.project_keys:
        expected = dict(
            marts.execute(
                """SELECT test_id::varchar, CASE WHEN bool_or(verdict = 'srm_warning') THEN 'srm_warning'
                      WHEN bool_or(verdict = 'winner') THEN 'winner' WHEN bool_or(verdict = 'loser') THEN 'loser'
                      ELSE 'inconclusive' END
               FROM marts.fct_experiment_scorecard WHERE project_key = ? AND NOT is_control AND is_primary_goal
               GROUP BY 1""",
                [key],
            ).fetchall()
        )
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        shown = {a["testId"]: a["verdict"] for a in attrs(page, "section.experiment")}
        assert shown == expected
        badges = page.eval_on_selector_all(
            "section.experiment .head [data-badge]", "els => els.map(e => e.textContent)"
        )
        assert len(badges) == len(expected) and set(badges) <= {"Winner", "Loser", "Inconclusive", "SRM warning"}
        page.close()


def test_secondary_goals_sit_beneath_the_primary_and_segments_are_flagged_exploratory(
    browser, report_dir, marts, sandbox
):
    for key in sandbox.data.project_keys:
        goals = marts.execute(
            "SELECT test_id::varchar, list(DISTINCT goal_key ORDER BY goal_key) FILTER (WHERE NOT is_primary_goal), "
            "any_value(goal_key) FILTER (WHERE is_primary_goal) FROM marts.fct_experiment_scorecard WHERE project_key = ? "
            "GROUP BY 1",
            [key],
        ).fetchall()
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        order = page.eval_on_selector_all(
            "section.experiment",
            "els => els.map(e => [e.dataset.testId, [...e.querySelectorAll('div.goal')]"
            ".map(g => [g.dataset.goalKey, g.dataset.primary])])",
        )
        shown = {test_id: listed for test_id, listed in order}
        for test_id, secondary, primary in goals:
            listed = shown[test_id]
            assert listed[0] == [primary or "", "true"], (test_id, listed)
            assert sorted(k for k, p in listed[1:]) == sorted(secondary or []) and all(
                p == "false" for _, p in listed[1:]
            )
        segments = marts.execute(
            "SELECT count(*) FROM marts.fct_experiment_segment_scorecard WHERE project_key = ? AND NOT is_control",
            [key],
        ).fetchone()[0]
        assert len(attrs(page, "tr.segment")) == segments > 0
        assert page.locator("div.segments h4").first.inner_text().endswith("Exploratory")
        charts = page.eval_on_selector_all("section.experiment figure.chart", "els => els.map(e => e.dataset.chart)")
        assert {"cumulative_rate", "lift", "chance_history", "sequential_history"} <= set(charts)
        page.close()


def test_store_traffic_and_funnel_equal_the_store_marts(browser, report_dir, marts):
    page, _, _ = open_offline(browser, report_dir / "index.html")
    for kind, table, date_column in (
        ("daily", "fct_store_traffic_daily", "period_date"),
        ("weekly", "fct_store_traffic_weekly", "period_date"),
    ):
        rows = marts.execute(
            f"SELECT strftime({date_column}, '%Y-%m-%d'), total_visitors, total_sessions, successful_orders, "
            f"cart_abandonment_rate, revenue FROM marts.{table}"
        ).fetchall()
        shown = {a["date"]: a for a in attrs(page, f"tr.store-{kind}")}
        assert set(shown) == {r[0] for r in rows} and rows
        for day, visitors, sessions, orders, abandonment, revenue in rows:
            a = shown[day]
            assert (int(a["totalVisitors"]), int(a["totalSessions"]), int(a["successfulOrders"])) == (
                visitors,
                sessions,
                orders,
            )
            assert same(value(a["cartAbandonmentRate"]), abandonment) and same(value(a["revenue"]), revenue)
    totals = marts.execute(
        "SELECT sum(total_visitors), sum(product_views), sum(add_to_cart), sum(checkout_started), sum(successful_orders) "
        "FROM marts.fct_store_traffic_daily"
    ).fetchone()
    funnel = [int(float(a["value"])) for a in attrs(page, "tr.funnel-step")]
    assert funnel == list(totals)
    page.close()


def test_at_1280_px_no_table_is_wider_than_its_card_and_every_verdict_shows(browser, report_dir, sandbox):
    """The column people look for is on screen: no goal or revenue table scrolls sideways, and every verdict badge
    (the last column) lies inside the window."""
    for key in sandbox.data.project_keys:
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        widths = page.eval_on_selector_all(".experiment .scroll", "els => els.map(e => [e.scrollWidth, e.clientWidth])")
        assert widths and all(scroll <= client for scroll, client in widths), (key, widths)
        edges = page.eval_on_selector_all(
            ".experiment td.safe .badge", "els => els.map(e => e.getBoundingClientRect().right)"
        )
        assert edges and max(edges) <= 1280, (key, max(edges))
        page.close()


def test_at_1280_px_every_chart_fits_its_card_and_no_two_overlap(browser, report_dir, sandbox):
    """A chart's title, drawing and legend stay inside its card, and no chart's box overlaps another's (a title
    drawn over the chart above it was once the rule)."""
    for key in sandbox.data.project_keys:
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        sections = page.eval_on_selector_all(
            "section.experiment",
            """els => els.map(s => {
                const card = s.getBoundingClientRect();
                const boxes = [...s.querySelectorAll('figure.chart')].map(f => {
                    const r = f.getBoundingClientRect();
                    return [r.left, r.top, r.right, r.bottom, f.scrollWidth, f.clientWidth];
                });
                return [s.dataset.testId, card.left, card.right, boxes];
            })""",
        )
        assert sections
        for test_id, left, right, boxes in sections:
            assert boxes, (key, test_id, "no charts")
            for x0, _, x1, _, scroll, client in boxes:
                assert left <= x0 and x1 <= right and x1 <= 1280 and scroll <= client, (key, test_id, (x0, x1))
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    assert apart, (key, test_id, a[:4], b[:4])
        page.close()


def test_each_projects_program_by_month_equals_the_program_mart(browser, report_dir, marts, sandbox):
    columns = ["experiments_started", "experiments_ended", "ended_winner", "ended_loser", "ended_inconclusive",
               "ended_undecided", "win_rate", "winners_rel_lift_sum", "winners_rel_lift_sum_ci_low",
               "winners_rel_lift_sequential_low_sum"]  # fmt: skip
    shown_any = False
    for key in sandbox.data.project_keys:
        expected = {
            r[0]: r[1:]
            for r in marts.execute(
                f"SELECT strftime(month_start_date, '%Y-%m-%d'), {', '.join(columns)} "
                "FROM marts.fct_experiment_program_monthly WHERE project_key = ?",
                [key],
            ).fetchall()
        }
        page, _, _ = open_offline(browser, report_dir / f"{key}.html")
        shown = {a["month"]: a for a in attrs(page, "tr.program-month")}
        assert set(shown) == set(expected)
        for month, row in expected.items():
            for name, want in zip(columns, row, strict=True):
                got = value(shown[month]["".join(w.title() if i else w for i, w in enumerate(name.split("_")))])
                assert same(got, want), (key, month, name, got, want)
        shown_any = shown_any or bool(shown)
        page.close()
    assert shown_any
