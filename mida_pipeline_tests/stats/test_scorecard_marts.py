"""The three scorecard marts built by real Dagster runs of the dbt assets over a lake written by hand: typed when
empty, one row per goal and variant, the history equal to the scorecard of each day, and an incremental run that
rewrites only the day it synced (checked by marking the rows already built and seeing which marks survive)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mida_pipeline.lake.writer import write_partition
from mida_pipeline.stats.scorecard import DTYPES, scorecard
from mida_pipeline.stats.segments import DTYPES as SEGMENT_DTYPES
from mida_pipeline_tests.dbt.helpers import build_models

pytestmark = [pytest.mark.dagster, pytest.mark.dbt]

DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(4)]
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "Int64": "BIGINT",
    "boolean": "BOOLEAN",
    "Float64": "DOUBLE",
    "datetime64[us]": "TIMESTAMP",
}


def captured(day: date, hours: int = 1) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(hours), UTC)


def results(day: date, index: int) -> list[dict]:
    """Test 1 (live, two goals, three arms) cumulative to `day` and that day alone; arms grow by 100 a day."""
    rows = []
    for goal_key, primary, rates in [("purchase", True, (0.10, 0.13, 0.09)), ("cart", False, (0.30, 0.29, 0.33))]:
        for variant, rate in enumerate(rates):
            for window, n in [("cumulative", 100 * (index + 1)), ("day", 100)]:
                rows.append(
                    {
                        "project_key": "p1",
                        "date": day,
                        "test_id": 1,
                        "goal_key": goal_key,
                        "goal_name": goal_key.title(),
                        "is_primary_goal": primary,
                        "variant_id": str(variant),
                        "window": window,
                        "is_control": variant == 0,
                        "visitors": n,
                        "conversions": round(n * rate),
                        "conversion_rate": 100 * rate,
                        "traffic_weight": 100 / 3,
                        "is_mab": False,
                        "confidence_threshold_percent": None,
                        "stats_engine": None,
                        "status": "live",
                        "test_name": "test 1",
                        "captured_at": captured(day),
                        "raw": "{}",
                    }
                )
    return rows


def spend(day: date, variant: int) -> np.ndarray:
    """What each buyer of the purchase goal spent on `day` in `variant` (one order each): a real population."""
    buyers = round(100 * (0.10, 0.13, 0.09)[variant])
    return np.round(np.random.default_rng([day.toordinal(), variant]).lognormal(4.0, 0.5, buyers), 2)


def timeseries(day: date) -> list[dict]:
    """The purchase goal's own day per arm (100 visitors each), with the moments of `spend`."""
    return [
        {
            "project_key": "p1",
            "date": day,
            "test_id": 1,
            "goal_key": "purchase",
            "is_primary_goal": True,
            "variant_id": str(variant),
            "visitors": 100,
            "conversions": len(x),
            "revenue": float(x.sum()),
            "orders": len(x),
            "sum_sq_revenue": float((x**2).sum()),
            "sum_sq_orders": float(len(x)),
            "sum_revenue_orders_cross": float(x.sum()),
            "captured_at": captured(day),
            "raw": "{}",
        }
        for variant in range(3)
        for x in [spend(day, variant)]
    ]


def write_day(lake: Path, day: date, index: int) -> None:
    write_partition(lake, "mida_experiment_results", results(day, index), day=day, project_key="p1")
    write_partition(lake, "mida_experiment_timeseries", timeseries(day), day=day, project_key="p1")
    write_partition(
        lake,
        "mida_project_configuration",
        [
            {
                "project_key": "p1",
                "date": day,
                "stats_engine": "bayesian",
                "tails": 1,
                "confidence_threshold_percent": 90.0,
                "is_late_capture": False,
                "captured_at": captured(day),
                "raw": "{}",
            }
        ],
        day=day,
        project_key="p1",
    )
    write_partition(
        lake,
        "mida_experiment_result_segments",
        [
            {
                "project_key": "p1",
                "date": day,
                "test_id": 1,
                "goal_key": "purchase",
                "dimension": "device",
                "segment": segment,
                "variant_id": str(v),
                "is_control": v == 0,
                "visitors": n,
                "conversions": c,
                "captured_at": captured(day),
                "raw": "{}",
            }
            for segment, arms in {"mobile": [(300, 30), (300, 45)], "desktop": [(200, 22), (0, 0)]}.items()
            for v, (n, c) in enumerate(arms)
        ],
        day=day,
        project_key="p1",
    )


