"""The whole scorecard as of each synced day, cumulative to that day: the history of every figure.

Incremental: a run scores only the days of its window (dbt/macros/run_window.sql: the days its raw runs synced), or
without one the days whose results or configuration were captured since the last run (a daily sync adds its day; a
backfill re-captures the days it covers), plus the six days after each, whose arrival rate (days_remaining) reads
it. Those days' rows are deleted and written again whole; every other day is kept.
"""


def _quoted(days) -> str:
    return ", ".join(f"DATE '{d:%Y-%m-%d}'" for d in days)


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="as_of_date",
        event_time="as_of_date",
    )
    import pandas as pd

    from mida_pipeline.days import run_window
    from mida_pipeline.stats import DEFAULT_TUNING
    from mida_pipeline.stats.scorecard import empty, scorecard_daily

    # Settings read on lines of their own: dbt passes a Python model only the config keys its parser sees, and it
    # does not look inside `or` or a generator.
    tuning = dbt.config.get("sequential_tuning")
    tuning = DEFAULT_TUNING if str(tuning or "") in ("", "None") else float(tuning)
    results = dbt.ref("stg_mida_experiment_results")
    timeseries = dbt.ref("stg_mida_experiment_timeseries")
    configuration = dbt.ref("stg_mida_project_configuration")

    seen = dbt.is_incremental and session.sql(f"select max(source_captured_at) from {dbt.this}").fetchall()[0][0]
    window = run_window()
    named = window and f"between DATE '{window[0]}' and DATE '{window[1]}'"
    if not seen:
        changed = results.query("r", "select distinct result_date as day from r")
    elif named:
        # The run has a window: its days are the changed ones, and only their files are read.
        changed = session.sql(
            f"select distinct result_date as day from ({results.sql_query()}) where result_date {named} "
            f"union select distinct config_date from ({configuration.sql_query()}) where config_date {named}"
        )
    else:
        since = f"(select max(source_captured_at) from {dbt.this})"
        changed = session.sql(
            f"select distinct result_date as day from ({results.sql_query()}) where captured_at > {since} "
            f"union select distinct config_date from ({configuration.sql_query()}) where captured_at > {since}"
        )
    changed_days = [row[0] for row in changed.fetchall() if row[0] is not None]
    if not changed_days:
        return empty().assign(source_captured_at=pd.Series(dtype="datetime64[us, UTC]"))
    # Each filter also bounds the day by constants: DuckDB prunes the lake's date= folders on those, not on a join.
    days = [
        row[0]
        for row in results.query(
            "r",
            f"""
        select distinct result_date from r, (select unnest([{_quoted(changed_days)}]) as day)
        where result_date between day and day + interval 6 day
        and result_date between DATE '{min(changed_days):%Y-%m-%d}' and DATE '{max(changed_days):%Y-%m-%d}' + interval 6 day
    """,
        ).fetchall()
    ]
    wanted = f"({_quoted(days)})"
    cumulative = results.query(
        "r",
        f"""
        select * from r where result_window = 'cumulative' and result_date in {wanted}
        and result_date between DATE '{min(days):%Y-%m-%d}' and DATE '{max(days):%Y-%m-%d}'
    """,
    ).df()
    daily = results.query(
        "r",
        f"""
        select * from r where result_window = 'day'
        and result_date between DATE '{min(days):%Y-%m-%d}' - interval 6 day and DATE '{max(days):%Y-%m-%d}'
    """,
    ).df()
    # The revenue moments summed over each goal's days up to each scored day; null from a day the API gave none.
    sums = ", ".join(f"sum({c}) over w as {c}" for c in ("visitors", "revenue", "orders"))
    moments = ", ".join(
        f"case when count({c}) over w = count(*) over w then sum({c}) over w end as {c}"
        for c in ("sum_sq_revenue", "sum_sq_orders", "sum_revenue_orders_cross")
    )
    cumulative_moments = timeseries.query(
        "t",
        f"""
        select * from (
            select project_key, test_id, goal_key, variant_id, result_date, {sums}, {moments}
            from t where result_date <= DATE '{max(days):%Y-%m-%d}'
            window w as (partition by project_key, test_id, goal_key, variant_id order by result_date
                         rows between unbounded preceding and current row)
        ) where result_date in {wanted}
    """,
    ).df()
    card = scorecard_daily(
        cumulative, configuration.df(), daily, days=days, moments=cumulative_moments, sequential_tuning=tuning
    )
    # What the row was computed from, so the next run knows which captures are new.
    captured = (
        cumulative.groupby(["project_key", "test_id", "result_date"], as_index=False)["captured_at"]
        .max()
        .rename(columns={"result_date": "as_of_date", "captured_at": "source_captured_at"})
    )
    captured["as_of_date"] = pd.to_datetime(captured["as_of_date"]).astype("datetime64[us]")
    captured["test_id"] = captured["test_id"].astype("Int64")
    captured["project_key"] = captured["project_key"].astype("string")
    card = card.merge(captured, on=["project_key", "test_id", "as_of_date"], how="left")
    card["source_captured_at"] = pd.to_datetime(card["source_captured_at"], utc=True).astype("datetime64[us, UTC]")
    return card
