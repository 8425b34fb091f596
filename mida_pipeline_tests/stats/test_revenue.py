"""The revenue statistics agree with gbstats 0.8.0 figure by figure and are null exactly where it declines.

Revenue per visitor follows its `TwoSidedTTest` (absolute and relative), `SequentialTwoSidedTTest` and default
`EffectBayesianABTest` on `SampleMeanStatistic`; order value its relative `TwoSidedTTest` on `RatioStatistic`
(fixtures made by fixtures/make_gbstats_revenue_fixtures.py). Independently of gbstats, the absolute test is
SciPy's Welch t-test and the chance to beat control the normal posterior mass of the relative lift above 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from mida_pipeline.stats import DEFAULT_TUNING, revenue

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "gbstats_revenue_reference.json").read_text())
CASES = FIXTURES["cases"]
BY_NAME = {c["name"]: c for c in CASES}


def _arm(cases, arm, *names):
    return [np.array([c[arm][n] for c in cases], dtype=float) for n in names]


def _mean_metric(cases, tuning=True) -> revenue.MeanMetric:
    control = _arm(cases, "control", "n", "sum", "sum_sq")
    variant = _arm(cases, "variant", "n", "sum", "sum_sq")
    alpha = np.array([c["alpha"] for c in cases])
    extra = (np.array([c["tuning"] for c in cases]),) if tuning else ()
    return revenue.mean_metric(*control, *variant, alpha, *extra)


def _ratio_metric(cases) -> revenue.RatioMetric:
    moments = ("n", "sum", "sum_sq", "orders", "orders_sq", "revenue_orders")
    alpha = np.array([c["alpha"] for c in cases])
    return revenue.ratio_metric(*_arm(cases, "control", *moments), *_arm(cases, "variant", *moments), alpha)


def _reference(key) -> np.ndarray:
    return np.array([np.nan if c[key] is None else c[key] for c in CASES], dtype=float)


def _assert_matches(ours, key):
    reference = _reference(key)
    undefined = np.isnan(reference)
    assert np.array_equal(np.isnan(ours), undefined), f"{key}: null where gbstats declines, and only there"
    # 1e-6 absolute, or relative for the few figures far above 1.
    np.testing.assert_allclose(ours[~undefined], reference[~undefined], rtol=1e-6, atol=1e-6, err_msg=key)


def test_the_fixtures_are_gbstats_0_8_0():
    assert FIXTURES["gbstats_version"] == "0.8.0"


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("p_value", "abs_p_value"),
        ("ci_low", "abs_ci_low"),
        ("ci_high", "abs_ci_high"),
        ("rel_ci_low", "rel_ci_low"),
        ("rel_ci_high", "rel_ci_high"),
        ("sequential_p_value", "sequential_p_value"),
        ("chance_to_beat_control", "bayesian_chance_to_win"),
    ],
)
def test_revenue_per_visitor_statistics_match_gbstats(field, key):
    _assert_matches(getattr(_mean_metric(CASES), field), key)


@pytest.mark.parametrize(
    ("field", "key"), [("p_value", "ratio_p_value"), ("rel_ci_low", "ratio_ci_low"), ("rel_ci_high", "ratio_ci_high")]
)
def test_order_value_statistics_match_gbstats_relative_test_on_the_ratio(field, key):
    _assert_matches(getattr(_ratio_metric(CASES), field), key)


def test_lifts_are_gbstats_point_estimates_where_it_computes():
    rpv, aov = _mean_metric(CASES), _ratio_metric(CASES)
    lifts = [
        (rpv.mean_v - rpv.mean_c, "abs_estimate"),
        (rpv.rel_lift, "rel_estimate"),
        (aov.rel_lift, "ratio_estimate"),
    ]
    for ours, key in lifts:
        computed = ~np.isnan(_reference(key))
        np.testing.assert_allclose(ours[computed], _reference(key)[computed], rtol=1e-9, atol=1e-12, err_msg=key)


def test_means_and_lifts_are_null_only_where_undefined():
    cases = [BY_NAME[n] for n in ("control-one-visitor", "variant-no-visitors", "control-nobody-bought")]
    rpv, aov = _mean_metric(cases), _ratio_metric(cases)
    # One visitor has a mean (no variance, so no test); no visitors have none; a control mean of 0 has no lift.
    assert rpv.mean_c[0] == 55.0 and not np.isnan(rpv.rel_lift[0]) and np.isnan(rpv.p_value[0])
    assert np.isnan(rpv.mean_v[1]) and np.isnan(rpv.rel_lift[1]) and np.isnan(aov.ratio_v[1])
    assert rpv.mean_c[2] == 0.0 and np.isnan(rpv.rel_lift[2])
    # Nobody bought in control: no orders, so no order value at all (gbstats' placeholder is 0).
    assert np.isnan(aov.ratio_c[2]) and np.isnan(aov.rel_lift[2])


def test_a_constant_arm_whose_float_sums_leave_a_tiny_variance_is_computed_as_gbstats_does():
    """Three visitors spending 49.99 each: the sums leave a variance of 4.5e-13, not 0, and gbstats computes."""
    case = BY_NAME["variant-everybody-spent-49.99"]
    assert case["abs_p_value"] is not None
    assert not np.isnan(_mean_metric([case]).p_value[0])


def _n_mean_variance(arm: dict) -> tuple[float, float, float]:
    """An arm's visitors, mean revenue and its sample variance (ddof=1), from the sums."""
    n, mean = arm["n"], arm["sum"] / arm["n"]
    return n, mean, (arm["sum_sq"] - n * mean**2) / (n - 1)


