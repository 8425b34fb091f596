"""The two verdicts, over whole columns at once.

`verdict` says what Mida's own documented rule says, in the framework the experiment is analysed in; `safe_verdict`
says what the always-valid sequential test says after Holm's correction for the experiment's many comparisons.
"""

from __future__ import annotations

import numpy as np

from mida_pipeline.stats import alpha_of

BAYESIAN, FREQUENTIST = "bayesian", "frequentist"


def verdict(is_control, srm_flag, framework, tails, threshold_percent, chance, p_value, abs_lift) -> np.ndarray:
    """Mida's rule. Bayesian: winner when chance to beat control >= threshold, loser when <= 1 - threshold.
    Frequentist: winner or loser by the sign of the lift when p < 1 - threshold; one-tailed, the p-value in the
    direction of the observed difference, which for the symmetric z-test is half the two-sided one."""
    threshold = np.asarray(threshold_percent, dtype=float) / 100
    chance, p_value, lift = (np.asarray(v, dtype=float) for v in (chance, p_value, abs_lift))
    bayesian = np.asarray(framework) == BAYESIAN
    p_used = np.where(np.asarray(tails) == 1, p_value / 2, p_value)
    frequentist_call = np.where(
        p_used < 1 - threshold, np.where(lift > 0, "winner", np.where(lift < 0, "loser", "")), ""
    )
    bayesian_call = np.where(chance >= threshold, "winner", np.where(chance <= 1 - threshold, "loser", ""))
    call = np.where(bayesian, bayesian_call, frequentist_call)
    call = np.where(call == "", "inconclusive", call)
    call = np.where(np.asarray(srm_flag, dtype=bool), "srm_warning", call)
    return np.where(np.asarray(is_control, dtype=bool), "control", call).astype(object)


def safe_verdict(
    is_control, srm_flag, srm_undefined_for_traffic, threshold_percent, sequential_p_holm, abs_lift
) -> np.ndarray:
    """Winner or loser only when the Holm-corrected sequential p-value is below 1 - threshold (two-sided).

    not_enough_traffic while an arm has too few visitors for the sample-ratio check, or while the sequential
    test is undefined (an arm with no visitors, or with nobody or everybody converting).
    """
    alpha = alpha_of(np.asarray(threshold_percent, dtype=float))
    p, lift = np.asarray(sequential_p_holm, dtype=float), np.asarray(abs_lift, dtype=float)
    call = np.where(p < alpha, np.where(lift > 0, "winner", "loser"), "inconclusive")
    call = np.where(np.isnan(p), "not_enough_traffic", call)
    call = np.where(np.asarray(srm_flag, dtype=bool), "srm_warning", call)
    call = np.where(np.asarray(srm_undefined_for_traffic, dtype=bool), "not_enough_traffic", call)
    return np.where(np.asarray(is_control, dtype=bool), "control", call).astype(object)
