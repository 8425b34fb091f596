"""Each experiment's variants against control within each segment (device, country, ...) of its primary goal,
as of its latest synced day. Exploratory: segments are looks chosen after the fact, not decisions.

Incremental by experiment: a run with a window (dbt/macros/run_window.sql) reads only its days' segments, and
rescores the experiments whose latest day among them is at least the day the mart holds for them (a backfill of a
past day leaves an experiment scored on a later day alone). Without one it rescores every experiment.
"""

LATEST = """
    select * from segments
    qualify result_date = max(result_date) over (partition by project_key, test_id)
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="delete+insert", unique_key=["project_key", "test_id"])
    from mida_pipeline.days import run_window
    from mida_pipeline.stats.segments import segment_scorecard

    segments = dbt.ref("stg_mida_experiment_result_segments")
    configuration = dbt.ref("stg_mida_project_configuration").df()
    window = run_window()
    if not (dbt.is_incremental and window):
        # Every day's segments. Over an existing table, delete+insert by experiment rewrites each one scored here.
        return segment_scorecard(segments.query("segments", LATEST).df(), configuration)
    first, last = window
    latest = session.sql(f"""
        with segments as (
            select * from ({segments.sql_query()})
            where result_date between DATE '{first}' and DATE '{last}'
        ),
        latest as ({LATEST}),
        held as (select project_key, test_id, max(as_of_date)::date as as_of from {dbt.this} group by all)
        select latest.* from latest left join held using (project_key, test_id)
        where held.as_of is null or latest.result_date >= held.as_of
    """).df()
    return segment_scorecard(latest, configuration)
