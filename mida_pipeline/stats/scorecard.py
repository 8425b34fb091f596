"""The scorecard: each variant against its experiment's control on each goal, from cumulative results.

Rows are scored all at once, column by column (the math lives in the sibling modules); only the sample-ratio
check loops, once per number of arms. `scorecard` scores each experiment as of its latest day, `scorecard_daily`
as of every day asked, with the same code, so a day's row in the history equals that day's scorecard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mida_pipeline.stats import (
    DEFAULT_THRESHOLD,
    DEFAULT_TUNING,
    alpha_of,
    comparison,
    frequentist,
    multiple,
    revenue,
    verdicts,
)

SRM_ALPHA = 0.001
# Fewer visitors than this in an arm and the chi-square approximation of the sample-ratio check does not hold.
MIN_SRM_VISITORS = 8
# Explicit column types, so the mart has the same types on an empty lake and when a statistic is null everywhere.
DTYPES = {
    "project_key": "string",
    "test_id": "Int64",
    "goal_key": "string",
    "goal_name": "string",
    "is_primary_goal": "boolean",
    "variant_id": "string",
    "as_of_date": "datetime64[us]",
    "test_name": "string",
    "variant_name": "string",
    "is_control": "boolean",
    "visitors": "Int64",
    "conversions": "Int64",
    "conversion_rate": "Float64",
    "abs_lift": "Float64",
    "rel_lift": "Float64",
    "p_value": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "is_significant": "boolean",
    "confidence_threshold_percent": "Float64",
    "chance_to_beat_control": "Float64",
    "srm_p_value": "Float64",
    "srm_flag": "boolean",
    "revenue": "Float64",
    "revenue_per_visitor": "Float64",
    "rpv_lift": "Float64",
    "verdict": "string",
    "decision_framework": "string",
    "tails": "Int64",
    "sequential_p_value": "Float64",
    "sequential_ci_low": "Float64",
    "sequential_ci_high": "Float64",
    "p_value_holm": "Float64",
    "sequential_p_value_holm": "Float64",
    "q_value_bh": "Float64",
    "rel_ci_low": "Float64",
    "rel_ci_high": "Float64",
    "expected_loss": "Float64",
    "expected_loss_control": "Float64",
    "mde_abs": "Float64",
    "days_remaining": "Int64",
    "safe_verdict": "string",
    "rpv_p_value": "Float64",
    "rpv_ci_low": "Float64",
    "rpv_ci_high": "Float64",
    "rpv_rel_ci_low": "Float64",
    "rpv_rel_ci_high": "Float64",
    "rpv_sequential_p_value": "Float64",
    "rpv_chance_to_beat_control": "Float64",
    "rpv_verdict": "string",
    "rpv_safe_verdict": "string",
    "aov": "Float64",
    "aov_rel_lift": "Float64",
    "aov_p_value": "Float64",
    "aov_rel_ci_low": "Float64",
    "aov_rel_ci_high": "Float64",
}
COLUMNS = list(DTYPES)
EXPERIMENT = ["project_key", "test_id", "result_date"]
GOAL = [*EXPERIMENT, "goal_id"]
# Cumulative per-visitor sums of a revenue goal, from the timeseries (see `score`'s `moments`).
MOMENTS = ["visitors", "revenue", "orders", "sum_sq_revenue", "sum_sq_orders", "sum_revenue_orders_cross"]


def empty() -> pd.DataFrame:
    """A scorecard with no rows, every column of its type."""
    return comparison.empty(DTYPES)


def _srm(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square of each goal's visitors against the traffic weights, and whether too few visitors made it null."""
    groups = frame.groupby(GOAL, sort=False, dropna=False)
    gid = groups.ngroup().to_numpy()
    arms = groups["visitors"].transform("size").to_numpy()
    low_traffic = groups["visitors"].transform("min").to_numpy() < MIN_SRM_VISITORS
    weight = pd.to_numeric(frame["traffic_weight"], errors="coerce").to_numpy(float)
    no_weights = pd.Series(~(weight > 0)).groupby(gid).transform("any").to_numpy()
    mab = frame["is_mab"].astype("boolean").fillna(False).groupby(gid).transform("any").to_numpy(bool)
    testable = (arms >= 2) & ~low_traffic & ~no_weights & ~mab
    p = np.full(len(frame), np.nan)
    position = pd.Series(np.arange(len(frame))).groupby(gid).cumcount().to_numpy()
    for k in np.unique(arms[testable]):
        rows = np.flatnonzero(testable & (arms == k))
        order = np.lexsort((position[rows], gid[rows]))
        rows = rows[order]
        observed = frame["visitors"].to_numpy(float)[rows].reshape(-1, k)
        share = weight[rows].reshape(-1, k)
        expected = observed.sum(axis=1, keepdims=True) * share / share.sum(axis=1, keepdims=True)
        p[rows] = np.repeat(stats.chisquare(observed, expected, axis=1).pvalue, k)
    return p, low_traffic & (arms >= 2)


