-- Each experiment's scorecard as of its latest synced day: that day's rows of the scorecard's history, which
-- scores every day with the same statistics (mida_pipeline.stats) and grows by the day. Reading the history, a
-- table, instead of every day's results in the lake keeps this mart's cost flat as the history grows.
select * exclude (source_captured_at)
from {{ ref('fct_experiment_scorecard_daily') }}
qualify as_of_date = max(as_of_date) over (partition by project_key, test_id)
