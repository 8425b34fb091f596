"""The marts, built by real Dagster runs of the dbt assets: first on an empty lake, then on a lake written by hand.

The hand-written rows hold the cases that matter (a status history, late captures, a re-capture, a lone
variant, zero visitors, nobody converting, a sample-ratio mismatch, a 90 % threshold); expected statistics
come from SciPy directly, not from the pipeline's own code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import duckdb
import pytest
from scipy import integrate, stats

from mida_pipeline.lake.writer import write_partition
from mida_pipeline_tests.dbt.helpers import build_models

pytestmark = [pytest.mark.dagster, pytest.mark.dbt]

D1, D2, D3, D4 = (date(2026, 3, 1) + timedelta(days=i) for i in range(4))
MARTS = ["dim_experiments", "dim_goals", "dim_events", "fct_experiment_variant_daily", "fct_experiment_scorecard",
         "fct_store_traffic_daily", "fct_store_traffic_weekly"]


def on_time(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(1), timezone.utc)


LATE = datetime(2026, 3, 20, 9, tzinfo=timezone.utc)


def experiment(test_id: int, day: date, status: str, captured_at: datetime, **extra) -> dict:
    return {"project_key": "p1", "date": day, "test_id": test_id, "test_name": f"test {test_id}", "status": status,
            "status_code": {"live": 1, "inactive": 0, "draft": 9}[status], "is_completed": status == "inactive",
            "variant_count": 2, "is_late_capture": captured_at.date() > day + timedelta(days=1),
            "captured_at": captured_at, "raw": "{}", **extra}


def result(test_id: int, day: date, variant_id: str, n: int, c: int, *, window="cumulative", weight=50.0,
           threshold=95.0, revenue=None, mab=False) -> dict:
    return {"project_key": "p1", "date": day, "test_id": test_id, "variant_id": variant_id, "window": window,
            "is_control": variant_id == "0", "visitors": n, "conversions": c, "conversion_rate": 100 * c / n if n else 0.0,
            "traffic_weight": None if mab else weight, "is_mab": mab, "confidence_threshold_percent": threshold,
            "revenue": revenue, "test_name": f"test {test_id}", "captured_at": LATE, "raw": "{}"}


def write_lake(lake) -> None:
    # Test 1: live on D1 and D2, ended on D3 (all on time), then a late capture on D4.
    for day, status in [(D1, "live"), (D2, "live"), (D3, "inactive")]:
        rows = [experiment(1, day, status, on_time(day)), experiment(2, day, "live", LATE)]
        if day == D2:  # the same key captured twice: staging keeps the later capture
            rows.append(experiment(1, day, "live", on_time(day) - timedelta(hours=5), test_name="stale name"))
        write_partition(lake, "mida_experiments", rows, day=day, project_key="p1")
    write_partition(lake, "mida_experiments", [experiment(1, D4, "inactive", LATE)], day=D4, project_key="p1")

    write_partition(lake, "mida_experiment_results", [
        result(1, D2, "0", 10, 1), result(1, D2, "1", 10, 9),  # an older day, which the scorecard must not use
    ], day=D2, project_key="p1")
    write_partition(lake, "mida_experiment_results", [
        result(1, D3, "0", 1000, 100), result(1, D3, "1", 1000, 130),
        result(1, D3, "0", 40, 4, window="day"), result(1, D3, "1", 0, 0, window="day"),
        result(2, D3, "0", 500, 0, mab=True), result(2, D3, "1", 520, 0, mab=True),   # nobody converted, MAB
        result(3, D3, "0", 100, 5, weight=100.0),                                       # a lone control
        result(4, D3, "0", 200, 20, revenue=400.0), result(4, D3, "1", 0, 0, revenue=0.0),  # no visitors yet
        result(5, D3, "0", 2000, 200, threshold=90.0), result(5, D3, "1", 2000, 235, threshold=90.0),
        result(6, D3, "0", 1000, 50), result(6, D3, "1", 1200, 60),                     # split off 50/50
    ], day=D3, project_key="p1")
    write_partition(lake, "mida_goals", [{"project_key": "p1", "date": D3, "goal_profile_id": "101", "goal_name": "Purchase",
                                          "is_late_capture": False, "captured_at": on_time(D3), "raw": "{}"}], day=D3, project_key="p1")
    write_partition(lake, "mida_events", [{"project_key": "p1", "date": D3, "event_id": "7", "event_text": "signup",
                                           "is_late_capture": False, "captured_at": on_time(D3), "raw": "{}"}], day=D3, project_key="p1")
    store = {"total_visitors": 1000, "total_sessions": 1500, "product_views": 700, "add_to_cart": 200,
             "checkout_started": 100, "successful_orders": 50, "abandoned_carts": 150, "revenue": 3000.0}
    write_partition(lake, "bss_analytics_daily", [{"date": D1, **store, "captured_at": on_time(D1), "raw": "{}"}], day=D1)
    empty_day = {k: 0 for k in store}
    write_partition(lake, "bss_analytics_daily", [{"date": D2, **empty_day, "captured_at": on_time(D2), "raw": "{}"}], day=D2)
    monday = D1 - timedelta(days=D1.weekday())
    write_partition(lake, "bss_analytics_weekly", [{"date": monday, **store, "captured_at": LATE, "raw": "{}"}], day=monday)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("marts")
    published = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIDA_LAKE_DIR", str(root / "lake"))
        mp.setenv("MIDA_DUCKDB_PATH", str(published))
        mp.setenv("MIDA_REPORT_DIR", str(root / "report"))
        build_models()
        with duckdb.connect(str(published), read_only=True) as con:
            empty = {m: con.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS}
            empty_types = dict(con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'fct_experiment_scorecard'"
            ).fetchall())
        write_lake(root / "lake")
        build_models()
    con = duckdb.connect(str(published), read_only=True)
    yield {"con": con, "empty": empty, "empty_types": empty_types}
    con.close()


def card(con, test_id: int, variant_id: str) -> dict:
    cur = con.execute("SELECT * FROM marts.fct_experiment_scorecard WHERE test_id = ? AND variant_id = ?", [test_id, variant_id])
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def test_a_first_build_on_an_empty_lake_gives_every_mart_empty_with_typed_columns(built):
    assert built["empty"] == {m: 0 for m in MARTS}
    assert built["empty_types"]["p_value"] == "DOUBLE" and built["empty_types"]["is_significant"] == "BOOLEAN"


def test_every_mart_is_filled(built):
    for mart in MARTS:
        assert built["con"].execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] > 0, mart


def test_started_and_ended_days_come_from_on_time_snapshots_only(built):
    rows = built["con"].execute(
        "SELECT test_id, status, first_seen_on, last_seen_on, started_on, ended_on, has_late_captures, test_name "
        "FROM marts.dim_experiments ORDER BY test_id"
    ).fetchall()
    assert rows == [
        (1, "inactive", D1, D4, D1, D3, True, "test 1"),
        # Only late captures: today's status says nothing about when it started.
        (2, "live", D1, D3, None, None, True, "test 2"),
    ]


def test_staging_keeps_the_latest_capture_of_a_key(built):
    names = built["con"].execute(
        "SELECT test_name FROM staging.stg_mida_experiments WHERE test_id = 1 AND snapshot_date = ?", [D2]
    ).fetchall()
    assert names == [("test 1",)]


def test_scorecard_matches_scipy_for_a_plain_two_variant_test(built):
    row = card(built["con"], 1, "1")
    assert row["as_of_date"].date() == D3 and (row["visitors"], row["conversions"]) == (1000, 130)
    # The pooled two-proportion z-test is the uncorrected chi-square test of the 2x2 table.
    expected_p = stats.chi2_contingency([[100, 900], [130, 870]], correction=False).pvalue
    assert row["p_value"] == pytest.approx(expected_p, abs=1e-6)
    se = (0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000) ** 0.5
    z = stats.norm.ppf(0.975)
    assert row["ci_low"] == pytest.approx(0.03 - z * se, abs=1e-6) and row["ci_high"] == pytest.approx(0.03 + z * se, abs=1e-6)
    control, variant = stats.beta(101, 901), stats.beta(131, 871)
    chance, _ = integrate.quad(lambda x: variant.pdf(x) * control.cdf(x), 0, 1, points=[0.1, 0.13], limit=200)
    assert row["chance_to_beat_control"] == pytest.approx(chance, abs=1e-6)
    assert row["srm_p_value"] == pytest.approx(stats.chisquare([1000, 1000]).pvalue, abs=1e-9) and not row["srm_flag"]
    assert row["abs_lift"] == pytest.approx(0.03) and row["rel_lift"] == pytest.approx(0.3)
    assert row["is_significant"] == (expected_p < 0.05)
    # Without revenue, revenue per visitor is unknown, not zero.
    assert row["revenue_per_visitor"] is None and row["rpv_lift"] is None


def test_significance_is_judged_at_the_experiments_own_threshold(built):
    row = card(built["con"], 5, "1")
    assert 0.05 < row["p_value"] < 0.10
    assert row["is_significant"] is True and row["verdict"] == "winner"


def test_undefined_statistics_are_null(built):
    nobody = card(built["con"], 2, "1")
    assert nobody["p_value"] is None and nobody["srm_p_value"] is None  # zero standard error; MAB has no weights
    assert nobody["conversion_rate"] == 0 and 0 <= nobody["chance_to_beat_control"] <= 1
    lone = card(built["con"], 3, "0")
    assert lone["is_control"] and lone["verdict"] == "control"
    assert (lone["p_value"], lone["ci_low"], lone["chance_to_beat_control"], lone["srm_p_value"]) == (None, None, None, None)
    empty = card(built["con"], 4, "1")
    assert (empty["conversion_rate"], empty["p_value"], empty["ci_low"], empty["revenue_per_visitor"]) == (None, None, None, None)
    assert card(built["con"], 4, "0")["revenue_per_visitor"] == pytest.approx(2.0)


def test_a_sample_ratio_mismatch_is_flagged(built):
    row = card(built["con"], 6, "1")
    assert row["srm_p_value"] == pytest.approx(stats.chisquare([1000, 1200]).pvalue, rel=1e-6)
    assert row["srm_flag"] and row["verdict"] == "srm_warning"


def test_daily_variants_come_from_the_day_window_as_fractions(built):
    rows = built["con"].execute(
        "SELECT variant_id, visitors, conversions, conversion_rate FROM marts.fct_experiment_variant_daily ORDER BY 1"
    ).fetchall()
    assert rows == [("0", 40, 4, 0.1), ("1", 0, 0, None)]


def test_store_rates_and_a_zero_denominator(built):
    rows = built["con"].execute(
        "SELECT period_date, orders_per_session, cart_abandonment_rate, add_to_cart_rate, checkout_rate, order_rate "
        "FROM marts.fct_store_traffic_daily ORDER BY period_date"
    ).fetchall()
    assert rows == [(D1, 50 / 1500, 150 / 200, 200 / 700, 100 / 200, 50 / 100), (D2, None, None, None, None, None)]
    assert built["con"].execute("SELECT period_date, cart_abandonment_rate FROM marts.fct_store_traffic_weekly").fetchall() == [
        (D1 - timedelta(days=D1.weekday()), 0.75)
    ]