def frame(con, sql: str) -> pd.DataFrame:
    cur = con.execute(sql)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def types(con, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = ?",
            [table],
        ).fetchall()
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("scorecards")
    published, lake = root / "warehouse.duckdb", root / "lake"
    out: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIDA_LAKE_DIR", str(lake))
        mp.setenv("MIDA_DUCKDB_PATH", str(published))
        mp.setenv("MIDA_REPORT_DIR", str(root / "report"))
        build_models()
        with duckdb.connect(str(published), read_only=True) as con:
            out["empty_types"] = {
                t: types(con, t)
                for t in (
                    "fct_experiment_scorecard",
                    "fct_experiment_scorecard_daily",
                    "fct_experiment_segment_scorecard",
                    "fct_experiment_segment_scorecard_daily",
                )
            }
        for index, day in enumerate(DAYS[:3]):
            write_day(lake, day, index)
        build_models()
        with duckdb.connect(str(published), read_only=True) as con:
            out["first"] = frame(con, "SELECT * FROM marts.fct_experiment_scorecard_daily")
        # Mark every row built so far in the private build file the next run starts from.
        build_file = published.parent / ".build" / published.name
        with duckdb.connect(str(build_file)) as con:
            con.execute("UPDATE marts.fct_experiment_scorecard_daily SET test_name = 'built before'")
        write_day(lake, DAYS[3], 3)
        build_models()
        with duckdb.connect(str(published), read_only=True) as con:
            out["after_one_day"] = frame(con, "SELECT * FROM marts.fct_experiment_scorecard_daily")
        # A backfill re-captures day 2 with other numbers: that day (and the days whose arrival rate reads it) is
        # rewritten, day 1 is kept.
        with duckdb.connect(str(build_file)) as con:
            con.execute("UPDATE marts.fct_experiment_scorecard_daily SET test_name = 'built before'")
        recaptured = [
            dict(r, captured_at=captured(DAYS[3], 20), conversions=r["conversions"] + 7) for r in results(DAYS[1], 1)
        ]
        write_partition(lake, "mida_experiment_results", recaptured, day=DAYS[1], project_key="p1")
        build_models()
    con = duckdb.connect(str(published), read_only=True)
    out.update(con=con, lake=lake)
    yield out
    con.close()


def test_an_empty_lake_gives_every_column_its_declared_type(built):
    expected = {c: DUCKDB_TYPES[t] for c, t in DTYPES.items()}
    assert built["empty_types"]["fct_experiment_scorecard"] == expected
    assert built["empty_types"]["fct_experiment_scorecard_daily"] == {
        **expected,
        "source_captured_at": "TIMESTAMP WITH TIME ZONE",
    }
    segment_types = {c: DUCKDB_TYPES[t] for c, t in SEGMENT_DTYPES.items()}
    assert built["empty_types"]["fct_experiment_segment_scorecard"] == segment_types
    assert built["empty_types"]["fct_experiment_segment_scorecard_daily"] == segment_types


def test_the_scorecard_has_a_row_per_goal_and_variant_as_of_the_latest_day_by_the_projects_rule(built):
    card = frame(
        built["con"], "SELECT * FROM marts.fct_experiment_scorecard ORDER BY is_primary_goal DESC, goal_key, variant_id"
    )
    assert len(card) == 6 and set(card.as_of_date.dt.date) == {DAYS[3]}
    assert set(card.decision_framework) == {"bayesian"} and set(card.tails) == {1}
    assert set(card.confidence_threshold_percent) == {90.0}
    assert list(card.goal_key) == ["purchase"] * 3 + ["cart"] * 3
    assert card[~card.is_control].p_value_holm.notna().all() and card[card.is_control].verdict.eq("control").all()


def test_the_scorecard_equals_the_statistics_package_on_the_same_rows(built):
    rows = pd.DataFrame(results(DAYS[3], 3)).rename(columns={"date": "result_date", "window": "result_window"})
    rows["traffic_weight"] = rows["traffic_weight"] / 100
    cfg = pd.DataFrame(
        [
            {
                "project_key": "p1",
                "config_date": DAYS[3],
                "stats_engine": "bayesian",
                "tails": 1,
                "confidence_threshold_percent": 90.0,
            }
        ]
    )
    expected = scorecard(rows[rows.result_window == "cumulative"], cfg, rows[rows.result_window == "day"])
    card = frame(built["con"], "SELECT * FROM marts.fct_experiment_scorecard")
    key = ["is_primary_goal", "goal_key", "variant_id"]
    card, expected = card.sort_values(key).reset_index(drop=True), expected.sort_values(key).reset_index(drop=True)
    for column in (
        "p_value",
        "sequential_p_value",
        "chance_to_beat_control",
        "expected_loss",
        "rel_ci_low",
        "mde_abs",
        "verdict",
        "safe_verdict",
    ):
        assert list(card[column].astype(object).where(card[column].notna(), None)) == pytest.approx(
            list(expected[column].astype(object).where(expected[column].notna(), None))
        ), column


