"""The scorecard: each variant against its experiment's control on each goal, from cumulative results.

Rows are scored all at once, column by column (the math lives in the sibling modules); only the sample-ratio
check loops, once per number of arms. `scorecard` scores each experiment as of its latest day, `scorecard_daily`
as of every day asked, with the same code, so a day's row in the history equals that day's scorecard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mida_pipeline.stats import bayesian, frequentist, multiple, verdicts
from mida_pipeline.stats.tests import MIN_SRM_VISITORS

SRM_ALPHA = 0.001
DEFAULT_THRESHOLD = 95.0
DEFAULT_TUNING = 5000.0
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
}
COLUMNS = list(DTYPES)
EXPERIMENT = ["project_key", "test_id", "result_date"]
GOAL = [*EXPERIMENT, "goal_id"]


def empty(dtypes: dict[str, str] = DTYPES) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def _day(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def _prepare(results: pd.DataFrame) -> pd.DataFrame:
    """Staging's result rows with the columns older lakes lack filled in, and one text id per goal."""
    frame = results.copy()
    defaults = {
        "goal_key": None,
        "goal_name": None,
        "is_primary_goal": True,
        "is_mab": False,
        "traffic_weight": np.nan,
        "status": None,
        "stats_engine": None,
        "confidence_threshold_percent": np.nan,
        "revenue": np.nan,
        "test_name": None,
        "variant_name": None,
        "is_control": False,
    }
    for column, value in defaults.items():
        if column not in frame:
            frame[column] = value
    frame["result_date"] = _day(frame["result_date"]).to_numpy()
    frame["variant_id"] = frame["variant_id"].astype(str)
    frame["is_primary_goal"] = frame["is_primary_goal"].astype("boolean").fillna(True)
    frame["goal_id"] = (
        frame["is_primary_goal"].map({True: "p", False: "s"}).astype(str)
        + "|"
        + frame["goal_key"].astype("string").fillna("")
    )
    for column in ("visitors", "conversions"):
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype(float)
    # Rows in one order whatever order the warehouse scanned them in: sums of floats then add up the same way, and a
    # re-run over the same lake gives the same figures to the last bit (the sample-ratio test's did not).
    order = [
        c
        for c in (
            "project_key",
            "test_id",
            "result_date",
            "result_window",
            "goal_id",
            "dimension",
            "segment",
            "variant_id",
        )
        if c in frame
    ]
    return frame.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)


