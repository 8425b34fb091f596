"""The program by month: outcomes by the safe verdict, durations, and the winners' summed lift with its interval."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from scipy.stats import norm

from mida_pipeline.stats.program import program_monthly


def row(test_id, variant, verdict, rel=None, low=None, high=None, threshold=95.0, rate=0.1, seq_low=None):
    return {
        "project_key": "p",
        "test_id": test_id,
        "variant_id": variant,
        "is_control": variant == "0",
        "safe_verdict": "control" if variant == "0" else verdict,
        "rel_lift": rel,
        "rel_ci_low": low,
        "rel_ci_high": high,
        "confidence_threshold_percent": threshold,
        "conversion_rate": rate,
        "sequential_ci_low": seq_low,
    }


EXPERIMENTS = pd.DataFrame(
    [
        ("p", 1, date(2026, 3, 2), date(2026, 4, 10)),
        ("p", 2, date(2026, 3, 20), date(2026, 4, 3)),
        ("p", 3, date(2026, 4, 1), date(2026, 4, 30)),
        ("p", 4, date(2026, 4, 5), date(2026, 4, 20)),
        ("p", 5, date(2026, 4, 6), date(2026, 4, 9)),
        ("p", 6, date(2026, 4, 7), None),
    ],
    columns=["project_key", "test_id", "started", "ended"],
)
LAST_DAYS = pd.DataFrame(
    [
        row(1, "0", None),
        row(1, "1", "winner", 0.10, 0.02, 0.18, seq_low=0.004),
        row(1, "2", "winner", 0.04, 0.0, 0.08),
        row(2, "0", None, rate=0.2),
        row(2, "1", "winner", 0.05, 0.01, 0.09, threshold=90.0, seq_low=0.002, rate=0.2),
        row(3, "0", None),
        row(3, "1", "loser", -0.1, -0.2, -0.01),
        row(4, "0", None),
        row(4, "1", "srm_warning", 0.3, 0.1, 0.5),
        row(6, "0", None),
        row(6, "1", "inconclusive", 0.01, -0.05, 0.07),
    ]
)


def test_each_month_counts_starts_ends_and_how_the_ended_were_decided():
    frame = program_monthly(EXPERIMENTS, LAST_DAYS).set_index("month_start_date")
    march, april = frame.loc[date(2026, 3, 1)], frame.loc[date(2026, 4, 1)]
    assert (march["experiments_started"], march["experiments_ended"]) == (2, 0)
    assert (april["experiments_started"], april["experiments_ended"]) == (4, 5)
    # 1 and 2 won, 3 lost, 4's split broke and 5 never had results: both undecided; 6 still runs.
    assert [april[f"ended_{o}"] for o in ("winner", "loser", "inconclusive", "undecided")] == [2, 1, 0, 2]
    assert april["win_rate"] == pytest.approx(2 / 5)
    durations = [40, 15, 30, 16, 4]  # days from creation to end, both counted
    assert april["median_duration_days"] == 16 and april["longest_duration_days"] == max(durations)


def test_the_winners_lift_is_summed_with_an_interval_from_each_ones_own_threshold():
    april = program_monthly(EXPERIMENTS, LAST_DAYS).set_index("month_start_date").loc[date(2026, 4, 1)]
    # Experiment 1 counts once, by its best variant; experiment 2's interval is at its 90 % threshold.
    se1 = (0.18 - 0.02) / (2 * norm.ppf(0.975))
    se2 = (0.09 - 0.01) / (2 * norm.ppf(0.95))
    half = norm.ppf(0.975) * math.hypot(se1, se2)
    assert april["winners_rel_lift_sum"] == pytest.approx(0.15)
    assert (april["winners_rel_lift_sum_ci_low"], april["winners_rel_lift_sum_ci_high"]) == (
        pytest.approx(0.15 - half),
        pytest.approx(0.15 + half),
    )
    # The conservative figure: each winner's sequential lower bound over its control's rate.
    assert april["winners_rel_lift_sequential_low_sum"] == pytest.approx(0.004 / 0.1 + 0.002 / 0.2)


def test_a_month_without_winners_has_no_sum_and_no_experiments_no_rows():
    march = program_monthly(EXPERIMENTS, LAST_DAYS).set_index("month_start_date").loc[date(2026, 3, 1)]
    assert pd.isna(march["winners_rel_lift_sum"]) and pd.isna(march["win_rate"])
    assert program_monthly(EXPERIMENTS.iloc[0:0], LAST_DAYS.iloc[0:0]).empty
