"""Chance to beat control and expected loss agree with SciPy's numerical integration of the Beta posteriors,
to 1e-6, on generated counts from tiny to huge and on the edges; an arm without visitors gets no number."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from mida_pipeline.stats.bayesian import posterior_comparison
from mida_pipeline_tests.stats.reference import chance_to_beat


def _cases(n: int = 120, seed: int = 20261201):
    rng = np.random.default_rng(seed)
    cases = [
        (0, 1, 0, 1),
        (1, 1, 0, 1),
        (0, 10, 10, 10),
        (0, 1000, 0, 1000),
        (1000, 1000, 1000, 1000),
        (30, 20_000_000, 45, 20_000_000),
        (1_500_000, 50_000_000, 1_503_000, 50_000_000),
        (40, 800, 2_400, 30_000),
        (0, 100_000, 1, 3),
        (5, 5, 0, 2_000_000),
        (45_692, 1_474_816, 1, 1),
    ]
    for _ in range(n):
        nc, nv = (max(1, int(x)) for x in rng.choice([1, 10, 100, 10_000, 1_000_000], 2) * rng.uniform(0.5, 1.5, 2))
        p = rng.uniform(0, 0.6)
        cases.append((int(rng.binomial(nc, p)), nc, int(rng.binomial(nv, min(1, p * rng.uniform(0.8, 1.25)))), nv))
    return cases


CASES = _cases()


def _sd(a, b):
    return np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))


def reference(cc, nc, cv, nv):
    """SciPy quadrature over the narrower posterior (the other's CDF is smooth there), with the inner expectation
    of the loss as a second quadrature: E[max(x - W, 0)] = integral of F_W from 0 to x."""
    control, variant = stats.beta(1 + cc, 1 + nc - cc), stats.beta(1 + cv, 1 + nv - cv)
    narrow_is_control = _sd(1 + cc, 1 + nc - cc) <= _sd(1 + cv, 1 + nv - cv)
    narrow, wide = (control, variant) if narrow_is_control else (variant, control)
    lo, hi = narrow.ppf(1e-12), narrow.isf(1e-12)
    wide_lo, wide_hi = wide.ppf(1e-12), wide.isf(1e-12)  # F_W is 0 below, 1 above, to 1e-12

    def outer(f):
        return integrate.quad(
            lambda x: narrow.pdf(x) * f(x), lo, hi, points=[narrow.mean()], limit=500, epsabs=1e-13, epsrel=1e-12
        )[0]

    def below(x):  # E[max(x - W, 0)] = integral of F_W from 0 to x
        top = min(x, wide_hi)
        inside = integrate.quad(wide.cdf, wide_lo, top, limit=200, epsabs=1e-15)[0] if top > wide_lo else 0.0
        return inside + max(0.0, x - wide_hi)

    def above(x):  # E[max(W - x, 0)] = integral of 1 - F_W from x to 1
        bottom = max(x, wide_lo)
        inside = integrate.quad(wide.sf, bottom, wide_hi, limit=200, epsabs=1e-15)[0] if bottom < wide_hi else 0.0
        return inside + max(0.0, wide_lo - x)

    if narrow_is_control:
        return outer(wide.sf), outer(below), outer(above)
    return outer(wide.cdf), outer(above), outer(below)


@pytest.mark.parametrize("cc, nc, cv, nv", CASES[:60])
def test_chance_and_expected_losses_match_scipy_quadrature(cc, nc, cv, nv):
    chance, loss, loss_control = (float(v[0]) for v in posterior_comparison([cc], [nc], [cv], [nv]))
    ref_chance, ref_loss, ref_loss_control = reference(cc, nc, cv, nv)
    assert chance == pytest.approx(ref_chance, abs=1e-6)
    assert loss == pytest.approx(ref_loss, abs=1e-6)
    assert loss_control == pytest.approx(ref_loss_control, abs=1e-6)


def test_chance_over_arrays_matches_quadrature_on_every_generated_case():
    chance, loss, loss_control = posterior_comparison(*np.array(CASES).T)
    for i, (cc, nc, cv, nv) in enumerate(CASES):
        control, variant = stats.beta(1 + cc, 1 + nc - cc), stats.beta(1 + cv, 1 + nv - cv)
        narrow_is_control = _sd(1 + cc, 1 + nc - cc) <= _sd(1 + cv, 1 + nv - cv)
        narrow, other = (control, variant) if narrow_is_control else (variant, control)
        f = other.sf if narrow is control else other.cdf
        ref = integrate.quad(
            lambda x, narrow=narrow, f=f: narrow.pdf(x) * f(x),
            narrow.ppf(1e-12),
            narrow.isf(1e-12),
            points=[narrow.mean()],
            limit=500,
            epsabs=1e-13,
        )[0]
        assert chance[i] == pytest.approx(ref, abs=1e-6), (cc, nc, cv, nv)
        # E[V - C] = E[max(V - C, 0)] - E[max(C - V, 0)], exactly, whatever the posteriors.
        assert loss_control[i] - loss[i] == pytest.approx(variant.mean() - control.mean(), abs=1e-9)


def test_array_chance_equals_the_closed_form_of_one_comparison():
    small = [c for c in CASES if c[1] <= 100_000 and c[3] <= 100_000]
    chance = posterior_comparison(*np.array(small).T)[0]
    assert chance == pytest.approx([chance_to_beat(*c) for c in small], abs=1e-8)


@pytest.mark.parametrize(
    "counts",
    [(0, 0, 0, 0), (50, 1000, 0, 0), (0, 0, 50, 1000)],
    ids=["no-visitors", "variant-without-visitors", "control-without-visitors"],
)
def test_an_arm_without_visitors_gets_no_probability_and_no_loss(counts):
    assert all(np.isnan(v[0]) for v in posterior_comparison(*([c] for c in counts)))


def test_equal_arms_are_a_coin_flip_with_equal_losses():
    chance, loss, loss_control = (float(v[0]) for v in posterior_comparison([37], [400], [37], [400]))
    assert chance == pytest.approx(0.5, abs=1e-9) and loss == pytest.approx(loss_control, abs=1e-9) and loss > 0
