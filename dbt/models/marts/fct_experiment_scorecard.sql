{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'test_id'],
          full_refresh=rebuild_unless_synced_days()) }}
-- Each experiment's scorecard as of its latest synced day: that day's rows of the scorecard's history, which
-- scores every day with the same statistics (mida_pipeline.stats) and grows by the day. Reading the history, a
-- table, instead of every day's results in the lake keeps this mart's cost flat as the history grows.
-- A run that names its days reads the history from its first day on (the days it rescored all lie there) and
-- replaces the experiments found there; the others keep their rows. Without named days it is rebuilt whole.
{%- set days = synced_days() %}
select * exclude (source_captured_at)
from {{ ref('fct_experiment_scorecard_daily') }}
{%- if is_incremental() %}
    where as_of_date >= date '{{ days[0] }}'
{%- endif %}
qualify as_of_date = max(as_of_date) over (partition by project_key, test_id)