def _attach_control(frame: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Each row gets its group's control (the row flagged control, else variant '0'; the lowest id when several)."""
    candidate = frame["is_control"].astype("boolean").fillna(False).astype(bool) | (frame["variant_id"] == "0")
    control = (
        frame[candidate]
        .sort_values([*group, "variant_id"])
        .drop_duplicates(group)[[*group, "variant_id", "visitors", "conversions", "revenue"]]
        .rename(
            columns={"variant_id": "control_id", "visitors": "nc", "conversions": "cc", "revenue": "control_revenue"}
        )
    )
    frame = frame.merge(control, on=group, how="left")
    frame["is_control"] = (frame["variant_id"] == frame["control_id"]).to_numpy()
    return frame


def _pairwise(frame: pd.DataFrame, alpha: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of each variant against its control; NaN on control rows and where undefined."""
    has_control = frame["control_id"].notna().to_numpy() & ~frame["is_control"].to_numpy()
    nc, cc = frame["nc"].to_numpy(float), frame["cc"].to_numpy(float)
    nv, cv = frame["visitors"].to_numpy(float), frame["conversions"].to_numpy(float)
    nc, cc = np.where(has_control, nc, 0.0), np.where(has_control, cc, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(nv > 0, cv / nv, np.nan)
        control_rate = np.where(nc > 0, cc / nc, np.nan)
        abs_lift = rate - control_rate
        rel_lift = np.where(control_rate > 0, rate / control_rate - 1, np.nan)
    out = {
        "conversion_rate": rate,
        "control_rate": control_rate,
        "abs_lift": abs_lift,
        "rel_lift": rel_lift,
        "p_value": frequentist.z_test_pooled(cc, nc, cv, nv),
    }
    out["ci_low"], out["ci_high"] = frequentist.wald_interval(cc, nc, cv, nv)
    out["rel_ci_low"], out["rel_ci_high"] = frequentist.relative_interval(cc, nc, cv, nv, alpha)
    chance, loss, loss_control = bayesian.posterior_comparison(cc, nc, cv, nv)
    out.update(chance_to_beat_control=chance, expected_loss=loss, expected_loss_control=loss_control)
    for key in ("p_value", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "abs_lift", "rel_lift"):
        out[key] = np.where(has_control, out[key], np.nan)
    return out


def _configuration(frame: pd.DataFrame, configuration: pd.DataFrame | None) -> pd.DataFrame:
    """Each row's project configuration as of its day (the latest one before it, else the earliest after it)."""
    columns = ["stats_engine", "tails", "confidence_threshold_percent"]
    if configuration is None or configuration.empty:
        return pd.DataFrame({f"config_{c}": [None] * len(frame) for c in columns}, index=frame.index)
    config = configuration.rename(columns={c: f"config_{c}" for c in columns}).copy()
    config["config_date"] = _day(config["config_date"]).to_numpy()
    config = config.sort_values("config_date")[["project_key", "config_date", *(f"config_{c}" for c in columns)]]
    config = config.drop_duplicates(["project_key", "config_date"], keep="last")
    left = frame[["project_key", "result_date"]].reset_index().sort_values("result_date")
    joined = []
    for direction in ("backward", "forward"):
        joined.append(
            pd.merge_asof(
                left, config, left_on="result_date", right_on="config_date", by="project_key", direction=direction
            )
            .set_index("index")
            .sort_index()
        )
    backward, forward = joined
    found = backward["config_date"].notna()
    return backward.where(found, forward)[[f"config_{c}" for c in columns]].reindex(frame.index)


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
    days = _prepare(daily)[[*key, "result_date", "visitors"]]
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


def score(
    results: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    *,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """Every (project, experiment, day, goal) group of cumulative rows given, scored as of its own day."""
    if results.empty:
        return empty()
    frame = _attach_control(_prepare(results), GOAL)
    config = _configuration(frame, configuration)
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
    alpha = 1 - threshold.fillna(DEFAULT_THRESHOLD).to_numpy(float) / 100
    stat = _pairwise(frame, alpha)
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
        rpv = np.where(frame["visitors"] > 0, revenue / frame["visitors"].to_numpy(float), np.nan)
        control_rpv = np.where(frame["nc"] > 0, control_revenue / frame["nc"].to_numpy(float), np.nan)
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
    out = out.sort_values(
        ["project_key", "test_id", "as_of_date", "is_primary_goal", "goal_key", "variant_id"],
        ascending=[True, True, True, False, True, True],
        na_position="first",
    )
    return _typed(out.reset_index(drop=True))


def _typed(frame: pd.DataFrame, dtypes: dict[str, str] = DTYPES) -> pd.DataFrame:
    """The output columns in order, each of its declared type, NaN turned into null."""
    frame = frame[list(dtypes)].copy()
    for column, dtype in dtypes.items():
        if dtype in ("Float64", "Int64"):
            frame[column] = pd.array(pd.to_numeric(frame[column], errors="coerce").to_numpy(float), dtype="Float64")
        frame[column] = frame[column].astype(dtype)
    return frame


def _latest(cumulative: pd.DataFrame) -> pd.DataFrame:
    day = _day(cumulative["result_date"])
    latest = day.groupby([cumulative["project_key"].to_numpy(), cumulative["test_id"].to_numpy()]).transform("max")
    return cumulative[(day == latest).to_numpy()]


def scorecard(
    cumulative: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    *,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """Each experiment as of its latest day: one row per project, experiment, goal and variant."""
    if cumulative.empty:
        return empty()
    return score(_latest(cumulative), configuration, daily, sequential_tuning=sequential_tuning)


def scorecard_daily(
    cumulative: pd.DataFrame,
    configuration: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    days=None,
    *,
    sequential_tuning: float = DEFAULT_TUNING,
) -> pd.DataFrame:
    """The scorecard as of each day in `days` (every day present when None): cumulative to that day, so each
    day's rows equal what `scorecard` said on that day. Only those days are computed."""
    if cumulative.empty:
        return empty()
    if days is not None:
        wanted = set(_day(list(days)))
        cumulative = cumulative[_day(cumulative["result_date"]).isin(wanted).to_numpy()]
    return score(cumulative, configuration, daily, sequential_tuning=sequential_tuning)
