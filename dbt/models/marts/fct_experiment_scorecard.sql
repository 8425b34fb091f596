{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'test_id']) }}
-- Each experiment's scorecard as of its latest synced day: that day's rows of the scorecard's history, which
-- scores every day with the same statistics (mida_pipeline.stats) and grows by the day. Reading the history, a
-- table, instead of every day's results in the lake keeps this mart's cost flat as the history grows.
-- A run with a window (macros/run_window.sql) reads the history from its first day on (the days it rescored all
-- lie there) and replaces the experiments found there; the others keep their rows. Without one it reads every day.
{%- set window = run_window() %}
select * exclude (source_captured_at)
from {{ ref('fct_experiment_scorecard_daily') }}
{%- if is_incremental() and window is not none %}
    where as_of_date >= date '{{ window[0] }}'
{%- endif %}
qualify as_of_date = max(as_of_date) over (partition by project_key, test_id)
