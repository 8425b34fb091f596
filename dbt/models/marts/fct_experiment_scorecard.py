"""Every experiment's variants against control on each of its goals, as of the experiment's latest synced day,
with the statistics Mida's result API does not give. The math lives in mida_pipeline.stats (tested against
gbstats, statsmodels and SciPy)."""

LATEST = """
    select * from results
    where result_window = 'cumulative'
    qualify result_date = max(result_date) over (partition by project_key, test_id)
"""
# The day-window rows of the last 7 days before each experiment's latest day: its arrival rate per variant.
RECENT_DAYS = """
    select * from results
    where result_window = 'day'
    qualify result_date > max(result_date) over (partition by project_key, test_id) - interval 7 day
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from mida_pipeline.stats.scorecard import scorecard

    # A setting read on a line of its own: dbt passes a Python model only the config keys its parser sees, and it
    # does not look inside `or` or a generator.
    tuning = dbt.config.get("sequential_tuning", 5000)
    results = dbt.ref("stg_mida_experiment_results")
    configuration = dbt.ref("stg_mida_project_configuration").df()
    return scorecard(
        results.query("results", LATEST).df(),
        configuration,
        results.query("results", RECENT_DAYS).df(),
        sequential_tuning=float(tuning),
    )
