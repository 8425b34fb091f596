"""Each experiment's variants against control within each segment of its primary goal, as of each synced day: the
history of the segment scorecard, which is its latest day (fct_experiment_segment_scorecard).

Incremental: a run scores only the days of its window (dbt/macros/run_window.sql) and replaces those days; every
other day is kept. Without a window it scores every day.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="as_of_date",
        event_time="as_of_date",
    )
    from mida_pipeline.days import run_window
    from mida_pipeline.stats.segments import segment_scorecard_daily

    segments = dbt.ref("stg_mida_experiment_result_segments")
    configuration = dbt.ref("stg_mida_project_configuration").df()
    window = run_window()
    if not (dbt.is_incremental and window):
        return segment_scorecard_daily(segments.df(), configuration)
    first, last = window
    days = segments.query(
        "segments", f"select * from segments where result_date between DATE '{first}' and DATE '{last}'"
    )
    return segment_scorecard_daily(days.df(), configuration)
