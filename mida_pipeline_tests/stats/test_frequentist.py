"""The frequentist statistics over arrays agree with their references: gbstats' own numbers (fixtures made by
fixtures/make_gbstats_fixtures.py), SciPy's distributions, and the pooled z-test of one comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from mida_pipeline.stats import frequentist
from mida_pipeline_tests.stats.reference import wald_interval, z_test_pooled

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "gbstats_reference.json").read_text())
CASES = FIXTURES["cases"] + FIXTURES["family_5_variants_4_goals"]
ID = [c.get("name") or f"family-{c['goal']}-{c['variant']}" for c in CASES]


def _columns(cases, *names):
    return [np.array([c[n] for c in cases], dtype=float) for n in names]


def _assert_matches(ours, reference, name):
    reference = np.array([np.nan if r is None else r for r in reference], dtype=float)
    undefined = np.isnan(reference)
    assert np.array_equal(np.isnan(ours), undefined), f"{name}: null where gbstats is undefined, and only there"
    np.testing.assert_allclose(ours[~undefined], reference[~undefined], rtol=0, atol=1e-6, err_msg=name)


def test_sequential_p_value_and_confidence_sequence_match_gbstats():
    cc, nc, cv, nv, alpha, tuning = _columns(CASES, "cc", "nc", "cv", "nv", "alpha", "tuning")
    p, low, high = frequentist.sequential_test(cc, nc, cv, nv, alpha, tuning)
    _assert_matches(p, [c["sequential_p_value"] for c in CASES], "sequential_p_value")
    _assert_matches(low, [c["sequential_ci_low"] for c in CASES], "sequential_ci_low")
    _assert_matches(high, [c["sequential_ci_high"] for c in CASES], "sequential_ci_high")


def test_relative_interval_matches_gbstats_delta_method_with_welch_dof():
    cc, nc, cv, nv, alpha = _columns(CASES, "cc", "nc", "cv", "nv", "alpha")
    low, high = frequentist.relative_interval(cc, nc, cv, nv, alpha)
    _assert_matches(low, [c["rel_ci_low"] for c in CASES], "rel_ci_low")
    _assert_matches(high, [c["rel_ci_high"] for c in CASES], "rel_ci_high")


@pytest.mark.parametrize(
    "name",
    [
        "no-visitors",
        "variant-without-visitors",
        "control-without-visitors",
        "nobody-converted",
        "control-none-converted",
        "variant-none-converted",
        "everybody-converted",
        "variant-all-converted",
        "one-visitor-each",
    ],
)
def test_sequential_and_relative_statistics_are_null_where_gbstats_declines(name):
    case = next(c for c in FIXTURES["cases"] if c["name"] == name)
    args = (case["cc"], case["nc"], case["cv"], case["nv"])
    assert all(np.isnan(v) for v in frequentist.sequential_test(*args, 0.05, 5000.0))
    assert all(np.isnan(v) for v in frequentist.relative_interval(*args, 0.05))


def test_sequential_p_value_survives_huge_samples_without_overflow():
    p, low, high = frequentist.sequential_test(1_000_000, 50_000_000, 1_200_000, 50_000_000, 0.05, 5000.0)
    assert p == 0.0 and 0 < low < 0.004 < high


def test_a_larger_tuning_sample_widens_the_sequence_at_small_samples():
    narrow = frequentist.sequential_test(100, 1000, 130, 1000, 0.05, 100.0)
    wide = frequentist.sequential_test(100, 1000, 130, 1000, 0.05, 1_000_000.0)
    assert wide[2] - wide[1] > narrow[2] - narrow[1]


def test_array_z_test_and_wald_interval_equal_the_one_comparison_functions():
    rng = np.random.default_rng(3)
    nc, nv = rng.integers(0, 5000, 300), rng.integers(0, 5000, 300)
    cc, cv = rng.binomial(nc, 0.1), rng.binomial(nv, 0.12)
    p = frequentist.z_test_pooled(cc, nc, cv, nv)
    low, high = frequentist.wald_interval(cc, nc, cv, nv)
    for i in range(300):
        expected = z_test_pooled(int(cc[i]), int(nc[i]), int(cv[i]), int(nv[i]))
        assert (np.isnan(p[i]) and expected is None) or p[i] == pytest.approx(expected, abs=1e-12)
        el, eh = wald_interval(int(cc[i]), int(nc[i]), int(cv[i]), int(nv[i]))
        assert (np.isnan(low[i]) and el is None) or (low[i], high[i]) == pytest.approx((el, eh), abs=1e-12)


def test_nobody_converting_in_either_arm_gives_no_wald_interval_not_a_zero_width_one():
    low, high = frequentist.wald_interval(0, 1000, 0, 1000)
    assert np.isnan(low) and np.isnan(high)


@pytest.mark.parametrize("tails", [1, 2])
@pytest.mark.parametrize(
    "cc, nc, nv, alpha", [(100, 1000, 1000, 0.05), (30, 20_000, 9_000, 0.1), (500, 2000, 6000, 0.01)]
)
def test_mde_is_the_lift_detected_with_80_percent_power(cc, nc, nv, alpha, tails):
    mde = float(frequentist.mde_abs(cc, nc, nv, alpha, tails))
    pc = cc / nc
    se = np.sqrt(pc * (1 - pc) * (1 / nc + 1 / nv))
    # SciPy: the power of the z-test at this lift, ignoring the far tail's negligible share when two-tailed.
    assert stats.norm.cdf(mde / se - stats.norm.ppf(1 - alpha / tails)) == pytest.approx(0.8, abs=1e-9)
    # statsmodels' power calculator, in standardised effect size, counts the far tail too: agrees to 1e-4.
    effect = NormalIndPower().solve_power(
        nobs1=nc, ratio=nv / nc, alpha=alpha, power=0.8, alternative="two-sided" if tails == 2 else "larger"
    )
    assert mde == pytest.approx(effect * np.sqrt(pc * (1 - pc)), rel=1e-4)


def test_mde_is_null_without_visitors_or_without_variance_in_control():
    assert np.isnan(frequentist.mde_abs(0, 0, 100, 0.05, 2))
    assert np.isnan(frequentist.mde_abs(0, 100, 100, 0.05, 2))
    assert np.isnan(frequentist.mde_abs(10, 100, 0, 0.05, 2))


def test_sample_per_arm_is_where_the_mde_reaches_the_lift():
    n = float(frequentist.sample_per_arm(0.1, 0.02, 0.05, 2))
    assert float(frequentist.mde_abs(0.1 * n, n, n, 0.05, 2)) == pytest.approx(0.02, rel=1e-12)
    assert np.isnan(frequentist.sample_per_arm(0.1, 0.0, 0.05, 2))


def test_days_remaining_counts_whole_days_of_the_slower_arm():
    assert frequentist.days_remaining(2000, 1000, 100, 1500, 50) == 10  # 1000 more at 100/day vs 500 at 50/day
    assert frequentist.days_remaining(2000, 1000, 300, 1900, 7) == 15  # ceil(100 / 7) beats ceil(1000 / 300)
    assert frequentist.days_remaining(900, 1000, 0, 1000, 0) == 0  # reached: no arrivals needed
    assert np.isnan(frequentist.days_remaining(2000, 1000, 0, 1000, 100))  # short and nobody arriving
    assert np.isnan(frequentist.days_remaining(np.nan, 1000, 100, 1000, 100))  # no target (a lift of 0)