def test_absolute_test_is_welchs_t_test_and_its_interval_what_welch_does_not_reject():
    case = BY_NAME["typical-store"]
    (n_c, mean_c, var_c), (n_v, mean_v, var_v) = _n_mean_variance(case["control"]), _n_mean_variance(case["variant"])
    ours = _mean_metric([case])

    def welch_p(shift):
        """Welch's p-value of 'the variant's mean exceeds control's by `shift`'."""
        return stats.ttest_ind_from_stats(
            mean_v - shift, np.sqrt(var_v), n_v, mean_c, np.sqrt(var_c), n_c, equal_var=False
        ).pvalue

    assert ours.p_value[0] == pytest.approx(welch_p(0.0), abs=1e-9)
    assert welch_p(ours.ci_low[0]) == pytest.approx(case["alpha"], abs=1e-9)
    assert welch_p(ours.ci_high[0]) == pytest.approx(case["alpha"], abs=1e-9)


def test_chance_to_beat_control_is_the_flat_prior_posterior_mass_of_relative_lift_above_zero():
    case = BY_NAME["typical-store"]
    (n_c, mean_c, var_c), (n_v, mean_v, var_v) = _n_mean_variance(case["control"]), _n_mean_variance(case["variant"])
    # The relative lift's posterior: normal, centred on the observed lift, with the delta-method variance of
    # mean_v / mean_c (gbstats' default: relative difference, improper flat prior on the effect).
    lift = mean_v / mean_c - 1
    sd = np.sqrt(var_v / (n_v * mean_c**2) + var_c * mean_v**2 / (n_c * mean_c**4))
    mass, _ = integrate.quad(lambda x: stats.norm.pdf(x, lift, sd), 0, np.inf)
    assert _mean_metric([case]).chance_to_beat_control[0] == pytest.approx(mass, abs=1e-8)


def test_each_comparison_is_scored_alone_and_alpha_broadcasts():
    together = _mean_metric(CASES)
    for i, case in enumerate(CASES):
        alone = _mean_metric([case])
        for field in revenue.MeanMetric._fields:
            np.testing.assert_array_equal(getattr(alone, field)[0], getattr(together, field)[i], err_msg=field)
    control, variant = (_arm(CASES, arm, "n", "sum", "sum_sq") for arm in ("control", "variant"))
    scalar = revenue.mean_metric(*control, *variant, 0.05)
    assert scalar.ci_low.shape == (len(CASES),)


def test_the_default_tuning_is_the_scorecards():
    cases = [BY_NAME["variant-buyers-8pct-more"]]
    assert cases[0]["tuning"] == DEFAULT_TUNING
    np.testing.assert_array_equal(
        _mean_metric(cases, tuning=False).sequential_p_value, _mean_metric(cases).sequential_p_value
    )
