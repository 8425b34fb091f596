"""The report of a large agency: built from scratch, then again after a daily run changed the marts.

The marts are synthetic (the columns the report reads, shaped like the sandbox's
world: 5 live, 2 ended and 1 draft experiment in every 8), so the figure is the
report's own cost, not the pipeline's. A daily run is mimicked as the marts
change after one: live experiments gain a day of traffic, every scorecard is
as of the new day, the store gains a day.

Run: `python -m benchmarks.report [--projects 200 --experiments 50 --days 365 --workers 2]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shutil
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from benchmarks.common import Figure
from mida_pipeline.stats.scorecard import DTYPES

SQL_TYPES = {
    "string": "VARCHAR",
    "Int64": "BIGINT",
    "Float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "datetime64[us]": "TIMESTAMP",
}

STATUS = ["live", "live", "inactive", "live", "draft", "inactive", "live", "live"]  # the sandbox's experiment j % 8


def write_marts(path: Path, projects: int, experiments: int, days: int, last: date, seed: int = 7) -> None:
    """A warehouse with the marts the report reads, for `projects` x `experiments`."""
    rng = np.random.default_rng(seed)
    keys = [f"shop-{i:03d}" for i in range(projects)]
    dims, cards, series = [], [], []
    for p, key in enumerate(keys):
        for j in range(experiments):
            test_id, status = (p + 1) * 1000 + j + 1, STATUS[j % 8]
            dims.append((key, test_id, f"Experiment {j + 1}", status, "Purchase"))
            if status == "draft":
                continue
            running = int(rng.integers(14, min(days, 120) + 1))
            first = last - timedelta(days=running - 1)
            n_variants = 2 + j % 3
            daily = rng.poisson(300, (n_variants, running))
            for v in range(n_variants):
                visitors = np.cumsum(daily[v])
                conversions = np.cumsum(rng.binomial(daily[v], 0.05 + 0.005 * v))
                series.append(
                    pd.DataFrame(
                        {
                            "project_key": key,
                            "test_id": test_id,
                            "variant_id": str(v),
                            "result_date": pd.date_range(first, periods=running).date,
                            "visitors": visitors,
                            "conversions": conversions,
                            "result_window": "cumulative",
                            "is_primary_goal": True,
                        }
                    )
                )
                rate = conversions[-1] / visitors[-1]
                cards.append(
                    (
                        key,
                        test_id,
                        f"Experiment {j + 1}",
                        str(v),
                        "Control" if v == 0 else f"Variant {v}",
                        v == 0,
                        int(visitors[-1]),
                        int(conversions[-1]),
                        rate,
                        None if v == 0 else 0.004 * v,
                        None if v == 0 else 0.08 * v,
                        None if v == 0 else -0.002,
                        None if v == 0 else 0.01 * v,
                        None if v == 0 else 0.2,
                        None if v == 0 else 0.6,
                        10.0 * visitors[-1],
                        10.0,
                        None,
                        "winner" if v == 2 else "inconclusive",
                        last,
                        95.0,
                        False,
                        0.5,
                    )
                )
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
        con.execute(
            "CREATE TABLE marts.dim_experiments (project_key VARCHAR, test_id BIGINT, test_name VARCHAR, status VARCHAR, "
            "primary_goal_name VARCHAR)"
        )
        con.executemany("INSERT INTO marts.dim_experiments VALUES (?, ?, ?, ?, ?)", dims)
        con.execute(
            "CREATE TABLE marts.fct_experiment_scorecard (project_key VARCHAR, test_id BIGINT, test_name VARCHAR, variant_id VARCHAR, "
            "variant_name VARCHAR, is_control BOOLEAN, visitors BIGINT, conversions BIGINT, conversion_rate DOUBLE, abs_lift DOUBLE, "
            "rel_lift DOUBLE, ci_low DOUBLE, ci_high DOUBLE, p_value DOUBLE, chance_to_beat_control DOUBLE, revenue DOUBLE, "
            "revenue_per_visitor DOUBLE, rpv_lift DOUBLE, verdict VARCHAR, as_of_date DATE, confidence_threshold_percent DOUBLE, "
            "srm_flag BOOLEAN, srm_p_value DOUBLE)"
        )
        frame = pd.DataFrame(cards)  # noqa: F841  read by DuckDB below
        con.execute("INSERT INTO marts.fct_experiment_scorecard SELECT * FROM frame")
        # Every other column of the scorecard, typed as the mart has it; one goal per experiment, the primary.
        have = {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'fct_experiment_scorecard'"
            ).fetchall()
        }
        for column, dtype in DTYPES.items():
            if column not in have:
                con.execute(f"ALTER TABLE marts.fct_experiment_scorecard ADD COLUMN {column} {SQL_TYPES[dtype]}")
        con.execute(
            "UPDATE marts.fct_experiment_scorecard SET goal_key = 'purchase', goal_name = 'Purchase', "
            "is_primary_goal = true, safe_verdict = CASE WHEN is_control THEN 'control' ELSE 'inconclusive' END"
        )
        stg = pd.concat(series, ignore_index=True) if series else pd.DataFrame()  # noqa: F841
        # The daily scorecard the charts over time read: the series, with a chance to beat control and a
        # sequential p-value that drift as the days go by.
        con.execute("""CREATE TABLE marts.fct_experiment_scorecard_daily AS SELECT project_key, test_id, 'purchase' AS goal_key,
                           true AS is_primary_goal, variant_id, result_date::TIMESTAMP AS as_of_date, visitors, conversions,
                           NULL::DOUBLE AS abs_lift, NULL::DOUBLE AS ci_low, NULL::DOUBLE AS ci_high,
                           0.5 + 0.4 * sin(visitors / 5000.0) AS chance_to_beat_control,
                           0.05 + 0.9 * abs(cos(visitors / 7000.0)) AS sequential_p_value
                       FROM stg""")
        store = pd.DataFrame({"period_date": pd.date_range(last - timedelta(days=days - 1), periods=days).date})
        for column, scale in (
            ("total_visitors", 1000),
            ("total_sessions", 1300),
            ("product_views", 700),
            ("add_to_cart", 200),
            ("checkout_started", 90),
            ("successful_orders", 40),
            ("revenue", 3000.0),
        ):
            store[column] = rng.poisson(scale, days)
        store["cart_abandonment_rate"] = 1 - store["successful_orders"] / store["add_to_cart"]
        con.execute("CREATE TABLE marts.fct_store_traffic_daily AS SELECT * FROM store")
        con.execute(
            "CREATE TABLE marts.fct_store_traffic_weekly AS SELECT date_trunc('week', period_date)::DATE AS period_date, "
            "sum(total_visitors) AS total_visitors, sum(total_sessions) AS total_sessions, sum(product_views) AS product_views, "
            "sum(add_to_cart) AS add_to_cart, sum(checkout_started) AS checkout_started, "
            "sum(successful_orders) AS successful_orders, sum(revenue) AS revenue, avg(cart_abandonment_rate) AS "
            "cart_abandonment_rate FROM marts.fct_store_traffic_daily GROUP BY ALL"
        )


def a_day_later(path: Path, day: date) -> None:
    """The marts after one more daily run: live experiments gain traffic, every scorecard moves to `day`."""
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute(
            "UPDATE marts.fct_experiment_scorecard s SET visitors = visitors + 150, conversions = conversions + 8 "
            "FROM marts.dim_experiments d WHERE d.project_key = s.project_key AND d.test_id = s.test_id AND d.status = 'live'"
        )
        con.execute("UPDATE marts.fct_experiment_scorecard SET as_of_date = ?", [day])
        con.execute(
            "INSERT INTO marts.fct_experiment_scorecard_daily SELECT project_key, test_id, goal_key, true, variant_id, "
            "?::TIMESTAMP, visitors, conversions, abs_lift, ci_low, ci_high, 0.6, 0.2 "
            "FROM marts.fct_experiment_scorecard",
            [day],
        )
        con.execute(
            "INSERT INTO marts.fct_store_traffic_daily SELECT ?::DATE, 1000, 1300, 700, 200, 90, 40, 3000.0, 0.8", [day]
        )


def run(workdir: Path, projects: int, experiments: int, days: int, workers: int) -> list[Figure]:
    from mida_pipeline.report import build_report

    workdir.mkdir(parents=True, exist_ok=True)
    warehouse, out = workdir / "warehouse.duckdb", workdir / "report"
    warehouse.unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)  # "from scratch" means no saved sections from an earlier run
    last = datetime.now(timezone.utc).date() - timedelta(days=2)
    write_marts(warehouse, projects, experiments, days, last)
    figures, size = [], f"{projects} x {experiments}"
    for label, prepare in (
        ("from scratch", None),
        ("after a daily run", lambda: a_day_later(warehouse, last + timedelta(days=1))),
        ("unchanged marts", None),
    ):
        if prepare:
            prepare()
        started, cpu = time.perf_counter(), time.process_time()
        output = build_report(warehouse, out, workers=workers)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures += [
            Figure(
                "report",
                f"report {label}, {size}",
                elapsed,
                "s",
                f"{workers} worker processes; load average {os.getloadavg()[0]:.1f}",
            ),
            Figure(
                "report",
                f"report {label}, {size}, CPU of the building process",
                cpu,
                "s",
                "every section's drawing when --workers 1",
            ),
            Figure(
                "report",
                f"sections drawn {label}",
                output.drawn,
                "sections",
                f"{len(output.written)} pages written of {len(output.pages) + 1}",
            ),
        ]
    figures.append(
        Figure(
            "report",
            "peak RSS of the report (parent)",
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "MiB",
        )
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--experiments", type=int, default=50)
    parser.add_argument(
        "--days", type=int, default=365, help="days of store history and the longest experiment's span cap"
    )
    parser.add_argument("--workers", type=int, default=2, help="drawing processes (default 2)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mida-report-bench"))
    args = parser.parse_args(argv)
    figures = run(args.workdir, args.projects, args.experiments, args.days, args.workers)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    print("| figure | value | unit | note |\n|---|---:|---|---|")
    for f in figures:
        print(f"| {f.name} | {f.value:,.1f} | {f.unit} | {f.note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
