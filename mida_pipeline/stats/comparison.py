"""Rows of results scored against their control: what the scorecard and the segment scorecard share.

A frame of result rows is prepared (columns older lakes lack filled in, one order whatever order the warehouse
scanned them in), given its group's control and its project's configuration as of its day, and scored pairwise; the
callers add what is their own (the scorecard its sample-ratio check and verdicts) and type the output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mida_pipeline.stats import bayesian, frequentist


def empty(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def as_day(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def prepare(results: pd.DataFrame) -> pd.DataFrame:
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
    frame["result_date"] = as_day(frame["result_date"]).to_numpy()
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


def attach_control(frame: pd.DataFrame, group: list[str]) -> pd.DataFrame:
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


def pairwise(frame: pd.DataFrame, alpha: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of each variant against its control; NaN on control rows and where undefined."""
    has_control = frame["control_id"].notna().to_numpy() & ~frame["is_control"].to_numpy()
    nc, cc = frame["nc"].to_numpy(float), frame["cc"].to_numpy(float)
    nv, cv = frame["visitors"].to_numpy(float), frame["conversions"].to_numpy(float)
    nc, cc = np.where(has_control, nc, 0.0), np.where(has_control, cc, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, control_rate = frequentist.per(cv, nv), frequentist.per(cc, nc)
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


def configuration_as_of(frame: pd.DataFrame, configuration: pd.DataFrame | None) -> pd.DataFrame:
    """Each row's project configuration as of its day (the latest one before it, else the earliest after it)."""
    columns = ["stats_engine", "tails", "confidence_threshold_percent"]
    if configuration is None or configuration.empty:
        return pd.DataFrame({f"config_{c}": [None] * len(frame) for c in columns}, index=frame.index)
    config = configuration.rename(columns={c: f"config_{c}" for c in columns}).copy()
    config["config_date"] = as_day(config["config_date"]).to_numpy()
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


def typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """The output columns in order, each of its declared type, NaN turned into null."""
    frame = frame[list(dtypes)].copy()
    for column, dtype in dtypes.items():
        if dtype in ("Float64", "Int64"):
            frame[column] = pd.array(pd.to_numeric(frame[column], errors="coerce").to_numpy(float), dtype="Float64")
        frame[column] = frame[column].astype(dtype)
    return frame
