"""The sandbox's world: projects, experiments and daily numbers, deterministic from a seed.

Numbers are generated per experiment and goal on first use (a hash of seed,
project, id and goal seeds its generator) and kept as cumulative sums per UTC
day, so any window's totals are two lookups and a 200 x 50 world costs nothing
until it is asked for. Inside a day the cumulative count follows one fixed
diurnal profile (integer-valued, monotone), so a local day under an hour offset
(`tz`) has its own numbers and consecutive local days still add up exactly.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

import numpy as np

from mida_pipeline.sandbox import company, segments
from mida_pipeline.sandbox.company import Project

NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
HEADLINES = [
    "Checkout button colour",
    "Free shipping banner",
    "Prix barré sur la fiche",
    "Größere Produktbilder",
    "Sticky add-to-cart",
    "Trust badges",
    "日本語の見出し",
    "Bundle offer",
    "Exit-intent popup",
    "Reviews first",
]
DELETED_GOAL = "goal_deleted_since"  # a metric still attached to an experiment whose goal no longer exists
# Share of a day's traffic by hour (quiet nights, busy evenings). Each calendar day turns the clock of this shape
# by its own number of hours (a world-wide audience), so that an hour's shift of a day's window moves real traffic.
HOURLY = np.array([2, 1.5, 1, 1, 1, 1.5, 2.5, 3.5, 4.5, 5, 5.5, 5.5, 5.5, 5, 5, 5, 5.5, 6, 6.5, 7, 7, 6, 4.5, 3])
HOURS = np.arange(25, dtype=float)
PROFILES = np.array([np.concatenate([[0.0], np.cumsum(np.roll(HOURLY, r)) / HOURLY.sum()]) for r in range(24)])
PROFILES[:, -1] = 1.0  # a whole day is the whole day, exactly


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 7
    projects: int = 3
    experiments_per_project: int = 8
    history_days: int = 450
    events_per_project: int = 6
    today: date | None = None
    inactive_projects: int = 1  # paused projects: listed only with include_inactive, 403 as an auth context


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
    return (
        datetime.combine(day, time(9, 30), timezone.utc).isoformat().replace("+00:00", "Z")
        if as_timestamp
        else day.isoformat()
    )


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
    secondary_goals: tuple[str, ...] = ()  # goal keys of its attached secondary metrics
    engine_differs: bool = False  # its stats engine is not its project's configured one (the result's own wins)
    stalled: bool = False  # live, but the site stopped serving it: no visitors from three days before today on


class SandboxData:
    def __init__(self, config: SandboxConfig = SandboxConfig()):
        self.config = config
        self.today = config.today or datetime.now(timezone.utc).date()
        self.first_day = self.today - timedelta(days=config.history_days)
        self._lock = threading.Lock()
        paused = [f"shop-dormant-{i + 1}" for i in range(config.inactive_projects)]
        keys = [*self.project_keys, *paused]
        # Copied on write, so readers in the server's thread never see a half-added project.
        self._projects: dict[str, Project] = {
            k: Project(k, i, f"{k}.example", 0 if k in paused else 1, self.first_day - timedelta(days=30 * (i % 7)))
            for i, k in enumerate(keys)
        }

    @cached_property
    def project_keys(self) -> list[str]:
        """The active projects that exist from the start (not the paused ones, nor any added later)."""
        n = self.config.projects
        return [f"shop-{NAMES[i]}" if n <= len(NAMES) else f"shop-{i:03d}" for i in range(n)]

    def has_project(self, project_key: str) -> bool:
        return project_key in self._projects

    def is_active(self, project_key: str) -> bool:
        return self._projects[project_key].status == 1

    def add_project(self, project_key: str, name: str | None = None) -> dict:
        """A project created while the server runs: listed from the next call on, every route serving its data."""
        if not project_key or not all(ch.isalnum() or ch in "-_." for ch in project_key):
            raise ValueError(f"project_key {project_key!r} must be letters, digits, '-', '_' or '.'")
        with self._lock:
            if project_key in self._projects:
                raise ValueError(f"project {project_key!r} already exists")
            project = Project(project_key, len(self._projects), name or f"{project_key}.example", 1, self.today)
            self._projects = {**self._projects, project_key: project}
        return company.project_item(project)

    def projects(self, include_inactive: bool = False) -> list[dict]:
        """The company's projects as `GET /projects` lists them, paused ones only when asked."""
        return [company.project_item(p) for p in self._projects.values() if include_inactive or p.status == 1]

    def _index(self, project_key: str) -> int:
        return self._projects[project_key].index

    def configuration(self, project_key: str) -> dict:
        """Global Settings: both engines and both tails occur across the projects, in turn by project index."""
        return company.configuration(self._index(project_key), self.goals(project_key))

    def stats_engine(self, e: Experiment) -> str:
        configured = self.configuration(e.project_key)["stats_engine"]
        return ({"bayesian": "frequentist", "frequentist": "bayesian"}[configured]) if e.engine_differs else configured

    @cache  # noqa: B019 - one data set per sandbox server, alive as long as the server
    def _experiments(self, project_key: str) -> tuple[Experiment, ...]:
        index = self._index(project_key)
        goal_keys = [g["goal_key"] for g in self.goals(project_key)]
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
            weights = (
                None
                if mab
                else tuple([1 / n_variants] * n_variants)
                if j % 3
                else tuple(rng.dirichlet([8] * n_variants).round(4))
            )
            base = float(rng.uniform(0.02, 0.12))
            rates = tuple([base] + [base * float(rng.uniform(0.85, 1.25)) for _ in range(n_variants - 1)])
            primary = goal_keys[0 if j % 2 == 0 else 1]
            # A generator of its own, so the numbers drawn above stay what they were before goals existed.
            others = [k for k in goal_keys if k != primary]
            _rng(self.config.seed, project_key, j, "goals").shuffle(others)
            secondary = tuple(others[: [2, 1, 0, 3, 1, 2, 0, 1][j % 8]])
            out.append(
                Experiment(
                    project_key,
                    (index + 1) * 1000 + j + 1,
                    f"{HEADLINES[j % len(HEADLINES)]} #{j + 1}",
                    status,
                    created,
                    ended,
                    tuple(str(v) for v in range(n_variants)),
                    weights,
                    rates,
                    j % 2 == 0,
                    90.0 if j % 4 == 3 else 95.0,
                    j % 8 == 7,
                    j % 8 == 1,
                    secondary,
                    j % 8 == 5,
                    j % 8 == 3,
                )
            )
        return tuple(out)

    def experiment_records(self, project_key: str) -> tuple[Experiment, ...]:
        """A project's experiments as the sandbox holds them: what tests compute their expectations from."""
        return self._experiments(project_key)

    def experiments(self, project_key: str) -> list[dict]:
        """The listing items, as the API sends them (status as an int)."""
        return [self.list_item(e) for e in self._experiments(project_key)]

    def experiment(self, project_key: str, test_id: int) -> Experiment | None:
        if not self.has_project(project_key):
            return None
        return next((e for e in self._experiments(project_key) if e.test_id == test_id), None)

    def variant_ids(self, project_key: str, test_id: int) -> tuple[str, ...]:
        return self.experiment(project_key, test_id).variant_ids

    def list_item(self, e: Experiment) -> dict:
        stamp = e.test_id % 2 == 0
        return {
            "test_id": e.test_id,
            "test_name": e.name,
            "url": f"https://{e.project_key}.example/products",
            "status": e.status,
            "is_completed": 1 if e.status == 0 else 0,
            "created_at": _iso(e.created, stamp),
            "updated_at": _iso(e.ended or e.created, not stamp),
            "is_deploy": 0,
            **({"serving_variant_id": 0} if e.status == 1 else {}),
        }

    def running_days(self, e: Experiment) -> tuple[date, date] | None:
        if e.status == 9:
            return None
        return e.created, (e.ended or self.today)

    def primary_goal(self, e: Experiment) -> dict:
        return dict(self._primary(e))

    def _primary(self, e: Experiment) -> dict:
        return self._goals(e.project_key)[0 if e.revenue_goal else 1]

    def experiment_goals(self, project_key: str, test_id: int) -> list[dict]:
        """Its primary goal, then its secondary ones, each once."""
        e = self.experiment(project_key, test_id)
        by_key = {g["goal_key"]: g for g in self.goals(project_key)}
        primary = self.primary_goal(e)
        keys = [primary["goal_key"], *(k for k in e.secondary_goals if k != primary["goal_key"])]
        return [
            {
                **{f: by_key[k][f] for f in ("goal_key", "goal_name", "goal_type", "goal_value", "goal_profile_id")},
                "is_primary": k == primary["goal_key"],
            }
            for k in keys
        ]

    def metric_keys(self, project_key: str, test_id: int) -> list[str]:
        """Its attached secondary metrics as `/metrics` lists them: its secondary goals; in one experiment per project
        its primary goal again (nothing stops a user attaching it twice); in another a goal deleted since, which
        `/metrics` skips with a warning."""
        e = self.experiment(project_key, test_id)
        j = (test_id - 1) % 1000
        keys = list(e.secondary_goals)
        if j == 3:
            keys.append(self.primary_goal(e)["goal_key"])
        if j == 0 and keys:
            keys.append(DELETED_GOAL)
        return keys

    @lru_cache(maxsize=4096)  # noqa: B019 - as above
    def _series(self, project_key: str, test_id: int) -> dict[str, np.ndarray]:
        """Per variant, cumulative [visitors, conversions, revenue, orders] over the running days (row 0 = zeros)."""
        e = self.experiment(project_key, test_id)
        first, last = self.running_days(e)
        n_days = (last - first).days + 1
        rng = _rng(self.config.seed, project_key, test_id, "daily")
        traffic = rng.poisson(400 + (test_id % 7) * 150, n_days)
        if e.stalled and e.ended is None:
            traffic[-4:] = 0  # today and the three closed days before it bring no one
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

    @lru_cache(maxsize=8192)  # noqa: B019 - as above
    def _goal_series(self, project_key: str, test_id: int, goal_key: str) -> dict[str, np.ndarray]:
        """As `_series`, for any goal of the project: the same visitors, conversions at the goal's own rates."""
        e = self.experiment(project_key, test_id)
        if goal_key == self._primary(e)["goal_key"]:
            return self._series(project_key, test_id)
        goal = next(g for g in self._goals(project_key) if g["goal_key"] == goal_key)
        rng = _rng(self.config.seed, project_key, test_id, "goal", goal_key)
        base = float(rng.uniform(0.02, 0.2))
        if e.secondary_goals[:1] == (
            goal_key,
        ):  # its first secondary goal mirrors the primary's lifts: winners lose here
            lifts = [e.rates[0] / r for r in e.rates]
        else:
            lifts = [1.0] + [float(rng.uniform(0.8, 1.25)) for _ in e.variant_ids[1:]]
        revenue_goal = goal["goal_type"] == "revenue"
        out = {}
        for k, (vid, cum) in enumerate(self._series(project_key, test_id).items()):
            visitors = np.diff(cum[0]).astype(np.int64)
            conversions = rng.binomial(visitors, min(base * lifts[k], 1.0))
            orders = conversions if revenue_goal else np.zeros_like(conversions)
            revenue = (
                np.round(orders * rng.uniform(30, 90, len(visitors)), 2) if revenue_goal else np.zeros(len(visitors))
            )
            daily = np.stack([visitors, conversions, revenue, orders]).astype(float)
            out[vid] = np.concatenate([np.zeros((4, 1)), np.cumsum(daily, axis=1)], axis=1)
        return out

    @staticmethod
    def _at(cum: np.ndarray, first: date, hours: float) -> np.ndarray:
        """The cumulative counts at `hours` after the UTC midnight starting `first` (integers stay integers)."""
        n_days = cum.shape[1] - 1
        if hours <= 0:
            return cum[:, 0]
        day, hour = divmod(hours, 24)
        day = int(day)
        if day >= n_days:
            return cum[:, n_days]
        start = cum[:, day]
        if hour == 0:
            return start
        v, c, r, o = cum[:, day + 1] - start
        share = float(np.interp(hour, HOURS, PROFILES[(first.toordinal() + day) * 7 % 24]))
        orders = math.floor(o * share)
        return start + np.array([math.floor(v * share), math.floor(c * share), r * orders / o if o else 0.0, orders])

    def window(
        self,
        project_key: str,
        test_id: int,
        variant_id: str,
        start: date,
        end: date,
        goal_key: str | None = None,
        tz_offset: float = 0.0,
    ) -> DayCounts:
        """Totals of one variant over the local days [start, end] at `tz_offset` hours from UTC, for a goal of the
        project (default: the experiment's primary). A local day D covers the UTC instants [D - offset, D + 1 - offset)."""
        e = self.experiment(project_key, test_id)
        span = self.running_days(e)
        if span is None:
            return DayCounts(0, 0, 0.0, 0)
        goals = self._goals(project_key)
        if goal_key is not None and all(g["goal_key"] != goal_key for g in goals):
            raise KeyError(f"no goal {goal_key!r} in project {project_key!r}")
        cum = self._goal_series(project_key, test_id, goal_key or self._primary(e)["goal_key"])[variant_id]
        a = self._at(cum, span[0], (start - span[0]).days * 24 - tz_offset)
        b = self._at(cum, span[0], ((end - span[0]).days + 1) * 24 - tz_offset)
        v, c, r, o = b - a
        return DayCounts(int(round(v)), int(round(c)), round(float(r), 2), int(round(o)))

    def daily(
        self,
        project_key: str,
        test_id: int,
        variant_id: str,
        day: date,
        *,
        goal_key: str | None = None,
        tz_offset: float = 0.0,
    ) -> DayCounts:
        return self.window(project_key, test_id, variant_id, day, day, goal_key=goal_key, tz_offset=tz_offset)

    def day_population(
        self,
        project_key: str,
        test_id: int,
        variant_id: str,
        day: date,
        *,
        goal_key: str | None = None,
        tz_offset: float = 0.0,
    ) -> tuple[DayCounts, int, np.ndarray]:
        """One variant's local day as a population: its counts, its conversion events (a converting visitor may
        convert again the same day) and each converting visitor's revenue.

        Every converting visitor places one order (the series' orders are its conversions) worth a share of the
        day's revenue drawn from a log-normal spread, so the day's sums of squares and cross products are those of
        real visitors. Deterministic per project, experiment, goal, variant, day and offset.
        """
        counts = self.daily(project_key, test_id, variant_id, day, goal_key=goal_key, tz_offset=tz_offset)
        rng = _rng(self.config.seed, project_key, test_id, goal_key, variant_id, day, tz_offset, "visitors")
        events = counts.conversions + int(rng.binomial(counts.conversions, 0.3))
        weights = rng.lognormal(0.0, 0.6, counts.orders)
        spend = counts.revenue * weights / weights.sum() if counts.orders else np.zeros(0)
        return counts, events, spend

    def breakdown(
        self,
        project_key: str,
        test_id: int,
        dimension: str,
        start: date,
        end: date,
        goal_key: str | None = None,
        tz_offset: float = 0.0,
    ) -> dict[str, dict[str, DayCounts]]:
        """Per segment value, per variant: the window's counts split by `dimension`, adding up exactly to `window`."""
        if dimension not in segments.DIMENSIONS:
            raise KeyError(f"unknown breakdown dimension {dimension!r}; one of {sorted(segments.DIMENSIONS)}")
        e = self.experiment(project_key, test_id)
        counts = [
            self.window(project_key, test_id, vid, start, end, goal_key=goal_key, tz_offset=tz_offset)
            for vid in e.variant_ids
        ]
        weights = segments.propensities(_rng(self.config.seed, project_key, test_id, dimension), dimension, len(counts))
        split = segments.partition(counts, weights, dimension)
        return {
            value: {vid: DayCounts(*cells[k]) for k, vid in enumerate(e.variant_ids)} for value, cells in split.items()
        }

    def goals(self, project_key: str) -> list[dict]:
        """The project's goals as `/goals` lists them (copies: a caller may change what it is given)."""
        return [dict(g) for g in self._goals(project_key)]

    @cache  # noqa: B019 - as above; read on every window's counts, so made once a project
    def _goals(self, project_key: str) -> tuple[dict, ...]:
        base = (self._index(project_key) + 1) * 100
        kinds = [
            ("purchase", "Purchase", "revenue", "sell"),
            ("add_to_cart", "Add to cart", "clickOnElement", "engage"),
            ("signup", "Newsletter sign-up", "formSubmit", "generate"),
            ("thank_you", "Thank-you page", "pageview", "sell"),
        ]
        return tuple(
            {
                "goal_profile_id": base + i,
                "goal_key": k,
                "goal_name": n,
                "goal_type": t,
                "goal_value": 1 if t != "revenue" else None,
                "goal_purpose": p,
                "element_url": f"https://{project_key}.example/",
                "status": 1,
                "created_at": _iso(self.first_day + timedelta(days=i), i % 2 == 0),
            }
            for i, (k, n, t, p) in enumerate(kinds)
        )

    def events(self, project_key: str) -> list[dict]:
        base = (self._index(project_key) + 1) * 100_000
        return [
            {
                "event_id": base + i,
                "event_text": f"custom_event_{i}",
                "event_type": "custom",
                "event_property": None if i % 3 == 0 else f'{{"plan": "p{i % 4}", "value": {i}}}',
                "url": f"https://{project_key}.example/e/{i}",
                "event_path": f"/e/{i}",
                "status": 1,
                "created_at": _iso(self.first_day + timedelta(days=i % 300), i % 2 == 1),
            }
            for i in range(self.config.events_per_project)
        ]

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
            "total_visitors": visitors,
            "total_sessions": sessions,
            "total_pageviews": int(sessions * rng.uniform(2.5, 4)),
            "product_views": views,
            "add_to_cart": cart,
            "checkout_started": checkout,
            "successful_orders": orders,
            "abandoned_carts": cart - orders,
            "revenue": round(orders * float(rng.uniform(50, 90)), 2),
            "currency": "USD",
            "traffic_sources": {
                "organic": organic,
                "paid": paid,
                "referral": referral,
                "direct": visitors - organic - paid - referral,
            },
            "devices": {"desktop": desktop, "mobile": mobile, "tablet": visitors - desktop - mobile},
            "rage_clicks": int(rng.integers(0, 30)),
            "error_clicks": int(rng.integers(0, 10)),
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
