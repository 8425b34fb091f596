"""Each experiment's variants against control within each segment (device, country, ...) of its primary goal,
as of its latest synced day. Exploratory: segments are looks chosen after the fact, not decisions."""

LATEST = """
    select * from segments
    qualify result_date = max(result_date) over (partition by project_key, test_id)
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from mida_pipeline.stats.segments import segment_scorecard

    segments = dbt.ref("stg_mida_experiment_result_segments")
    return segment_scorecard(segments.query("segments", LATEST).df(), dbt.ref("stg_mida_project_configuration").df())