def _arrival_rates(keys: pd.DataFrame, daily: pd.DataFrame | None) -> np.ndarray:
    """Each row's mean daily visitors over the days of the 7 ending on its as-of day that have a day-window row."""
    if daily is None or daily.empty:
        return np.full(len(keys), np.nan)
    key = ["project_key", "test_id", "goal_id", "variant_id"]
    days = comparison.prepare(daily)[[*key, "result_date", "visitors"]]
    wanted = pd.Index(keys["result_date"].unique())
    # Each day-window row counts towards the as-of days 0 to 6 days after it: seven shifted copies, not a loop per row.
    shifted = [days.assign(result_date=days["result_date"] + pd.Timedelta(days=k)) for k in range(7)]
    window = pd.concat([s[s["result_date"].isin(wanted)] for s in shifted])
    rates = (
        window.groupby([*key, "result_date"], as_index=False, sort=False)["visitors"]
        .mean()
        .rename(columns={"visitors": "rate"})
    )
    return keys[[*key, "result_date"]].merge(rates, on=[*key, "result_date"], how="left")["rate"].to_numpy(float)


def _revenue(frame: pd.DataFrame, moments: pd.DataFrame | None) -> pd.DataFrame:
    """Each row's cumulative revenue moments and its control's (`m_*` and `mc_*`), NaN where the timeseries has none."""
    key = ["project_key", "test_id", "result_date", "goal_key", "variant_id"]
    named = {c: f"m_{c}" for c in MOMENTS}
    if moments is None or moments.empty:
        moments = pd.DataFrame(columns=key + MOMENTS)
    sums = moments[key + MOMENTS].drop_duplicates(key, keep="last").rename(columns=named)
    sums = sums.assign(
        result_date=comparison.as_day(sums["result_date"]).to_numpy(),
        variant_id=sums["variant_id"].astype(str),
        test_id=pd.to_numeric(sums["test_id"]).astype("int64"),
        **{c: pd.to_numeric(sums[c], errors="coerce").astype(float) for c in named.values()},
    )
    left = frame[key + ["control_id"]].assign(test_id=pd.to_numeric(frame["test_id"]).astype("int64"))
    own = left.merge(sums, on=key, how="left")
    control = left.drop(columns="variant_id").rename(columns={"control_id": "variant_id"})
    theirs = control.merge(sums, on=key, how="left").rename(columns={v: f"mc_{k}" for k, v in named.items()})
    out = pd.concat([own[list(named.values())], theirs[[f"mc_{c}" for c in MOMENTS]]], axis=1)
    # The days summed must be all of them: an arm whose timeseries visitors fall short of its cumulative result (the
    # lake lacks the experiment's first days) has no moments, rather than moments of a part of its visitors.
    whole = (out["m_visitors"].to_numpy(float) == frame["visitors"].to_numpy(float)) & (
        out["mc_visitors"].to_numpy(float) == frame["nc"].to_numpy(float)
    )
    return out.where(pd.Series(whole, index=out.index), np.nan)


