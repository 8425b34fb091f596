"""Statistics of revenue over numpy arrays, one comparison (control, variant) per element.

Two metrics, each from per-arm sums over visitors (every visitor counts, buyer or not):

- revenue per visitor, a mean metric: `n` visitors, `sum` of their revenue and `sum_sq` of its squares;
- average order value, a ratio metric (revenue / orders): with `m` the revenue sum, `d` the orders sum, `m_sq` and
  `d_sq` their sums of squares and `md` the sum over visitors of revenue times orders.

Every figure follows GrowthBook's gbstats 0.8.0 formula by formula, on `SampleMeanStatistic(n, sum, sum_squares)`
per arm for revenue per visitor and `RatioStatistic` (of two `SampleMeanStatistic`, with `m_d_sum_of_products`) for
order value: variances with the n - 1 denominator, Student t with Welch-Satterthwaite degrees of freedom.

- `p_value`, `ci_low`, `ci_high`: `TwoSidedTTest`, difference_type "absolute";
- `rel_ci_low`, `rel_ci_high` (and order value's `p_value`): `TwoSidedTTest`, "relative" (delta method);
- `sequential_p_value`: `SequentialTwoSidedTTest`, "absolute", with the given tuning sample;
- `chance_to_beat_control`: `EffectBayesianABTest` as configured by default, i.e. the relative lift under a flat
  (improper) prior: the normal cdf of the relative lift over its delta-method standard error.

gbstats declines to compute (an error message and placeholder numbers) when control's mean is 0, for the absolute
test as well as the relative one, or when either arm's variance is not positive (fewer than 2 visitors, everybody
alike, no orders); there every test figure here is NaN. The descriptive means are NaN only where they are
undefined (no visitors; no orders for order value; control's mean 0 for the relative lift).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special, stats

from mida_pipeline.stats import DEFAULT_TUNING
from mida_pipeline.stats.frequentist import per, sequential_rho


class MeanMetric(NamedTuple):
    mean_c: np.ndarray
    mean_v: np.ndarray
    rel_lift: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rel_ci_low: np.ndarray
    rel_ci_high: np.ndarray
    sequential_p_value: np.ndarray
    chance_to_beat_control: np.ndarray


class RatioMetric(NamedTuple):
    ratio_c: np.ndarray
    ratio_v: np.ndarray
    rel_lift: np.ndarray
    p_value: np.ndarray
    rel_ci_low: np.ndarray
    rel_ci_high: np.ndarray


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _sample_mean(n, total, total_sq) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) of one arm, as gbstats' `SampleMeanStatistic`; NaN without visitors, variance NaN below 2."""
    mean = per(total, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(n > 1, (total_sq - total**2 / n) / (n - 1), np.nan)
    return mean, variance


def _ratio(n, m, m_sq, d, d_sq, md) -> tuple[np.ndarray, np.ndarray]:
    """(ratio, delta-method variance per visitor) of one arm, as gbstats' `RatioStatistic`; NaN without orders."""
    mean_m, var_m = _sample_mean(n, m, m_sq)
    mean_d, var_d = _sample_mean(n, d, d_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        covariance = np.where(n > 1, (md - m * d / n) / (n - 1), np.nan)
        # Terms in gbstats' order, so a variance that cancels to zero (every order the same value) does so here too.
        variance = var_m / mean_d**2 - 2 * covariance * mean_m / mean_d**3 + mean_m**2 * var_d / mean_d**4
        ratio = np.where(d != 0, m / d, np.nan)
    return ratio, np.where(mean_d != 0, variance, np.nan)


def _computable(mean_c, var_c, var_v) -> np.ndarray:
    """Where gbstats' tests compute: control's mean is not 0 and both arms' variances are positive (NaN is not)."""
    return (mean_c != 0) & np.isfinite(mean_c) & (var_c > 0) & (var_v > 0)


def _welch_dof(var_c, n_c, var_v, n_v) -> np.ndarray:
    return (var_v / n_v + var_c / n_c) ** 2 / (var_v**2 / (n_v**2 * (n_v - 1)) + var_c**2 / (n_c**2 * (n_c - 1)))


def _relative(mean_c, var_c, n_c, mean_v, var_v, n_v) -> tuple[np.ndarray, np.ndarray]:
    """(mean_v - mean_c) / mean_c and the delta-method variance of that estimate (gbstats' `frequentist_variance`)."""
    estimate = (mean_v - mean_c) / mean_c
    variance = var_v / (mean_c**2 * n_v) + var_c * mean_v**2 / (mean_c**4 * n_c)
    return estimate, variance


def _t_test(estimate, variance, dof, alpha, ok) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided p-value and 1 - alpha interval of `estimate`, Student t with `dof`; NaN where not `ok`."""
    dof = np.where(ok, dof, 1.0)
    se = np.sqrt(variance)
    # gbstats writes 2 (1 - cdf); the survival function is the same number without rounding tiny p-values to 0.
    p = 2 * stats.t.sf(np.abs(estimate / se), dof)
    half = stats.t.ppf(1 - _f(alpha) / 2, dof) * se
    return np.where(ok, p, np.nan), np.where(ok, estimate - half, np.nan), np.where(ok, estimate + half, np.nan)


def _sequential_p_value(diff, variance, n, alpha, tuning) -> np.ndarray:
    """gbstats' `SequentialTwoSidedTTest` p-value (Waudby-Smith et al. 2023, eq. 155): 1 / e-value, capped at 1."""
    rho2 = sequential_rho(alpha, tuning) ** 2
    tr2p1 = n * rho2 + 1
    # gbstats computes exp(...) and 1 / e; in logs the same number without overflow on huge samples.
    log_evalue = rho2 * (diff**2 * n / variance) / (2 * tr2p1) - 0.5 * np.log(tr2p1)
    return np.minimum(np.exp(-log_evalue), 1.0)


def mean_metric(n_c, sum_c, sum_sq_c, n_v, sum_v, sum_sq_v, alpha, tuning=DEFAULT_TUNING) -> MeanMetric:
    """Revenue per visitor of each arm and the statistics of the variant's against control's.

    `ci_low`/`ci_high` bound the absolute difference per visitor, `rel_ci_low`/`rel_ci_high` the relative lift,
    both at level 1 - alpha; `tuning` is the two-arm sample size the sequential test is tightest at.
    """
    n_c, n_v = _f(n_c), _f(n_v)
    mean_c, var_c = _sample_mean(n_c, _f(sum_c), _f(sum_sq_c))
    mean_v, var_v = _sample_mean(n_v, _f(sum_v), _f(sum_sq_v))
    ok = _computable(mean_c, var_c, var_v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dof = _welch_dof(var_c, n_c, var_v, n_v)
        diff, abs_variance = mean_v - mean_c, var_v / n_v + var_c / n_c
        p, low, high = _t_test(diff, abs_variance, dof, alpha, ok)
        rel, rel_variance = _relative(mean_c, var_c, n_c, mean_v, var_v, n_v)
        _, rel_low, rel_high = _t_test(rel, rel_variance, dof, alpha, ok)
        sequential = _sequential_p_value(diff, abs_variance, n_c + n_v, _f(alpha), _f(tuning))
        chance = special.ndtr(rel / np.sqrt(rel_variance))
    return MeanMetric(
        mean_c=mean_c,
        mean_v=mean_v,
        rel_lift=np.where(mean_c != 0, rel, np.nan),
        p_value=p,
        ci_low=low,
        ci_high=high,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        sequential_p_value=np.where(ok, sequential, np.nan),
        chance_to_beat_control=np.where(ok, chance, np.nan),
    )


def ratio_metric(n_c, m_c, m_sq_c, d_c, d_sq_c, md_c, n_v, m_v, m_sq_v, d_v, d_sq_v, md_v, alpha) -> RatioMetric:
    """Average order value (revenue / orders) of each arm and the relative test of the variant's against control's.

    `p_value` is the relative test's (its statistic is the relative lift over its delta-method standard error).
    """
    n_c, n_v = _f(n_c), _f(n_v)
    ratio_c, var_c = _ratio(n_c, *map(_f, (m_c, m_sq_c, d_c, d_sq_c, md_c)))
    ratio_v, var_v = _ratio(n_v, *map(_f, (m_v, m_sq_v, d_v, d_sq_v, md_v)))
    ok = _computable(ratio_c, var_c, var_v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dof = _welch_dof(var_c, n_c, var_v, n_v)
        rel, rel_variance = _relative(ratio_c, var_c, n_c, ratio_v, var_v, n_v)
        p, low, high = _t_test(rel, rel_variance, dof, alpha, ok)
    return RatioMetric(
        ratio_c=ratio_c,
        ratio_v=ratio_v,
        rel_lift=np.where(ratio_c != 0, rel, np.nan),
        p_value=p,
        rel_ci_low=low,
        rel_ci_high=high,
    )
