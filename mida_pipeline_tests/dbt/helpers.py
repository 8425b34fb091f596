"""Plain helpers of the dbt models' tests."""

from __future__ import annotations

import dagster as dg


def build_models() -> None:
    """The dbt models as a run builds them, with the resources of the environment as it is now."""
    from mida_pipeline.defs.dbt_assets import dbt_resource, mida_dbt_models
    from mida_pipeline.defs.resources import resources

    result = dg.materialize([mida_dbt_models], resources={**resources(), "dbt": dbt_resource()},
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []
