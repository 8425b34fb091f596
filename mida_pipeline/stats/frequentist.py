"""Frequentist statistics of conversion rates over numpy arrays, one comparison (control, variant) per element.

Inputs are conversions and visitors of each arm; every function answers NaN where its statistic is undefined
(an arm without visitors, a zero standard error), never 0 and never a zero-width interval. The sequential and
relative statistics follow GrowthBook's gbstats (`SequentialTwoSidedTTest`, `TwoSidedTTest`) formula by formula:
gbstats declines to compute, and so do these, when either arm's rate is 0 or 1 (no variance) or control's is 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from mida_pipeline.stats import DEFAULT_TUNING

POWER = 0.8


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def per(total, n) -> np.ndarray:
    """`total / n` element by element where `n` is positive, NaN where it is not (a rate or a mean of no one)."""
    total, n = _f(total), _f(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, total / np.where(n > 0, n, 1), np.nan)


def _rates(cc, nc, cv, nv) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return per(cc, nc), _f(nc), per(cv, nv), _f(nv)


def _both_vary(pc, pv) -> np.ndarray:
    """gbstats' condition for its t-tests: each arm has 0 < rate < 1 (hence at least two visitors)."""
    return (pc > 0) & (pc < 1) & (pv > 0) & (pv < 1)


def z_test_pooled(cc, nc, cv, nv) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test; NaN without visitors or when nobody/everybody converted."""
    pc, nc, pv, nv = _rates(cc, nc, cv, nv)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (pc * nc + pv * nv) / (nc + nv)
        se = np.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nv))
        z = (pv - pc) / se
    return np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan)


def wald_interval(cc, nc, cv, nv, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval of variant rate minus control rate (unpooled); NaN where the standard error is 0."""
    pc, nc, pv, nv = _rates(cc, nc, cv, nv)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pc * (1 - pc) / nc + pv * (1 - pv) / nv)
    half = np.where(se > 0, stats.norm.ppf(0.5 + level / 2) * se, np.nan)
    return pv - pc - half, pv - pc + half


def sequential_rho(alpha, tuning) -> np.ndarray:
    """The mixing parameter that makes the confidence sequence tightest at `tuning` visitors (both arms together)."""
    alpha = _f(alpha)
    return np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / _f(tuning))


def sequential_test(cc, nc, cv, nv, alpha, tuning=DEFAULT_TUNING) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Always-valid p-value and confidence sequence of the absolute difference of rates.

    Waudby-Smith et al. (2023), asymptotic confidence sequences, eqs. 9, 155 and 161, as gbstats'
    `SequentialTwoSidedTTest` computes them: with N the visitors of both arms, V the variance of the difference
    (p(1-p)/n per arm) and rho from alpha and the tuning sample, the half-width is
    sqrt(V N) sqrt(2 (N rho^2 + 1) log(sqrt(N rho^2 + 1) / alpha) / (N rho)^2) and the p-value is 1 / e-value,
    capped at 1. Unlike a fixed-horizon p-value it stays valid however often it is read.
    """
    pc, nc, pv, nv = _rates(cc, nc, cv, nv)
    ok = _both_vary(pc, pv)
    alpha = _f(alpha)
    rho = sequential_rho(alpha, tuning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n = nc + nv
        variance = pc * (1 - pc) / nc + pv * (1 - pv) / nv
        diff = pv - pc
        tr2p1 = n * rho**2 + 1
        half = np.sqrt(variance * n) * np.sqrt(2 * tr2p1 * np.log(np.sqrt(tr2p1) / alpha) / (n * rho) ** 2)
        # gbstats computes exp(...) and 1 / e; in logs the same number without overflow on huge samples.
        log_evalue = rho**2 * (diff**2 * n / variance) / (2 * tr2p1) - 0.5 * np.log(tr2p1)
        p = np.minimum(np.exp(-log_evalue), 1.0)
    return np.where(ok, p, np.nan), np.where(ok, diff - half, np.nan), np.where(ok, diff + half, np.nan)


def relative_interval(cc, nc, cv, nv, alpha) -> tuple[np.ndarray, np.ndarray]:
    """Interval of variant rate / control rate - 1 by the delta method, Student t with Welch's degrees of freedom.

    As gbstats' two-sided `TwoSidedTTest` with relative difference: variance
    var_v / (pc^2 nv) + var_c pv^2 / (pc^4 nc), half-width t(1 - alpha/2, dof) times its square root.
    """
    pc, nc, pv, nv = _rates(cc, nc, cv, nv)
    ok = _both_vary(pc, pv)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_c, var_v = pc * (1 - pc), pv * (1 - pv)
        variance = var_v / (pc**2 * nv) + var_c * pv**2 / (pc**4 * nc)
        dof = (var_v / nv + var_c / nc) ** 2 / (var_v**2 / (nv**2 * (nv - 1)) + var_c**2 / (nc**2 * (nc - 1)))
        half = stats.t.ppf(1 - _f(alpha) / 2, np.where(ok, dof, 1.0)) * np.sqrt(variance)
        estimate = (pv - pc) / pc
    return np.where(ok, estimate - half, np.nan), np.where(ok, estimate + half, np.nan)


def _z_alpha(alpha, tails) -> np.ndarray:
    return special.ndtri(1 - _f(alpha) / _f(tails))


def mde_abs(cc, nc, nv, alpha, tails, power: float = POWER) -> np.ndarray:
    """Smallest absolute lift detected with `power` at `alpha` (one- or two-tailed), SE from control's rate in both arms."""
    pc, nc, _, nv = _rates(cc, nc, 0, nv)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pc * (1 - pc) * (1 / nc + 1 / nv))
    mde = (_z_alpha(alpha, tails) + special.ndtri(power)) * se
    return np.where((se > 0) & np.isfinite(se), mde, np.nan)


def sample_per_arm(control_rate, lift, alpha, tails, power: float = POWER) -> np.ndarray:
    """Visitors each arm needs for `lift` to be detected with `power`: the n where mde_abs with nc = nv = n equals |lift|."""
    pc, lift = _f(control_rate), np.abs(_f(lift))
    with np.errstate(divide="ignore", invalid="ignore"):
        n = 2 * pc * (1 - pc) * ((_z_alpha(alpha, tails) + special.ndtri(power)) / lift) ** 2
    return np.where((lift > 0) & (pc > 0) & (pc < 1), n, np.nan)


# Further than this the lift seen is too small to detect at this traffic; a count of millions of days (or one past
# what a 64-bit integer holds, as nearly equal rates on a large sample give) would say nothing more.
MAX_DAYS_REMAINING = 36_525  # a hundred years


def days_remaining(n_needed, visitors_control, rate_control, visitors_variant, rate_variant) -> np.ndarray:
    """Whole days until both arms hold `n_needed` visitors at their daily arrival rates; 0 when they already do.

    NaN when the target is unknown, an arm still short of it has no arrivals (a rate of 0 or unknown), or it is more
    than MAX_DAYS_REMAINING days away.
    """
    n_needed = _f(n_needed)

    def arm(visitors, rate):
        visitors, rate = _f(visitors), _f(rate)
        short = np.maximum(n_needed - visitors, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            days = np.where(short > 0, np.ceil(short / np.where(rate > 0, rate, np.nan)), 0.0)
        return days

    days = np.maximum(arm(visitors_control, rate_control), arm(visitors_variant, rate_variant))
    return np.where(np.isnan(n_needed) | (days > MAX_DAYS_REMAINING), np.nan, days)
