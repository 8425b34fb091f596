"""Splitting counts into segments: exact integers, never more conversions than visitors."""

from __future__ import annotations

import random

from mida_pipeline.sandbox.data import DayCounts
from mida_pipeline.sandbox.segments import (
    DIMENSIONS,
    apportion,
    partition,
    propensities,
)


def test_apportion_is_exact_and_proportional_within_one():
    rnd = random.Random(5)
    for _ in range(500):
        weights = [rnd.random() for _ in range(rnd.randint(1, 7))]
        total = rnd.randint(0, 10_000)
        parts = apportion(total, weights)
        assert sum(parts) == total and all(p >= 0 for p in parts)
        assert all(abs(p - total * w / sum(weights)) < 1 for p, w in zip(parts, weights, strict=True))
    assert apportion(5, [0.0, 0.0]) == [3, 2]  # no weight at all: even


def test_a_partition_never_converts_more_than_a_segment_has():
    import numpy as np

    rnd = random.Random(6)
    for _ in range(200):
        counts = []
        for _ in range(3):
            visitors = rnd.randint(0, 12)
            conversions = rnd.randint(0, visitors)
            counts.append(DayCounts(visitors, conversions, round(conversions * 41.5, 2), conversions))
        weights = propensities(np.random.default_rng(rnd.randint(0, 99)), "browser", 3)
        split = partition(counts, weights, "browser")
        for k, c in enumerate(counts):
            cells = [split[s][k] for s in split]
            assert sum(x[0] for x in cells) == c.visitors and sum(x[1] for x in cells) == c.conversions
            assert all(x[1] <= x[0] for x in cells)
            assert round(sum(x[2] for x in cells), 2) == c.revenue


def test_every_documented_dimension_has_segments_whose_shares_sum_to_one():
    assert len(DIMENSIONS) == 14
    for values in DIMENSIONS.values():
        assert abs(sum(share for _, share in values) - 1) < 1e-9 and len({v for v, _ in values}) == len(values)
