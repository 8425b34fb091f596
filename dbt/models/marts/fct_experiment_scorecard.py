"""Every experiment's variants against control, as of the latest synced day, with the statistics
Mida's result API does not give. The math lives in mida_pipeline.stats (tested against SciPy)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from mida_pipeline.stats.scorecard import scorecard

    results = dbt.ref("stg_mida_experiment_results").df()
    cumulative = results[(results["result_window"] == "cumulative") & results["is_primary_goal"].fillna(True).astype(bool)]
    return scorecard(cumulative)
