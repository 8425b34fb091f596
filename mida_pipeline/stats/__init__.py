"""Experiment statistics: the numbers Mida's result API does not give. Pure Python and SciPy, no Dagster."""

from mida_pipeline.stats.tests import chance_to_beat, srm_p_value, wald_interval, z_test_pooled

__all__ = ["chance_to_beat", "srm_p_value", "wald_interval", "z_test_pooled"]
