"""Scalar references for the scorecard's statistics: one comparison at a time, written from the textbook formula,
each checked against SciPy (test_reference.py), against which the package's array functions are checked.

Every function returns None where its answer is undefined (no visitors, a
zero standard error, fewer than two groups) instead of raising or inventing one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from mida_pipeline.stats.scorecard import MIN_SRM_VISITORS


def _rate(conversions: int, visitors: int) -> float | None:
    return conversions / visitors if visitors > 0 else None


def z_test_pooled(c_control: int, n_control: int, c_variant: int, n_variant: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (H0: both rates are equal).

    Assumes independent visitors and samples large enough for the normal
    approximation; undefined when a group has no visitors or nobody/everybody converted.
    """
    if n_control <= 0 or n_variant <= 0:
        return None
    pooled = (c_control + c_variant) / (n_control + n_variant)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_variant))
    if se == 0:
        return None
    z = (c_variant / n_variant - c_control / n_control) / se
    return float(2 * stats.norm.sf(abs(z)))


def wald_interval(
    c_control: int, n_control: int, c_variant: int, n_variant: int, level: float = 0.95
) -> tuple[float, float] | tuple[None, None]:
    """Wald interval of the difference in rates (variant minus control), unpooled standard error.

    Undefined, not zero-width, when the standard error is 0 (nobody, or everybody, converted in both groups).
    """
    if n_control <= 0 or n_variant <= 0:
        return None, None
    p_c, p_v = c_control / n_control, c_variant / n_variant
    se = math.sqrt(p_c * (1 - p_c) / n_control + p_v * (1 - p_v) / n_variant)
    if se == 0:
        return None, None
    z = stats.norm.ppf(0.5 + level / 2)
    diff = p_v - p_c
    return float(diff - z * se), float(diff + z * se)


def chance_to_beat(c_control: int, n_control: int, c_variant: int, n_variant: int) -> float | None:
    """P(variant's rate > control's) under independent Beta(1 + c, 1 + n - c) posteriors (uniform priors).

    Exact, by the closed-form sum over the variant's successes (Evan Miller's formula),
    computed in log space so large counts neither overflow nor lose precision. Undefined for a group without
    visitors: a flat prior alone is no evidence about that group.
    """
    if n_control <= 0 or n_variant <= 0 or c_control > n_control or c_variant > n_variant:
        return None
    a_c, b_c = 1 + c_control, 1 + n_control - c_control
    a_v, b_v = 1 + c_variant, 1 + n_variant - c_variant
    i = np.arange(a_v, dtype=float)
    log_terms = (
        special.betaln(a_c + i, b_c + b_v) - np.log(b_v + i) - special.betaln(1 + i, b_v) - special.betaln(a_c, b_c)
    )
    total = float(np.exp(special.logsumexp(log_terms)))
    return min(1.0, max(0.0, total))


def srm_p_value(visitors: Sequence[int], weights: Sequence[float | None] | None = None) -> float | None:
    """Chi-square goodness of fit of each variant's visitors against its traffic weight.

    A tiny p-value (below 0.001) means the split is not what was configured, a
    sample-ratio mismatch that makes the experiment's comparison untrustworthy.
    Weights that are missing (as under MAB allocation) make the test undefined, and so does a group with fewer
    than 8 visitors (too little traffic for the chi-square approximation). SciPy's `chisquare` does the test.
    """
    observed = np.asarray(visitors, dtype=float)
    if observed.size < 2 or observed.min() < MIN_SRM_VISITORS:
        return None
    if weights is None:
        expected_share = np.full(observed.size, 1 / observed.size)
    else:
        if any(w is None or (isinstance(w, float) and math.isnan(w)) or w <= 0 for w in weights):
            return None
        w = np.asarray(weights, dtype=float)
        expected_share = w / w.sum()
    return float(stats.chisquare(observed, observed.sum() * expected_share).pvalue)
