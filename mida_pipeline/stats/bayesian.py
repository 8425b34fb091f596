"""Bayesian statistics of conversion rates over numpy arrays: chance to beat control and expected loss.

Each arm's rate has the posterior Beta(1 + c, 1 + n - c) (uniform prior), the arms independent. Every answer is
one integral over the narrower of the two posteriors of its density times a closed form in the other's CDF,
computed by Gauss-Legendre quadrature between that posterior's 1e-13 and 1 - 1e-13 quantiles: deterministic,
accurate to far better than 1e-6, and the same few hundred operations per row whatever the counts. An arm
without visitors has no posterior worth the name, so every answer involving one is NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import special

NODES, WEIGHTS = np.polynomial.legendre.leggauss(32)
TAIL = 1e-13
CHUNK = 4096  # rows per block, so the (rows x nodes) work arrays stay a few megabytes


def _integrals(a1, b1, a2, b2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over A ~ Beta(a1, b1), with B ~ Beta(a2, b2): P(B > A), E[max(A - B, 0)] and E[max(B - A, 0)].

    E[max(x - B, 0)] = x F_B(x) - E[B] F_B+(x) and E[max(B - x, 0)] = E[B] (1 - F_B+(x)) - x (1 - F_B(x)),
    where B+ ~ Beta(a2 + 1, b2) (the size-biased B), so each is a smooth function of x to integrate against A.
    """
    lo = special.betaincinv(a1, b1, TAIL)
    hi = special.betainccinv(a1, b1, TAIL)
    half, mid = (hi - lo) / 2, (hi + lo) / 2
    x = mid[:, None] + half[:, None] * NODES[None, :]
    a1, b1, a2, b2 = (v[:, None] for v in (a1, b1, a2, b2))
    log_x, log_1mx = np.log(x), np.log1p(-x)
    # Normalised by its own quadrature sum rather than by B(a, b): SciPy's betaln loses ~1e-7 at 1e7 visitors,
    # while the density's mass outside the window is 2e-13.
    w = np.exp((a1 - 1) * log_x + (b1 - 1) * log_1mx - special.betaln(a1, b1)) * WEIGHTS[None, :]
    w /= w.sum(axis=1, keepdims=True)
    mean_b = a2 / (a2 + b2)
    cdf_b = special.betainc(a2, b2, x)
    # I_x(a + 1, b) = I_x(a, b) - x^a (1 - x)^b / (a B(a, b)): the size-biased CDF without a second betainc, the
    # costly call. betaln's small relative error only scales this term, which is itself below the density's scale.
    cdf_bp = cdf_b - np.exp(a2 * log_x + b2 * log_1mx - np.log(a2) - special.betaln(a2, b2))
    sf_b, sf_bp = 1 - cdf_b, 1 - cdf_bp
    b_wins = (w * sf_b).sum(axis=1)
    a_minus_b = (w * (x * cdf_b - mean_b * cdf_bp)).sum(axis=1)
    b_minus_a = (w * (mean_b * sf_bp - x * sf_b)).sum(axis=1)
    return b_wins, a_minus_b, b_minus_a


def posterior_comparison(cc, nc, cv, nv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chance_to_beat_control, expected_loss, expected_loss_control) for each comparison.

    chance_to_beat_control = P(variant rate > control rate); expected_loss = E[max(control - variant, 0)], what
    choosing the variant costs when it is worse; expected_loss_control = E[max(variant - control, 0)], what
    keeping control costs. NaN where an arm has no visitors or the counts are impossible.
    """
    cc, nc, cv, nv = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (cc, nc, cv, nv))
    ok = (nc > 0) & (nv > 0) & (cc >= 0) & (cv >= 0) & (cc <= nc) & (cv <= nv)
    ac, bc = 1 + np.where(ok, cc, 0), 1 + np.where(ok, nc - cc, 0)
    av, bv = 1 + np.where(ok, cv, 0), 1 + np.where(ok, nv - cv, 0)
    # Integrate over the narrower posterior: the other one's CDF is then smooth across the nodes.
    var_c = ac * bc / ((ac + bc) ** 2 * (ac + bc + 1))
    var_v = av * bv / ((av + bv) ** 2 * (av + bv + 1))
    over_control = var_c <= var_v
    chance, loss, loss_control = (np.full(cc.shape, np.nan) for _ in range(3))
    for start in range(0, cc.size, CHUNK):
        s = slice(start, start + CHUNK)
        oc = over_control[s]
        a1, b1 = np.where(oc, ac[s], av[s]), np.where(oc, bc[s], bv[s])
        a2, b2 = np.where(oc, av[s], ac[s]), np.where(oc, bv[s], bc[s])
        b_wins, a_minus_b, b_minus_a = _integrals(a1, b1, a2, b2)
        # Over control, B is the variant; over the variant, B is control and the roles swap.
        chance[s] = np.where(oc, b_wins, 1 - b_wins)
        loss[s] = np.where(oc, a_minus_b, b_minus_a)
        loss_control[s] = np.where(oc, b_minus_a, a_minus_b)
    clip = np.clip
    return (
        np.where(ok, clip(chance, 0, 1), np.nan),
        np.where(ok, clip(loss, 0, 1), np.nan),
        np.where(ok, clip(loss_control, 0, 1), np.nan),
    )
