"""An experiment's section: its badge, the names from the API escaped, and a revenue goal's table."""

from __future__ import annotations

import pandas as pd
import pytest

from mida_pipeline.report.section import experiment_section, experiment_verdict


def card(*verdicts: str) -> pd.DataFrame:
    rows = [{"variant_id": "0", "is_control": True, "verdict": "control"}]
    rows += [{"variant_id": str(i + 1), "is_control": False, "verdict": v} for i, v in enumerate(verdicts)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "verdicts, badge",
    [
        (("winner", "srm_warning"), "srm_warning"),  # an off split voids every other reading
        (("loser", "winner"), "winner"),
        (("inconclusive", "loser"), "loser"),
        (("inconclusive",), "inconclusive"),
        ((), "no_data"),
    ],
)
def test_the_experiment_badge(verdicts, badge):
    assert experiment_verdict(card(*verdicts)) == badge


def test_names_from_the_api_are_escaped():
    hostile = '<img src=x onerror="alert(1)">'
    scorecard = pd.DataFrame(
        [
            {
                "project_key": "p",
                "test_id": 1,
                "variant_id": vid,
                "as_of_date": pd.Timestamp("2026-11-01"),
                "test_name": hostile,
                "variant_name": hostile,
                "is_control": vid == "0",
                "visitors": 100,
                "conversions": 10,
                "conversion_rate": 0.1,
                "abs_lift": None,
                "rel_lift": None,
                "p_value": None,
                "ci_low": None,
                "ci_high": None,
                "chance_to_beat_control": None,
                "confidence_threshold_percent": 95.0,
                "srm_p_value": 0.5,
                "srm_flag": False,
                "revenue": 0.0,
                "revenue_per_visitor": 0.0,
                "rpv_lift": None,
                "verdict": "control" if vid == "0" else "inconclusive",
            }
            for vid in ("0", "1")
        ]
    )
    html, verdict = experiment_section(None, scorecard, {})
    assert verdict == experiment_verdict(scorecard)
    assert hostile not in html and html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 3  # heading, 2 rows


def revenue_card(tested: bool) -> pd.DataFrame:
    """A revenue goal's scorecard: control and one variant, with or without the revenue statistics."""
    stats = {
        "rpv_ci_low": 0.12,
        "rpv_ci_high": 0.95,
        "rpv_rel_ci_low": 0.02,
        "rpv_rel_ci_high": 0.17,
        "rpv_p_value": 0.004,
        "rpv_sequential_p_value": 0.03,
        "rpv_chance_to_beat_control": 0.998,
        "aov": 61.5,
        "aov_rel_lift": 0.03,
        "aov_rel_ci_low": -0.04,
        "aov_rel_ci_high": 0.1,
        "aov_p_value": 0.41,
    }
    rows = []
    for vid in ("0", "1"):
        row = {
            "project_key": "p",
            "test_id": 1,
            "goal_key": "purchase",
            "goal_name": "Purchase",
            "is_primary_goal": True,
            "variant_id": vid,
            "as_of_date": pd.Timestamp("2026-11-01"),
            "test_name": "t",
            "variant_name": f"v{vid}",
            "is_control": vid == "0",
            "visitors": 1000,
            "conversions": 30,
            "conversion_rate": 0.03,
            **dict.fromkeys(["abs_lift", "rel_lift", "p_value", "ci_low", "ci_high", "chance_to_beat_control"]),
            "confidence_threshold_percent": 95.0,
            "srm_p_value": 0.5,
            "srm_flag": False,
            "revenue": 5000.0 + 500 * int(vid),
            "revenue_per_visitor": 5.0 + 0.5 * int(vid),
            "rpv_lift": None if vid == "0" else 0.1,
            "verdict": "control" if vid == "0" else "inconclusive",
        }
        if tested:
            row |= {k: None for k in stats} | {"rpv_verdict": "control", "rpv_safe_verdict": "control", "aov": 60.0}
            if vid == "1":
                row |= stats | {"rpv_verdict": "winner", "rpv_safe_verdict": "winner"}
        rows.append(row)
    return pd.DataFrame(rows)


def test_a_revenue_goal_shows_revenue_per_visitor_and_order_value_with_both_verdicts():
    html, _ = experiment_section(None, revenue_card(tested=True), {})
    revenue_rows = html.split('<tr class="revenue"')[1:]
    assert len(revenue_rows) == 2
    variant = revenue_rows[1]
    assert 'data-rpv-p-value="0.004"' in variant and 'data-rpv-safe-verdict="winner"' in variant
    assert 'data-aov="61.5"' in variant and 'data-aov-p-value="0.41"' in variant
    # What a person reads: money per visitor, the relative intervals, and the revenue verdicts as badges.
    assert "+0.12 … +0.95" in variant and "+2.0 % … +17.0 %" in variant and "61.50" in variant
    assert variant.count('data-badge="winner"') == 2
    # The experiment's badge says which number it follows.
    assert 'data-badge-metric="conversion_rate"' in html


def test_a_revenue_goal_without_its_statistics_says_why():
    html, _ = experiment_section(None, revenue_card(tested=False), {})
    assert "Not tested yet" in html and "Backfill from its first day" in html
    assert html.count('<tr class="revenue"') == 2 and "data-rpv-verdict" in html