def _revenue_statistics(
    out: pd.DataFrame, frame: pd.DataFrame, moments, alpha, engine, tails, threshold, srm_low, variant, tuning
) -> None:
    """Revenue per visitor (a mean metric) and order value (a ratio metric), each variant against control, on goals
    whose timeseries carries the moments; the verdicts in the experiment's framework and, safe, after Holm over the
    goal's variants on the sequential p-value."""
    m = _revenue(frame, moments)
    a = {c: m[f"m_{c}"].to_numpy(float) for c in MOMENTS}
    c = {k: m[f"mc_{k}"].to_numpy(float) for k in MOMENTS}
    rpv = revenue.mean_metric(
        c["visitors"],
        c["revenue"],
        c["sum_sq_revenue"],
        a["visitors"],
        a["revenue"],
        a["sum_sq_revenue"],
        alpha,
        tuning,
    )
    ratio = ("visitors", "revenue", "sum_sq_revenue", "orders", "sum_sq_orders", "sum_revenue_orders_cross")
    aov = revenue.ratio_metric(*(c[k] for k in ratio), *(a[k] for k in ratio), alpha)
    for name, values in {
        "rpv_p_value": rpv.p_value,
        "rpv_ci_low": rpv.ci_low,
        "rpv_ci_high": rpv.ci_high,
        "rpv_rel_ci_low": rpv.rel_ci_low,
        "rpv_rel_ci_high": rpv.rel_ci_high,
        "rpv_sequential_p_value": rpv.sequential_p_value,
        "rpv_chance_to_beat_control": rpv.chance_to_beat_control,
        "aov_rel_lift": aov.rel_lift,
        "aov_p_value": aov.p_value,
        "aov_rel_ci_low": aov.rel_ci_low,
        "aov_rel_ci_high": aov.rel_ci_high,
    }.items():
        out[name] = np.where(variant, values, np.nan)
    out["aov"] = aov.ratio_v
    has_moments = ~np.isnan(a["sum_sq_revenue"]) & ~np.isnan(c["sum_sq_revenue"])
    diff = rpv.mean_v - rpv.mean_c
    called = verdicts.verdict(
        out["is_control"],
        out["srm_flag"],
        engine,
        tails,
        threshold,
        out["rpv_chance_to_beat_control"],
        out["rpv_p_value"],
        diff,
    )
    goal = frame.groupby(GOAL, sort=False, dropna=False).ngroup().to_numpy()
    safe = verdicts.safe_verdict(
        out["is_control"],
        out["srm_flag"],
        srm_low,
        threshold,
        multiple.holm(out["rpv_sequential_p_value"].to_numpy(float), goal),
        diff,
    )
    out["rpv_verdict"] = np.where(has_moments, called, None)
    out["rpv_safe_verdict"] = np.where(has_moments, safe, None)


