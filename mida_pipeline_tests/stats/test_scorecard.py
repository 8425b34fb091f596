"""The scorecard scores each variant against its own experiment's control, and never fails on odd data."""

from datetime import date

import pandas as pd
import pytest

from mida_pipeline.stats.scorecard import COLUMNS, scorecard
from mida_pipeline.stats.tests import z_test_pooled


def rows(test_id, variants, day=date(2026, 11, 20), threshold=95.0, mab=False, weights=None):
    return [
        {"project_key": "shop", "test_id": test_id, "variant_id": str(i), "result_date": day, "test_name": f"t{test_id}",
         "variant_name": f"v{i}", "is_control": i == 0, "visitors": n, "conversions": c, "revenue": 2.0 * c,
         "traffic_weight": None if mab else (weights[i] if weights else 1 / len(variants)), "is_mab": mab,
         "confidence_threshold_percent": threshold}
        for i, (n, c) in enumerate(variants)
    ]


def test_a_clear_winner_and_its_statistics():
    card = scorecard(pd.DataFrame(rows(1, [(10_000, 1_000), (10_000, 1_200)])))
    variant = card[card.variant_id == "1"].iloc[0]
    assert variant.verdict == "winner" and variant.is_significant
    assert variant.abs_lift == pytest.approx(0.02) and variant.rel_lift == pytest.approx(0.2)
    assert variant.p_value == pytest.approx(z_test_pooled(1_000, 10_000, 1_200, 10_000))
    assert variant.ci_low < 0.02 < variant.ci_high and variant.chance_to_beat_control > 0.99
    assert variant.rpv_lift == pytest.approx(0.2)
    assert card[card.variant_id == "0"].iloc[0].verdict == "control"


def test_only_the_latest_day_is_scored():
    old = rows(1, [(100, 10), (100, 50)], day=date(2026, 11, 1))
    new = rows(1, [(1_000, 100), (1_000, 101)], day=date(2026, 11, 20))
    card = scorecard(pd.DataFrame(old + new))
    assert set(card.as_of_date.dt.date) == {date(2026, 11, 20)} and len(card) == 2


def test_sample_ratio_mismatch_overrides_the_verdict():
    card = scorecard(pd.DataFrame(rows(1, [(10_000, 1_000), (12_000, 1_500)])))
    variant = card[card.variant_id == "1"].iloc[0]
    assert variant.srm_flag and variant.verdict == "srm_warning"


def test_mab_experiments_have_no_srm_test():
    card = scorecard(pd.DataFrame(rows(1, [(10_000, 1_000), (30_000, 3_300)], mab=True)))
    assert card.srm_p_value.isna().all() and not card.srm_flag.any()


@pytest.mark.parametrize(
    "variants",
    [[(0, 0), (0, 0)], [(100, 0), (100, 0)], [(100, 100), (100, 100)], [(50, 5)], [(0, 0), (100, 10)]],
    ids=["no-visitors", "no-conversions", "all-convert", "lone-variant", "control-without-visitors"],
)
def test_edge_cases_give_nulls_not_errors(variants):
    card = scorecard(pd.DataFrame(rows(1, variants)))
    assert len(card) == len(variants)
    assert "winner" not in set(card.verdict) and "loser" not in set(card.verdict)
    if variants[0] == (0, 0):  # no control rate: no lift and no test against it
        assert card.abs_lift.isna().all() and card.p_value.isna().all()


def test_an_empty_input_gives_an_empty_table_with_every_column():
    assert list(scorecard(pd.DataFrame(columns=list(rows(1, [(1, 0)])[0]))).columns) == COLUMNS


def test_the_threshold_is_the_experiments_own():
    variants = [(20_000, 2_000), (20_000, 2_110)]  # p is about 0.07: significant at 90 %, not at 95 %
    strict = scorecard(pd.DataFrame(rows(1, variants, threshold=95.0))).iloc[1]
    loose = scorecard(pd.DataFrame(rows(1, variants, threshold=90.0))).iloc[1]
    assert 0.05 < strict.p_value < 0.1
    assert not strict.is_significant and loose.is_significant
