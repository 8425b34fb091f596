"""Experiment statistics: the numbers Mida's result API does not give. NumPy and SciPy, no Dagster.

`tests` holds the one-comparison functions; `frequentist`, `bayesian` and `multiple` the same ideas over whole
arrays, which `comparison` (the scoring the two share), `scorecard` and `segments` use to score every variant of
every experiment at once.
"""

from mida_pipeline.stats.tests import (
    chance_to_beat,
    srm_p_value,
    wald_interval,
    z_test_pooled,
)

__all__ = ["chance_to_beat", "srm_p_value", "wald_interval", "z_test_pooled"]