def score(
    results: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    *,
    moments: pd.DataFrame | None = None,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """Every (project, experiment, day, goal) group of cumulative rows given, scored as of its own day.

    `moments`, when given, holds each (project_key, test_id, result_date, goal_key, variant_id)'s MOMENTS summed
    over the days up to result_date (the timeseries' own days), for the revenue statistics; exact when each
    visitor's purchases fall on one day."""
    if results.empty:
        return empty()
    frame = comparison.attach_control(comparison.prepare(results), GOAL)
    config = comparison.configuration_as_of(frame, configuration)
    engine = frame["stats_engine"].astype("string").str.lower()
    engine = engine.where(
        engine.isin([verdicts.BAYESIAN, verdicts.FREQUENTIST]),
        config["config_stats_engine"].astype("string").str.lower(),
    )
    engine = engine.where(engine.isin([verdicts.BAYESIAN, verdicts.FREQUENTIST]), verdicts.FREQUENTIST)
    tails = pd.to_numeric(config["config_tails"], errors="coerce")
    tails = tails.where(tails.isin([1, 2]), 2).to_numpy(int)
    threshold = pd.to_numeric(frame["confidence_threshold_percent"], errors="coerce").fillna(
        pd.to_numeric(config["config_confidence_threshold_percent"], errors="coerce")
    )
    alpha = alpha_of(threshold.fillna(DEFAULT_THRESHOLD).to_numpy(float))
    stat = comparison.pairwise(frame, alpha)
    out = pd.DataFrame(
        {
            "project_key": frame["project_key"],
            "test_id": frame["test_id"],
            "goal_key": frame["goal_key"],
            "goal_name": frame["goal_name"],
            "is_primary_goal": frame["is_primary_goal"],
            "variant_id": frame["variant_id"],
            "as_of_date": frame["result_date"],
            "test_name": frame["test_name"],
            "variant_name": frame["variant_name"],
            "is_control": frame["is_control"],
            "visitors": frame["visitors"],
            "conversions": frame["conversions"],
            "confidence_threshold_percent": threshold,
            "revenue": pd.to_numeric(frame["revenue"], errors="coerce"),
            "decision_framework": engine,
            "tails": tails,
        }
    )
    for key in stat.keys() & DTYPES.keys():  # the pairwise statistics the scorecard shows
        out[key] = stat[key]
    with np.errstate(divide="ignore", invalid="ignore"):
        revenue, control_revenue = (
            out["revenue"].to_numpy(float),
            pd.to_numeric(frame["control_revenue"]).to_numpy(float),
        )
        rpv = frequentist.per(revenue, frame["visitors"].to_numpy(float))
        control_rpv = frequentist.per(control_revenue, frame["nc"].to_numpy(float))
        out["revenue_per_visitor"] = rpv
        out["rpv_lift"] = np.where(~out["is_control"] & (control_rpv > 0), rpv / control_rpv - 1, np.nan)
    p = out["p_value"].to_numpy(float)
    out["is_significant"] = pd.array(np.where(np.isnan(p), None, p < alpha), dtype="boolean")
    out["srm_p_value"], srm_low_traffic = _srm(frame)
    out["srm_flag"] = out["srm_p_value"].to_numpy(float) < SRM_ALPHA
    nc, cc, nv = frame["nc"].to_numpy(float), frame["cc"].to_numpy(float), frame["visitors"].to_numpy(float)
    seq_p, seq_low, seq_high = frequentist.sequential_test(
        cc, nc, frame["conversions"].to_numpy(float), nv, alpha, sequential_tuning
    )
    variant = frame["control_id"].notna().to_numpy() & ~frame["is_control"].to_numpy()
    out["sequential_p_value"], out["sequential_ci_low"], out["sequential_ci_high"] = (
        np.where(variant, v, np.nan) for v in (seq_p, seq_low, seq_high)
    )
    family = frame.groupby(EXPERIMENT, sort=False, dropna=False).ngroup().to_numpy()
    out["p_value_holm"] = multiple.holm(out["p_value"].to_numpy(float), family)
    out["sequential_p_value_holm"] = multiple.holm(out["sequential_p_value"].to_numpy(float), family)
    out["q_value_bh"] = multiple.benjamini_hochberg(out["p_value"].to_numpy(float), family)
    out["mde_abs"] = np.where(variant, frequentist.mde_abs(cc, nc, nv, alpha, tails), np.nan)
    needed = frequentist.sample_per_arm(stat["control_rate"], out["abs_lift"].to_numpy(float), alpha, tails)
    live = frame["status"].astype("string").str.lower().eq("live").fillna(False).to_numpy(bool)
    rates = _arrival_rates(frame, daily)
    control_rate_arrival = (
        pd.Series(rates)
        .where(frame["is_control"].to_numpy())
        .groupby(frame.groupby(GOAL, sort=False, dropna=False).ngroup().to_numpy())
        .transform("max")
        .to_numpy(float)
    )
    days = frequentist.days_remaining(needed, nc, control_rate_arrival, nv, rates)
    out["days_remaining"] = np.where(variant & live, days, np.nan)
    out["verdict"] = verdicts.verdict(
        out["is_control"],
        out["srm_flag"],
        engine.to_numpy(object),
        tails,
        threshold.fillna(DEFAULT_THRESHOLD),
        out["chance_to_beat_control"],
        p,
        out["abs_lift"],
    )
    out["safe_verdict"] = verdicts.safe_verdict(
        out["is_control"],
        out["srm_flag"],
        srm_low_traffic,
        threshold.fillna(DEFAULT_THRESHOLD),
        out["sequential_p_value_holm"],
        out["abs_lift"],
    )
    _revenue_statistics(
        out,
        frame,
        moments,
        alpha,
        engine.to_numpy(object),
        tails,
        threshold.fillna(DEFAULT_THRESHOLD),
        srm_low_traffic,
        variant,
        sequential_tuning,
    )
    out = out.sort_values(
        ["project_key", "test_id", "as_of_date", "is_primary_goal", "goal_key", "variant_id"],
        ascending=[True, True, True, False, True, True],
        na_position="first",
    )
    return comparison.typed(out.reset_index(drop=True), DTYPES)


def _latest(cumulative: pd.DataFrame) -> pd.DataFrame:
    day = comparison.as_day(cumulative["result_date"])
    latest = day.groupby([cumulative["project_key"].to_numpy(), cumulative["test_id"].to_numpy()]).transform("max")
    return cumulative[(day == latest).to_numpy()]


def scorecard(
    cumulative: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    *,
    moments: pd.DataFrame | None = None,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """Each experiment as of its latest day: one row per project, experiment, goal and variant."""
    if cumulative.empty:
        return empty()
    return score(_latest(cumulative), configuration, daily, moments=moments, sequential_tuning=sequential_tuning)


def scorecard_daily(
    cumulative: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    days=None,
    *,
    moments: pd.DataFrame | None = None,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """The scorecard as of each day in `days` (every day present when None): cumulative to that day, so each
    day's rows equal what `scorecard` said on that day. Only those days are computed."""
    if cumulative.empty:
        return empty()
    if days is not None:
        wanted = set(comparison.as_day(list(days)))
        cumulative = cumulative[comparison.as_day(cumulative["result_date"]).isin(wanted).to_numpy()]
    return score(cumulative, configuration, daily, moments=moments, sequential_tuning=sequential_tuning)
