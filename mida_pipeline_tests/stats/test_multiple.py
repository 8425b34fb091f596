"""Holm-Bonferroni and Benjamini-Hochberg, family by family, equal statsmodels' `multipletests`."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from mida_pipeline.stats.multiple import benjamini_hochberg, holm


@pytest.mark.parametrize("seed", range(25))
def test_each_family_is_adjusted_as_statsmodels_adjusts_it_alone(seed):
    rng = np.random.default_rng(seed)
    families = rng.integers(0, 6, 60)
    p = np.where(rng.uniform(size=60) < 0.4, rng.uniform(0, 0.05, 60), rng.uniform(size=60))
    p[rng.uniform(size=60) < 0.15] = np.nan  # undefined comparisons are not in any family
    ours_holm, ours_bh = holm(p, families), benjamini_hochberg(p, families)
    for family in np.unique(families):
        members = (families == family) & ~np.isnan(p)
        if members.any():
            np.testing.assert_allclose(ours_holm[members], multipletests(p[members], method="holm")[1], atol=1e-12)
            np.testing.assert_allclose(ours_bh[members], multipletests(p[members], method="fdr_bh")[1], atol=1e-12)
    assert np.isnan(ours_holm[np.isnan(p)]).all() and np.isnan(ours_bh[np.isnan(p)]).all()


def test_ties_and_a_family_of_one():
    p = np.array([0.01, 0.01, 0.04, 0.3])
    np.testing.assert_allclose(holm(p, [1, 1, 1, 2]), [0.03, 0.03, 0.04, 0.3])
    np.testing.assert_allclose(
        benjamini_hochberg(p, [1, 1, 1, 2]), multipletests(p[:3], method="fdr_bh")[1].tolist() + [0.3]
    )


def test_text_family_labels_and_no_comparisons_at_all():
    assert np.isnan(holm([np.nan, np.nan], ["a", "a"])).all()
    assert holm([0.2, 0.01], ["x", "y"]) == pytest.approx([0.2, 0.01])
