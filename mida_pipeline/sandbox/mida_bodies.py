"""The Mida V2 bodies the sandbox answers with, built from SandboxData in the documented shapes and inconsistencies."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from mida_pipeline.sandbox.company import GOAL_REF
from mida_pipeline.sandbox.data import Experiment, SandboxData

STATUS_WORDS = {9: "draft", 1: "live", 0: "inactive"}
NICKNAMES = ["Control", "Bold CTA", "Social proof", "Urgency «today»", "Minimal"]


def _variant_names(e: Experiment, k: int) -> tuple[str, str | None]:
    # Documented inconsistency: sometimes `name` is the nickname, sometimes "Variant N" with a separate nickname.
    nickname = NICKNAMES[k % len(NICKNAMES)]
    if e.test_id % 2:
        return nickname, None
    return ("Original" if k == 0 else f"Variant {k}"), nickname


def detail(data: SandboxData, e: Experiment) -> dict:
    goal = data.primary_goal(e)
    variants = []
    for k, vid in enumerate(e.variant_ids):
        name, nick = _variant_names(e, k)
        variants.append(
            {
                "variant_id": int(vid),
                "name": f"Variant {k}" if k else "Control",
                "nickname": nick or name,
                "customCSS": "",
                "customJS": "",
                "data": None,
            }
        )
    return {
        **data.list_item(e),
        "goal_profile_id": goal["goal_profile_id"],
        "variants": variants,
        "configuration": {"traffic_allocation": 100, "confidence_interval": e.threshold},
        "targeting": {"devices": ["desktop", "mobile"], "browsers": [], "countries": []},
        "primary_goal": {k: goal[k] for k in ("goal_profile_id", "goal_name", "goal_type", "goal_value")},
    }


def goal_ref(goal: dict) -> dict:
    return {k: goal[k] for k in GOAL_REF}


def _variant_rows(e: Experiment, counts: list, has_revenue: bool) -> list[dict]:
    """Per variant: counts, rate, lift against control and (with revenue) the revenue figures, as a result shows them."""
    control_rate = counts[0].conversions / counts[0].visitors if counts[0].visitors else None
    control_rpv = counts[0].revenue / counts[0].visitors if counts[0].visitors else None
    rows = []
    for k, (vid, c) in enumerate(zip(e.variant_ids, counts, strict=True)):
        name, nick = _variant_names(e, k)
        rate = c.conversions / c.visitors if c.visitors else 0.0
        rpv = c.revenue / c.visitors if c.visitors else 0.0
        v = {
            "variant_id": vid,
            "name": name,
            "visitors": c.visitors,
            "conversions": c.conversions,
            "conversion_rate": round(rate * 100, 4),
            "is_control": k == 0,
        }
        if nick:
            v["nickname"] = nick
        if k and control_rate:
            v["improvement"] = round((rate / control_rate - 1) * 100, 4)
        if has_revenue:
            v.update(
                revenue=c.revenue,
                orders=c.orders,
                rpv=round(rpv, 4),
                aov=round(c.revenue / c.orders, 4) if c.orders else 0,
                currency="USD",
            )
            if k and control_rpv:
                v["revenue_per_visitor_improvement"] = round((rpv / control_rpv - 1) * 100, 4)
        rows.append(v)
    return rows


def _totals(counts: list, has_revenue: bool) -> dict:
    visitors, conversions = sum(c.visitors for c in counts), sum(c.conversions for c in counts)
    out = {"total_visitors": visitors, "total_conversions": conversions}
    if has_revenue:
        revenue, orders = round(sum(c.revenue for c in counts), 2), sum(c.orders for c in counts)
        out.update(
            has_revenue=True,
            total_revenue=revenue,
            total_orders=orders,
            rpv=round(revenue / visitors, 4) if visitors else 0,
            aov=round(revenue / orders, 4) if orders else 0,
            currency="USD",
        )
    return out


def breakdowns(
    data: SandboxData, e: Experiment, dimension: str, start: date, end: date, goal: dict, tz_offset: float
) -> list[dict]:
    """One item per segment. Documented: `criteria`, totals, a conversion rate, `variants` with lift against control
    within the segment, and the revenue keys when the segment has revenue. Our choice where the docs show no example:
    the totals and rate use the result's own top-level names (`total_visitors`, `total_conversions`, `conversion_rate`
    in %), and a segment's variants carry the result variants' keys without the configured split."""
    items = []
    split = data.breakdown(
        e.project_key, e.test_id, dimension, start, end, goal_key=goal["goal_key"], tz_offset=tz_offset
    )
    for criteria, cells in split.items():
        counts = [cells[vid] for vid in e.variant_ids]
        has_revenue = goal["goal_type"] == "revenue" and sum(c.orders for c in counts) > 0
        totals = _totals(counts, has_revenue)
        rate = totals["total_conversions"] / totals["total_visitors"] * 100 if totals["total_visitors"] else 0.0
        items.append(
            {
                "criteria": criteria,
                **totals,
                "conversion_rate": round(rate, 4),
                "variants": _variant_rows(e, counts, has_revenue),
            }
        )
    return items


def result(
    data: SandboxData,
    e: Experiment,
    start: date | None,
    end: date | None,
    goal: dict | None = None,
    phase: str = "all_time",
    *,
    tz_offset: float = 0.0,
    breakdown_by: str | None = None,
) -> dict:
    """The result body for a goal of the project (default: the experiment's primary), `primary_goal` staying the
    experiment's own and `selected_goal` naming the goal the numbers are for."""
    span = data.running_days(e)
    start = start or (span[0] if span else e.created)
    end = end or data.today
    primary = data.primary_goal(e)
    goal = goal or primary
    has_revenue = goal["goal_type"] == "revenue"
    counts = [
        data.window(e.project_key, e.test_id, vid, start, end, goal_key=goal["goal_key"], tz_offset=tz_offset)
        for vid in e.variant_ids
    ]
    variants = _variant_rows(e, counts, has_revenue)
    for k, v in enumerate(variants):
        v.update(
            traffic_weight=None if e.weights is None else round(e.weights[k] * 100, 2),
            variant_status="paused" if (e.paused_variant and k == len(e.variant_ids) - 1) else "active",
        )
    body = {
        "success": True,
        "test_id": e.test_id,
        "test_name": e.name,
        "status": STATUS_WORDS[e.status],
        "status_code": e.status,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "days_running": max(0, (min(end, span[1]) - span[0]).days + 1) if span else 0,
        "primary_goal": goal_ref(primary),
        # Documented only through its `goal_source` (get-project-configuration); "experiment" and "requested" are
        # our words for an attached primary goal and a goal named in the query.
        "selected_goal": {
            **goal_ref(goal),
            "is_primary": goal["goal_key"] == primary["goal_key"],
            "goal_source": "experiment" if goal is primary else "requested",
        },
        "stats_engine": data.stats_engine(e),
        "confidence_threshold_percent": e.threshold,
        "serving_variant_id": None,
        "is_serving": e.status == 1,
        "report_phase": phase,
        "traffic_allocation": 100,
        "distribution_mode": _mode(e),
        "is_mab": e.weights is None,
        **_totals(counts, has_revenue),
        "has_revenue": has_revenue,
        "variants": variants,
    }
    if breakdown_by:
        body.update(
            breakdown_by=breakdown_by, breakdowns=breakdowns(data, e, breakdown_by, start, end, goal, tz_offset)
        )
    return body


def timeseries(
    data: SandboxData, e: Experiment, start: date | None, end: date | None, goal: dict | None, *, tz_offset: float = 0.0
) -> dict:
    """One row per variant per local day of [start, end] within the running days, for a goal (default: the
    experiment's primary). Without dates, the last 31 running days (our choice: the docs give no default range).

    `conversion` is the day's converting visitors, as `/result` counts `conversions`; `converted` counts conversion
    events, a visitor converting twice counted twice (the docs' example has it the larger of the two). Revenue goals add
    the per-visitor second moments of the day's population (data.day_population); other goals omit them. Both
    documented shapes are served: `variant_id` a string or a number, the goal as `goal` or `selected_goal`.
    """
    primary = data.primary_goal(e)
    goal = goal or primary
    revenue_goal = goal["goal_type"] == "revenue"
    span = data.running_days(e)
    rows = []
    if span:
        day, last = (
            (max(start or span[0], span[0]), min(end or span[1], span[1]))
            if (start or end)
            else (max(span[0], span[1] - timedelta(days=30)), span[1])
        )
        while day <= last:
            for vid in e.variant_ids:
                c, events, spend = data.day_population(
                    e.project_key, e.test_id, vid, day, goal_key=goal["goal_key"], tz_offset=tz_offset
                )
                row = {
                    "variant_id": int(vid) if e.test_id % 3 == 0 else vid,
                    "converted": events,
                    "conversion": c.conversions,
                    "visitors": c.visitors,
                    "revenue": c.revenue,
                    "quantity": c.orders,
                    "no_of_order": c.orders,
                    "currency": "USD",
                    "start_date": day.isoformat(),
                    "end_date": day.isoformat(),
                    "duration": 1,
                    "created_at": f"{day.isoformat()}T00:00:00.000Z",
                    "updated_at": f"{day.isoformat()}T00:00:00.000Z",
                }
                if revenue_goal:  # one order each: orders squared sum to the orders, the cross product to the revenue
                    row.update(
                        sum_sq_revenue=round(float(np.sum(spend**2)), 6),
                        sum_sq_orders=c.orders,
                        sum_revenue_orders_cross=c.revenue,
                    )
                rows.append(row)
            day += timedelta(days=1)
    goal_key = "goal" if e.test_id % 2 == 0 else "selected_goal"
    return {
        "success": True,
        "test_id": e.test_id,
        "test_name": e.name,
        "primary_goal": goal_ref(primary),
        goal_key: {**goal_ref(goal), "is_primary": goal["goal_key"] == primary["goal_key"]},
        **({"query_start_date": start.isoformat()} if start else {}),
        **({"query_end_date": end.isoformat()} if end else {}),
        "count": len(rows),
        "timeseries": rows,
    }


def _mode(e: Experiment) -> str:
    return "mab" if e.weights is None else ("equal" if len(set(e.weights)) == 1 else "custom")


def distribution(e: Experiment) -> dict:
    variants = [
        {
            "variant_id": vid,
            "name": _variant_names(e, k)[0],
            "traffic_weight": None if e.weights is None else round(e.weights[k] * 100, 2),
            "variant_status": "paused" if (e.paused_variant and k == len(e.variant_ids) - 1) else "active",
        }
        for k, vid in enumerate(e.variant_ids)
    ]
    return {
        "success": True,
        "test_id": e.test_id,
        "test_name": e.name,
        "status": STATUS_WORDS[e.status],
        "traffic_allocation": 100,
        "distribution_mode": _mode(e),
        "is_mab": e.weights is None,
        "variants": variants,
    }


def metrics(
    data: SandboxData,
    e: Experiment,
    start: date | None,
    end: date | None,
    *,
    tz_offset: float = 0.0,
    keys: list[str] | None = None,
) -> dict:
    """Secondary metrics: definitions, and per variant its visitors (`total`) and each metric's conversions
    (`result_N`, our reading of the docs' example: a count, never a rate)."""
    span = data.running_days(e)
    start = start or (span[0] if span else e.created)
    end = end or data.today
    by_key = {g["goal_key"]: g for g in data.goals(e.project_key)}
    wanted = keys or data.metric_keys(e.project_key, e.test_id)
    warnings = [f"Metric {key} skipped: goal not found" for key in wanted if key not in by_key]
    chosen = [by_key[k] for k in wanted if k in by_key]
    definitions = [
        {
            "metric_key": g["goal_key"],
            "metric_text": f"goal_{g['goal_key']}",
            "name": g["goal_name"],
            "type": 2,
            "goal": {k: g[k] for k in ("goal_key", "goal_name", "goal_type", "goal_value")},
        }
        for g in chosen
    ]
    rows = []
    if chosen:
        for vid in e.variant_ids:
            row = {
                "variant_id": vid,
                "total": data.window(e.project_key, e.test_id, vid, start, end, tz_offset=tz_offset).visitors,
            }
            for n, g in enumerate(chosen, 1):
                row[f"result_{n}"] = data.window(
                    e.project_key, e.test_id, vid, start, end, goal_key=g["goal_key"], tz_offset=tz_offset
                ).conversions
            rows.append(row)
    body = {
        "success": True,
        "test_id": e.test_id,
        "test_name": e.name,
        "count": len(rows),
        "metric_count": len(definitions),
        "metric_definitions": definitions,
        "metrics": rows,
    }
    if warnings:
        body["warnings"] = warnings
    return body
