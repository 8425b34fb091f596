"""The scorecard's statistics within each segment (device, country, ...) of each experiment's primary goal.

Segments are many looks at the same experiment, chosen after the fact, so every row is flagged exploratory:
a segment that "wins" is a question for a new experiment, not an answer. No verdict and no sample-ratio check
(segments are not randomised units), no correction (the family is open-ended).
"""

from __future__ import annotations

import pandas as pd

from mida_pipeline.stats import DEFAULT_THRESHOLD, alpha_of, comparison, frequentist
from mida_pipeline.stats.scorecard import DTYPES as SCORECARD_DTYPES

# A segment's row: the scorecard's columns it shares (typed as the scorecard types them), and its own.
_SHARED = (
    "variant_id",
    "as_of_date",
    "is_control",
    "visitors",
    "conversions",
    "conversion_rate",
    "abs_lift",
    "rel_lift",
    "p_value",
    "ci_low",
    "ci_high",
    "rel_ci_low",
    "rel_ci_high",
    "chance_to_beat_control",
    "confidence_threshold_percent",
    "revenue",
    "revenue_per_visitor",
)
DTYPES = {
    **{k: SCORECARD_DTYPES[k] for k in ("project_key", "test_id", "goal_key")},
    "dimension": "string",
    "segment": "string",
    **{k: SCORECARD_DTYPES[k] for k in _SHARED},
    "exploratory": "boolean",
}
COLUMNS = list(DTYPES)
GROUP = ["project_key", "test_id", "result_date", "goal_id", "dimension", "segment"]


def segment_scorecard(segments: pd.DataFrame, configuration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each experiment's segments as of its latest day: `segment_scorecard_daily` of that day alone."""
    if segments.empty:
        return comparison.empty(DTYPES)
    latest = segments.groupby(["project_key", "test_id"])["result_date"].transform("max")
    return segment_scorecard_daily(segments[segments["result_date"] == latest], configuration)


def segment_scorecard_daily(segments: pd.DataFrame, configuration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each experiment's segments as of each day given (cumulative to the day): one row per project, experiment,
    goal, dimension, segment, variant and day, each variant against control within the same segment and day. The
    relative interval is at the project's threshold that day (95 % when it states none), as in the scorecard."""
    if segments.empty:
        return comparison.empty(DTYPES)
    frame = comparison.prepare(segments).reset_index(drop=True)
    frame["segment"] = frame["segment"].astype("string").fillna("(unknown)")
    frame = comparison.attach_control(frame, GROUP)
    config = comparison.configuration_as_of(frame, configuration)
    threshold = pd.to_numeric(config["config_confidence_threshold_percent"], errors="coerce")
    alpha = alpha_of(threshold.fillna(DEFAULT_THRESHOLD).to_numpy(float))
    stat = comparison.pairwise(frame, alpha)
    visitors = frame["visitors"].to_numpy(float)
    revenue = pd.to_numeric(frame["revenue"], errors="coerce").to_numpy(float)
    rpv = frequentist.per(revenue, visitors)
    out = pd.DataFrame(
        {
            "project_key": frame["project_key"],
            "test_id": frame["test_id"],
            "goal_key": frame["goal_key"],
            "dimension": frame["dimension"],
            "segment": frame["segment"],
            "variant_id": frame["variant_id"],
            "as_of_date": frame["result_date"],
            "is_control": frame["is_control"],
            "visitors": visitors,
            "conversions": frame["conversions"],
            "confidence_threshold_percent": threshold,
            "revenue": revenue,
            "revenue_per_visitor": rpv,
            "exploratory": True,
            **{k: value for k, value in stat.items() if k in DTYPES},
        }
    )
    order = ["project_key", "test_id", "goal_key", "dimension", "segment", "variant_id", "as_of_date"]
    out = out.sort_values(order).reset_index(drop=True)
    return comparison.typed(out, DTYPES)
