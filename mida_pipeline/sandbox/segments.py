"""Segments of a result (`breakdown_by`): exact integer partitions of a window's counts.

Mida documents the dimensions but not their values; the values and shares below
are our choice. Each segment has its own conversion propensity per variant, so a
variant's lift differs between segments (on `device` it always flips sign between
desktop and mobile), while the segments still add up exactly to the window.
"""

from __future__ import annotations

import math

import numpy as np

# Documented: the dimensions `/result?breakdown_by=` accepts (get-experiment-result, "Supported breakdowns").
# Our choice: each dimension's segment values and their share of visitors.
DIMENSIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "device": (("desktop", 0.45), ("mobile", 0.48), ("tablet", 0.07)),
    "browser": (("chrome", 0.52), ("safari", 0.27), ("firefox", 0.08), ("edge_chromium", 0.09), ("other", 0.04)),
    "os": (("windows", 0.34), ("macos", 0.14), ("ios", 0.27), ("android", 0.22), ("linux", 0.03)),
    "country": (("US", 0.46), ("GB", 0.14), ("DE", 0.12), ("FR", 0.10), ("CA", 0.08), ("JP", 0.10)),
    "region": (("California", 0.3), ("England", 0.2), ("Bayern", 0.15), ("Île-de-France", 0.15), ("Ontario", 0.2)),
    "city": (("San Francisco", 0.25), ("London", 0.25), ("München", 0.15), ("Paris", 0.15), ("東京", 0.2)),
    "user_type": (("new", 0.62), ("returning", 0.38)),
    "ref_page": (("https://www.google.com/", 0.41), ("https://www.facebook.com/", 0.17), ("(direct)", 0.42)),
    "landing_page": (("/", 0.38), ("/products/widget", 0.34), ("/collections/sale", 0.28)),
    "utm_campaign": (("spring-sale", 0.3), ("brand", 0.25), ("(none)", 0.45)),
    "utm_source": (("google", 0.35), ("facebook", 0.2), ("newsletter", 0.1), ("(none)", 0.35)),
    "utm_medium": (("cpc", 0.4), ("social", 0.15), ("email", 0.1), ("(none)", 0.35)),
    "utm_content": (("banner-a", 0.3), ("banner-b", 0.3), ("(none)", 0.4)),
    "utm_term": (("running shoes", 0.2), ("sneakers", 0.15), ("(none)", 0.65)),
}
# How well each device converts whatever the variant; other dimensions draw theirs from the seed.
DEVICE_BASE = {"desktop": 1.3, "mobile": 0.8, "tablet": 1.0}


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split into integers in proportion to `weights` (largest remainder, ties to the first)."""
    mass = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if mass <= 0:
        weights, mass = [1.0] * len(weights), float(len(weights))
    quotas = [total * w / mass for w in weights]
    parts = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _capped(conversions: list[int], visitors: list[int]) -> list[int]:
    """No segment converts more visitors than it has: excess moves to the segments with the most room."""
    out = [min(c, v) for c, v in zip(conversions, visitors, strict=True)]
    excess = sum(conversions) - sum(out)
    for i in sorted(range(len(out)), key=lambda i: (-(visitors[i] - out[i]), i)):
        take = min(excess, visitors[i] - out[i])
        out[i] += take
        excess -= take
    return out


def propensities(rng: np.random.Generator, dimension: str, n_variants: int) -> list[list[float]]:
    """Per segment, per variant: the weight of its conversions (share x base x variant multiplier)."""
    rows = []
    for value, share in DIMENSIONS[dimension]:
        base = DEVICE_BASE.get(value, 1.0) if dimension == "device" else float(rng.uniform(0.6, 1.5))
        multipliers = [1.0]
        for k in range(1, n_variants):
            if dimension == "device":  # a variant that wins on desktop loses on mobile, and the other way round
                sign = 1 if k % 2 else -1
                multipliers.append({"desktop": 1 + 0.35 * sign, "mobile": 1 - 0.35 * sign}.get(value, 1.0))
            else:
                multipliers.append(float(np.exp(rng.normal(0, 0.3))))
        rows.append([share * base * m for m in multipliers])
    return rows


def partition(counts, weights: list[list[float]], dimension: str) -> dict[str, list[tuple[int, int, float, int]]]:
    """Per segment value, per variant (visitors, conversions, revenue, orders); every column adds up to `counts`."""
    values = [v for v, _ in DIMENSIONS[dimension]]
    shares = [s for _, s in DIMENSIONS[dimension]]
    columns = []
    for k, c in enumerate(counts):
        visitors = apportion(c.visitors, shares)
        conversions = _capped(apportion(c.conversions, [row[k] for row in weights]), visitors)
        orders = apportion(c.orders, [float(x) for x in conversions] if any(conversions) else shares)
        cents = apportion(round(c.revenue * 100), [float(o) for o in orders] if any(orders) else shares)
        columns.append(list(zip(visitors, conversions, [x / 100 for x in cents], orders, strict=True)))
    return {value: [column[s] for column in columns] for s, value in enumerate(values)}
