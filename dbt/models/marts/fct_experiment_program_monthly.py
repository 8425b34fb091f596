"""The experimentation program per project and month: experiments started and ended, how the ended ones were
decided (the safe verdict on the primary goal at their last live day), the win rate, how long they ran, and the
winners' summed relative lift with its interval (mida_pipeline.stats.program says what the sum means)."""

EXPERIMENTS = """
    select
        project_key,
        test_id,
        coalesce(created_at::date, started_on, first_seen_on) as started,  -- Mida dates an experiment by its creation
        case when status = 'inactive' then coalesce(ended_on, updated_at::date) end as ended
    from experiments
    where status <> 'draft'
"""

LAST_DAYS = """
    select h.*
    from history as h
    inner join program as e using (project_key, test_id)
    where h.is_primary_goal and (e.ended is null or h.as_of_date::date <= e.ended)
    qualify h.as_of_date = max(h.as_of_date) over (partition by h.project_key, h.test_id)
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from mida_pipeline.stats.program import program_monthly

    program = dbt.ref("dim_experiments").query("experiments", EXPERIMENTS)
    history = dbt.ref("fct_experiment_scorecard_daily")
    last_days = session.sql(
        f"with history as ({history.sql_query()}), program as ({program.sql_query()}) {LAST_DAYS}"
    ).df()
    return program_monthly(program.df(), last_days)
