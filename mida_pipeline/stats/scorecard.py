"""The scorecard: each variant against its experiment's control, from cumulative results."""

from __future__ import annotations

import pandas as pd

from mida_pipeline.stats.tests import chance_to_beat, srm_p_value, wald_interval, z_test_pooled

SRM_ALPHA = 0.001
# Explicit column types, so the mart has the same types on an empty lake and when a statistic is null everywhere.
DTYPES = {
    "project_key": "string", "test_id": "Int64", "variant_id": "string", "as_of_date": "datetime64[us]",
    "test_name": "string", "variant_name": "string", "is_control": "boolean", "visitors": "Int64",
    "conversions": "Int64", "conversion_rate": "Float64", "abs_lift": "Float64", "rel_lift": "Float64",
    "p_value": "Float64", "ci_low": "Float64", "ci_high": "Float64", "is_significant": "boolean",
    "confidence_threshold_percent": "Float64", "chance_to_beat_control": "Float64", "srm_p_value": "Float64",
    "srm_flag": "boolean", "revenue": "Float64", "revenue_per_visitor": "Float64", "rpv_lift": "Float64",
    "verdict": "string",
}
COLUMNS = list(DTYPES)


def _none(value):
    return None if value is None or pd.isna(value) else value


def _per_visitor(amount, visitors: int) -> float | None:
    """Revenue per visitor; unknown (null) when the goal tracks no revenue or nobody visited."""
    amount = _none(amount)
    return float(amount) / visitors if visitors and amount is not None else None


def _verdict(row: dict) -> str:
    if row["is_control"]:
        return "control"
    if row["srm_flag"]:
        return "srm_warning"
    if row["is_significant"]:
        return "winner" if row["abs_lift"] > 0 else "loser"
    return "inconclusive"


def score_experiment(group: pd.DataFrame) -> list[dict]:
    """Rows for one experiment's variants (one row each, cumulative to the same day)."""
    group = group.sort_values("variant_id")
    controls = group[group["is_control"].fillna(False).astype(bool) | (group["variant_id"] == "0")]
    control = controls.iloc[0] if len(controls) else None
    weights = None if group["traffic_weight"].isna().any() else list(group["traffic_weight"])
    srm = srm_p_value(list(group["visitors"]), weights) if not group["is_mab"].fillna(False).any() else None
    rows = []
    for _, v in group.iterrows():
        n, c = int(v["visitors"]), int(v["conversions"])
        rate = c / n if n else None
        rpv = _per_visitor(v["revenue"], n)
        row = {
            "project_key": v["project_key"], "test_id": int(v["test_id"]), "variant_id": v["variant_id"],
            "as_of_date": v["result_date"], "test_name": v["test_name"], "variant_name": v["variant_name"],
            "is_control": control is not None and v["variant_id"] == control["variant_id"], "visitors": n,
            "conversions": c, "conversion_rate": rate, "confidence_threshold_percent": _none(v["confidence_threshold_percent"]),
            "srm_p_value": srm, "srm_flag": srm is not None and srm < SRM_ALPHA, "revenue": None if _none(v["revenue"]) is None else float(v["revenue"]),
            "revenue_per_visitor": rpv, "abs_lift": None, "rel_lift": None, "p_value": None, "ci_low": None,
            "ci_high": None, "is_significant": None, "chance_to_beat_control": None, "rpv_lift": None,
        }
        if control is not None and not row["is_control"]:
            nc, cc = int(control["visitors"]), int(control["conversions"])
            control_rate = cc / nc if nc else None
            control_rpv = _per_visitor(control["revenue"], nc)
            if rate is not None and control_rate is not None:
                row["abs_lift"] = rate - control_rate
                row["rel_lift"] = rate / control_rate - 1 if control_rate else None
            row["p_value"] = z_test_pooled(cc, nc, c, n)
            row["ci_low"], row["ci_high"] = wald_interval(cc, nc, c, n)
            row["chance_to_beat_control"] = chance_to_beat(cc, nc, c, n)
            threshold = row["confidence_threshold_percent"] or 95.0
            if row["p_value"] is not None:
                row["is_significant"] = row["p_value"] < 1 - threshold / 100
            if rpv is not None and control_rpv:
                row["rpv_lift"] = rpv / control_rpv - 1
        row["verdict"] = _verdict({**row, "is_significant": bool(row["is_significant"]), "abs_lift": row["abs_lift"] or 0})
        rows.append(row)
    return rows


def scorecard(cumulative: pd.DataFrame) -> pd.DataFrame:
    """The latest cumulative result of every experiment, scored. Expects staging's result columns."""
    if cumulative.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DTYPES.items()})
    latest = cumulative[cumulative["result_date"] == cumulative.groupby(["project_key", "test_id"])["result_date"].transform("max")]
    rows = [r for _, group in latest.groupby(["project_key", "test_id"], sort=True) for r in score_experiment(group)]
    return pd.DataFrame(rows, columns=COLUMNS).astype({c: t for c, t in DTYPES.items() if c != "as_of_date"})
