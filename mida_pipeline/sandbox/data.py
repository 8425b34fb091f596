"""The sandbox's world: projects, experiments and daily numbers, deterministic from a seed.

Numbers are generated per experiment on first use (a hash of seed, project and
id seeds its generator) and kept as cumulative sums, so any window's totals
are two lookups and a 200 x 50 world costs nothing until it is asked for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np

NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
HEADLINES = ["Checkout button colour", "Free shipping banner", "Prix barré sur la fiche", "Größere Produktbilder",
             "Sticky add-to-cart", "Trust badges", "日本語の見出し", "Bundle offer", "Exit-intent popup", "Reviews first"]


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 7
    projects: int = 3
    experiments_per_project: int = 8
    history_days: int = 450
    events_per_project: int = 6
    today: date | None = None


class DayCounts(NamedTuple):
    visitors: int
    conversions: int
    revenue: float
    orders: int


def _rng(*parts) -> np.random.Generator:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _iso(day: date, as_timestamp: bool) -> str:
    # The API sends dates both ways; the sandbox does too, alternating by id.
    return datetime.combine(day, time(9, 30), timezone.utc).isoformat().replace("+00:00", "Z") if as_timestamp else day.isoformat()


@dataclass(frozen=True)
class Experiment:
    project_key: str
    test_id: int
    name: str
    status: int  # 9 draft, 1 live, 0 inactive
    created: date
    ended: date | None
    variant_ids: tuple[str, ...]
    weights: tuple[float, ...] | None  # None under MAB
    rates: tuple[float, ...]
    revenue_goal: bool
    threshold: float
    srm: bool  # traffic deliberately off its declared weights
    paused_variant: bool = False  # its last variant was paused (a live experiment, so the pause shows in results)


class SandboxData:
    def __init__(self, config: SandboxConfig = SandboxConfig()):
        self.config = config
        self.today = config.today or datetime.now(timezone.utc).date()
        self.first_day = self.today - timedelta(days=config.history_days)

    @cached_property
    def project_keys(self) -> list[str]:
        n = self.config.projects
        return [f"shop-{NAMES[i]}" if n <= len(NAMES) else f"shop-{i:03d}" for i in range(n)]

    @lru_cache(maxsize=None)
    def _experiments(self, project_key: str) -> tuple[Experiment, ...]:
        index = self.project_keys.index(project_key)
        out = []
        for j in range(self.config.experiments_per_project):
            rng = _rng(self.config.seed, project_key, j)
            status = [1, 1, 0, 1, 9, 0, 1, 1][j % 8]
            created = self.today - timedelta(days=int(rng.integers(20, self.config.history_days - 10)))
            if j % 8 == 1:  # one long-running live test per project spans (nearly) the whole history
                created = self.today - timedelta(days=self.config.history_days - 10)
            ended = created + timedelta(days=int(rng.integers(10, 60))) if status == 0 else None
            if ended and ended >= self.today:
                ended = self.today - timedelta(days=1)
            n_variants = int(rng.integers(2, 6))
            mab = j % 8 == 6
            weights = None if mab else tuple([1 / n_variants] * n_variants) if j % 3 else tuple(
                (w := rng.dirichlet([8] * n_variants)).round(4))
            base = float(rng.uniform(0.02, 0.12))
            rates = tuple([base] + [base * float(rng.uniform(0.85, 1.25)) for _ in range(n_variants - 1)])
            out.append(Experiment(
                project_key, (index + 1) * 1000 + j + 1, f"{HEADLINES[j % len(HEADLINES)]} #{j + 1}", status, created,
                ended, tuple(str(v) for v in range(n_variants)), weights, rates, j % 2 == 0,
                90.0 if j % 4 == 3 else 95.0, j % 8 == 7, j % 8 == 1,
            ))
        return tuple(out)

    def experiments(self, project_key: str) -> list[dict]:
        """The listing items, as the API sends them (status as an int)."""
        return [self.list_item(e) for e in self._experiments(project_key)]

    def experiment(self, project_key: str, test_id: int) -> Experiment | None:
        return next((e for e in self._experiments(project_key) if e.test_id == test_id), None) if project_key in self.project_keys else None

    def variant_ids(self, project_key: str, test_id: int) -> tuple[str, ...]:
        return self.experiment(project_key, test_id).variant_ids

    def list_item(self, e: Experiment) -> dict:
        stamp = e.test_id % 2 == 0
        return {
            "test_id": e.test_id, "test_name": e.name, "url": f"https://{e.project_key}.example/products",
            "status": e.status, "is_completed": 1 if e.status == 0 else 0,
            "created_at": _iso(e.created, stamp), "updated_at": _iso(e.ended or e.created, not stamp),
            "is_deploy": 0, **({"serving_variant_id": 0} if e.status == 1 else {}),
        }

    def running_days(self, e: Experiment) -> tuple[date, date] | None:
        if e.status == 9:
            return None
        return e.created, (e.ended or self.today)

    @lru_cache(maxsize=4096)
    def _series(self, project_key: str, test_id: int) -> dict[str, np.ndarray]:
        """Per variant, cumulative [visitors, conversions, revenue, orders] over the running days (row 0 = zeros)."""
        e = self.experiment(project_key, test_id)
        first, last = self.running_days(e)
        n_days = (last - first).days + 1
        rng = _rng(self.config.seed, project_key, test_id, "daily")
        traffic = rng.poisson(400 + (test_id % 7) * 150, n_days)
        weights = np.array(e.weights or [1 / len(e.variant_ids)] * len(e.variant_ids))
        if e.srm:
            weights = weights * np.linspace(1.15, 0.85, len(weights))
        out = {}
        for k, vid in enumerate(e.variant_ids):
            visitors = rng.binomial(traffic, weights[k] / weights.sum())
            conversions = rng.binomial(visitors, e.rates[k])
            orders = conversions if e.revenue_goal else np.zeros(n_days, dtype=np.int64)
            revenue = np.round(orders * rng.uniform(30, 90, n_days), 2) if e.revenue_goal else np.zeros(n_days)
            daily = np.stack([visitors, conversions, revenue, orders]).astype(float)
            out[vid] = np.concatenate([np.zeros((4, 1)), np.cumsum(daily, axis=1)], axis=1)
        return out

    def window(self, project_key: str, test_id: int, variant_id: str, start: date, end: date) -> DayCounts:
        """Totals of one variant over [start, end], clipped to the days the experiment ran."""
        e = self.experiment(project_key, test_id)
        span = self.running_days(e)
        if span is None:
            return DayCounts(0, 0, 0.0, 0)
        lo, hi = max(start, span[0]), min(end, span[1])
        if lo > hi:
            return DayCounts(0, 0, 0.0, 0)
        cum = self._series(project_key, test_id)[variant_id]
        a, b = (lo - span[0]).days, (hi - span[0]).days + 1
        v, c, r, o = cum[:, b] - cum[:, a]
        return DayCounts(int(round(v)), int(round(c)), round(float(r), 2), int(round(o)))

    def daily(self, project_key: str, test_id: int, variant_id: str, day: date) -> DayCounts:
        return self.window(project_key, test_id, variant_id, day, day)

    def goals(self, project_key: str) -> list[dict]:
        base = (self.project_keys.index(project_key) + 1) * 100
        kinds = [("purchase", "Purchase", "revenue", "sell"), ("add_to_cart", "Add to cart", "clickOnElement", "engage"),
                 ("signup", "Newsletter sign-up", "formSubmit", "generate"), ("thank_you", "Thank-you page", "pageview", "sell")]
        return [{"goal_profile_id": base + i, "goal_key": k, "goal_name": n, "goal_type": t, "goal_value": 1 if t != "revenue" else None,
                 "goal_purpose": p, "element_url": f"https://{project_key}.example/", "status": 1,
                 "created_at": _iso(self.first_day + timedelta(days=i), i % 2 == 0)} for i, (k, n, t, p) in enumerate(kinds)]

    def events(self, project_key: str) -> list[dict]:
        base = (self.project_keys.index(project_key) + 1) * 100_000
        return [{"event_id": base + i, "event_text": f"custom_event_{i}", "event_type": "custom",
                 "event_property": None if i % 3 == 0 else f'{{"plan": "p{i % 4}", "value": {i}}}',
                 "url": f"https://{project_key}.example/e/{i}", "event_path": f"/e/{i}", "status": 1,
                 "created_at": _iso(self.first_day + timedelta(days=i % 300), i % 2 == 1)}
                for i in range(self.config.events_per_project)]

    def bss_day(self, day: date) -> dict:
        rng = _rng(self.config.seed, "bss", day.isoformat())
        visitors = int(rng.integers(800, 1600))
        sessions = int(visitors * rng.uniform(1.2, 1.6))
        views = int(visitors * rng.uniform(0.6, 0.8))
        cart = int(views * rng.uniform(0.18, 0.3))
        checkout = int(cart * rng.uniform(0.4, 0.6))
        orders = int(checkout * rng.uniform(0.35, 0.55))
        organic, paid, referral = (int(visitors * s) for s in (0.4, 0.25, 0.1))
        desktop, mobile = int(visitors * 0.48), int(visitors * 0.46)
        return {
            "total_visitors": visitors, "total_sessions": sessions, "total_pageviews": int(sessions * rng.uniform(2.5, 4)),
            "product_views": views, "add_to_cart": cart, "checkout_started": checkout, "successful_orders": orders,
            "abandoned_carts": cart - orders, "revenue": round(orders * float(rng.uniform(50, 90)), 2), "currency": "USD",
            "traffic_sources": {"organic": organic, "paid": paid, "referral": referral, "direct": visitors - organic - paid - referral},
            "devices": {"desktop": desktop, "mobile": mobile, "tablet": visitors - desktop - mobile},
            "rage_clicks": int(rng.integers(0, 30)), "error_clicks": int(rng.integers(0, 10)),
        }

    def bss(self, start: date, end: date) -> dict:
        """Metrics summed over [start, end] (a day, or a week)."""
        total: dict = {}
        day = start
        while day <= end:
            for key, value in self.bss_day(day).items():
                if isinstance(value, dict):
                    bucket = total.setdefault(key, {})
                    for k, v in value.items():
                        bucket[k] = bucket.get(k, 0) + v
                elif isinstance(value, str):
                    total[key] = value
                else:
                    total[key] = round(total.get(key, 0) + value, 2)
            day += timedelta(days=1)
        return total