def test_the_history_holds_every_day_and_its_latest_day_is_the_scorecard(built):
    daily = frame(built["con"], "SELECT * FROM marts.fct_experiment_scorecard_daily")
    assert sorted(set(daily.as_of_date.dt.date)) == DAYS and len(daily) == 4 * 6
    latest = daily[daily.as_of_date.dt.date == DAYS[3]].drop(columns=["source_captured_at"])
    card = frame(built["con"], "SELECT * FROM marts.fct_experiment_scorecard")
    key = ["is_primary_goal", "goal_key", "variant_id"]
    pd.testing.assert_frame_equal(
        latest.sort_values(key).reset_index(drop=True), card.sort_values(key).reset_index(drop=True)
    )


def test_a_one_day_run_rewrites_only_that_days_rows(built):
    daily = built["after_one_day"]
    rewritten = set(daily[daily.test_name != "built before"].as_of_date.dt.date)
    assert rewritten == {DAYS[3]}
    kept = (
        daily[daily.as_of_date.dt.date < DAYS[3]]
        .drop(columns="test_name")
        .sort_values(["as_of_date", "goal_key", "variant_id"])
    )
    first = built["first"].drop(columns="test_name").sort_values(["as_of_date", "goal_key", "variant_id"])
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), first.reset_index(drop=True))


def test_segments_are_scored_within_each_segment_and_flagged_exploratory(built):
    seg = frame(built["con"], "SELECT * FROM marts.fct_experiment_segment_scorecard ORDER BY segment, variant_id")
    assert len(seg) == 4 and seg.exploratory.all() and set(seg.as_of_date.dt.date) == {DAYS[3]}
    desktop_variant = seg[(seg.segment == "desktop") & (seg.variant_id == "1")].iloc[0]
    assert pd.isna(desktop_variant.chance_to_beat_control) and pd.isna(desktop_variant.p_value)
    mobile_variant = seg[(seg.segment == "mobile") & (seg.variant_id == "1")].iloc[0]
    assert mobile_variant.abs_lift == pytest.approx(0.05) and 0 < mobile_variant.chance_to_beat_control < 1


def test_a_backfill_rewrites_the_days_it_covers_and_the_week_after_and_keeps_the_rest(built):
    daily = frame(built["con"], "SELECT * FROM marts.fct_experiment_scorecard_daily")
    assert set(daily[daily.test_name != "built before"].as_of_date.dt.date) == set(DAYS[1:])
    day2 = daily[
        (daily.as_of_date.dt.date == DAYS[1]) & (daily.variant_id == "1") & (daily.goal_key == "purchase")
    ].iloc[0]
    assert day2.conversions == round(200 * 0.13) + 7 and len(daily) == 4 * 6


def welch(day: date, variant: int) -> tuple[float, float, float]:
    """Welch's t-test of the variant's revenue per visitor against control's, on every visitor to `day` (SciPy, from
    the populations written, not from the sums the marts read): p-value and the 90 % interval of the difference."""
    arms = []
    for arm in (0, variant):
        values = np.concatenate(
            [np.concatenate([spend(d, arm), np.zeros(100 - len(spend(d, arm)))]) for d in DAYS if d <= day]
        )
        arms.append(values)
    control, treated = arms
    test = stats.ttest_ind(treated, control, equal_var=False)
    low, high = test.confidence_interval(0.90)
    return test.pvalue, low, high


def test_revenue_per_visitor_in_the_marts_is_welchs_test_on_every_visitor_to_each_day(built):
    """The scorecard and its history sum the timeseries' daily moments up to each day: the same figures as a t-test
    on the visitors themselves (the project's 90 % threshold)."""
    history = frame(
        built["con"],
        "SELECT as_of_date, variant_id, rpv_p_value, rpv_ci_low, rpv_ci_high, rpv_verdict FROM "
        "marts.fct_experiment_scorecard_daily WHERE goal_key = 'purchase' AND NOT is_control",
    )
    assert len(history) == 2 * len(DAYS)
    for row in history.itertuples():
        p, low, high = welch(row.as_of_date.date(), int(row.variant_id))
        assert (row.rpv_p_value, row.rpv_ci_low, row.rpv_ci_high) == pytest.approx((p, low, high), rel=1e-9)
    cart = frame(
        built["con"], "SELECT rpv_p_value, rpv_verdict FROM marts.fct_experiment_scorecard WHERE goal_key = 'cart'"
    )
    assert cart.rpv_p_value.isna().all() and cart.rpv_verdict.isna().all()  # a goal without moments
