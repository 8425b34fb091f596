"""When the models and the report rebuild themselves: after raw data lands, however it was launched.

The daemon evaluates this condition on the dbt assets (their translator) and on the report; the sensor that
does so is defined with the jobs (schedules.py).
"""

from __future__ import annotations

import functools
import operator

import dagster as dg

from mida_pipeline.defs import bss_assets, mida_assets

AC = dg.AutomationCondition
RAW_KEYS = [key for asset in (*mida_assets.assets, *bss_assets.assets) for key in asset.keys]


def _any_raw(condition: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    return functools.reduce(operator.or_, (AC.asset_matches(key, condition) for key in RAW_KEYS)).with_label(label)


# A raw run that fails for one project has still written (and published) the others' partitions, but a failed
# step records no materialization: its failure is what says new data may have landed. One broken project never
# holds the rest of the marts back.
_landed = (AC.newly_updated() | AC.execution_failed().newly_true()).with_label("materialized or failed")

# Every model and the report, whichever raw table landed: the same set the command line's `models` job builds,
# so they are requested on the same tick and run as one run. Nothing is requested while any raw run (or
# backfill) is still going, so a burst of overlapping raw runs is followed by one models run, after the last.
MODELS_FOLLOW_RAW = (
    _any_raw(_landed, "raw data landed").since_last_handled()
    & ~_any_raw(AC.in_progress(), "a raw run in progress")
    & ~AC.in_progress()
).with_label("models_follow_raw")
