"""The scalar references the array statistics are checked against agree with SciPy's own implementations on
generated and edge cases."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from mida_pipeline_tests.stats.reference import (
    chance_to_beat,
    srm_p_value,
    wald_interval,
    z_test_pooled,
)


def _cases(n: int = 220, seed: int = 20261123):
    """Counts from tiny to huge, rates from 0 to 1, plus the edges written out."""
    rng = np.random.default_rng(seed)
    cases = [
        (0, 0, 0, 10),
        (0, 10, 0, 10),
        (10, 10, 10, 10),
        (0, 10, 10, 10),
        (1, 1, 0, 1),
        (0, 5, 3, 7),
        (500_000, 10_000_000, 501_000, 10_000_000),
        (3, 1_000_000, 9, 1_000_000),
    ]
    for _ in range(n):
        n_c, n_v = (int(x) for x in rng.choice([1, 10, 100, 10_000, 1_000_000], 2) * rng.uniform(0.5, 1.5, 2))
        p = rng.uniform(0, 0.5)
        cases.append((int(rng.binomial(n_c, p)), n_c, int(rng.binomial(n_v, p * rng.uniform(0.8, 1.25))), n_v))
    return cases


CASES = _cases()


def reference_z_test(cc, nc, cv, nv):
    """The pooled z-test as SciPy computes it: a chi-square test of the 2x2 table without continuity correction."""
    table = np.array([[cc, nc - cc], [cv, nv - cv]])
    if table.sum(axis=0).min() == 0:
        return None
    return stats.chi2_contingency(table, correction=False)[1]


@pytest.mark.parametrize("cc, nc, cv, nv", CASES)
def test_pooled_z_test_matches_scipy(cc, nc, cv, nv):
    ours = z_test_pooled(cc, nc, cv, nv) if nc and nv else None
    expected = reference_z_test(cc, nc, cv, nv) if nc and nv else None
    if expected is None:
        assert ours is None
    else:
        assert ours == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("cc, nc, cv, nv", CASES)
def test_wald_interval_matches_scipy_normal(cc, nc, cv, nv):
    low, high = wald_interval(cc, nc, cv, nv)
    if not nc or not nv:
        assert (low, high) == (None, None)
        return
    pc, pv = cc / nc, cv / nv
    se = math.sqrt(pc * (1 - pc) / nc + pv * (1 - pv) / nv)
    if se == 0:  # nobody (or everybody) converted in either group: undefined, never the zero-width (d, d)
        assert (low, high) == (None, None)
        return
    ref_low, ref_high = stats.norm.interval(0.95, loc=pv - pc, scale=se)
    assert low == pytest.approx(ref_low, abs=1e-6) and high == pytest.approx(ref_high, abs=1e-6)


def reference_chance(cc, nc, cv, nv):
    """P(B > A) = integral of pdf_B(x) * cdf_A(x), with SciPy's Beta and quadrature over where B has mass."""
    a, b = stats.beta(1 + cc, 1 + nc - cc), stats.beta(1 + cv, 1 + nv - cv)
    lo, hi = b.ppf(1e-12), b.isf(1e-12)
    value, _ = integrate.quad(lambda x: b.pdf(x) * a.cdf(x), lo, hi, limit=500, epsabs=1e-11, points=[b.mean()])
    return value


@pytest.mark.parametrize("cc, nc, cv, nv", [c for c in CASES if c[1] <= 200_000 and c[3] <= 200_000][:120])
def test_chance_to_beat_control_matches_numerical_integration(cc, nc, cv, nv):
    if not nc or not nv:  # a group without visitors gets no probability at all
        assert chance_to_beat(cc, nc, cv, nv) is None
        return
    assert chance_to_beat(cc, nc, cv, nv) == pytest.approx(reference_chance(cc, nc, cv, nv), abs=1e-6)


def test_chance_to_beat_is_symmetric_and_a_probability():
    for cc, nc, cv, nv in [c for c in CASES if c[1] and c[3]][:60]:
        forward, backward = chance_to_beat(cc, nc, cv, nv), chance_to_beat(cv, nv, cc, nc)
        assert 0 <= forward <= 1
        assert forward + backward == pytest.approx(1, abs=1e-6)


def test_equal_evidence_is_a_coin_flip():
    assert chance_to_beat(37, 400, 37, 400) == pytest.approx(0.5, abs=1e-9)
    assert chance_to_beat(0, 1, 0, 1) == pytest.approx(0.5, abs=1e-9)


def test_no_visitors_is_no_evidence_not_a_coin_flip():
    assert chance_to_beat(0, 0, 0, 0) is None
    assert chance_to_beat(100, 1_000, 0, 0) is None and chance_to_beat(0, 0, 100, 1_000) is None


@pytest.mark.parametrize("seed", range(40))
def test_srm_matches_scipy_chisquare(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    weights = rng.dirichlet([5] * k)
    visitors = rng.multinomial(int(rng.integers(100, 200_000)), weights)
    expected = stats.chisquare(visitors, visitors.sum() * weights / weights.sum()).pvalue
    assert srm_p_value(list(visitors), list(weights)) == pytest.approx(expected, abs=1e-6)


def test_srm_is_undefined_without_weights_or_traffic():
    assert srm_p_value([100, 120], [None, None]) is None
    assert srm_p_value([0, 0]) is None
    assert srm_p_value([100]) is None
    assert srm_p_value([500, 500]) == pytest.approx(1.0)


def test_srm_needs_eight_visitors_in_every_group():
    assert srm_p_value([7, 500]) is None
    assert srm_p_value([8, 500]) == pytest.approx(stats.chisquare([8, 500]).pvalue, abs=1e-12)
