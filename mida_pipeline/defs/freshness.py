"""Declared freshness, evaluated: each raw table's `error_after` in dbt's _sources.yml becomes a Dagster freshness
check on the raw asset, so a source that stops delivering shows red in the UI.

The freshness is declared with each table (lake/schemas.py) and written into the file dbt reads
(lake/dbt_sources.py); this module reads that file, so dbt and Dagster hold the same bounds. A table is fresh while its last
materialization's data is younger than the bound; the raw assets state when their data was captured
(`dagster/last_updated_timestamp`, the same moment as dbt's `loaded_at_field`). A sensor evaluates the checks.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import dagster as dg
import yaml

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt" / "models" / "staging" / "_sources.yml"
PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


def declared_freshness(path: Path = SOURCES_YML) -> dict[str, timedelta]:
    """Each raw table's `error_after` (its own, else its source's); a table declaring `freshness: null` has none."""
    bounds = {}
    for source in yaml.safe_load(path.read_text())["sources"]:
        for table in source.get("tables", []):
            declared = table["freshness"] if "freshness" in table else source.get("freshness")
            after = (declared or {}).get("error_after")
            if after:
                bounds[table["name"]] = timedelta(**{PERIODS[after["period"]]: after["count"]})
    return bounds


def _checks() -> list[dg.AssetChecksDefinition]:
    by_bound: dict[timedelta, list[str]] = defaultdict(list)
    for table, bound in declared_freshness().items():
        by_bound[bound].append(table)
    with warnings.catch_warnings():
        # Freshness policies on the assets themselves are Dagster's newer way; these checks need no change to them.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return [
            check
            for bound, tables in sorted(by_bound.items())
            for check in dg.build_last_update_freshness_checks(
                assets=tables, lower_bound_delta=bound, severity=dg.AssetCheckSeverity.ERROR
            )
        ]


def _sensors(freshness_checks: list[dg.AssetChecksDefinition]) -> list[dg.SensorDefinition]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return [
            dg.build_sensor_for_freshness_checks(
                freshness_checks=freshness_checks, default_status=dg.DefaultSensorStatus.RUNNING
            )
        ]


checks = _checks()
sensors = _sensors(checks)
