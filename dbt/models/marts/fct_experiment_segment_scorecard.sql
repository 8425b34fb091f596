{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'test_id']) }}
-- Each experiment's segment scorecard as of its latest synced day: that day's rows of the segment scorecard's history
-- (fct_experiment_segment_scorecard_daily), so this mart reads a table, not every day's segments in the lake.
-- A run with a window (macros/run_window.sql) reads the history from its first day on and replaces the experiments
-- found there (a backfill of a past day finds each experiment's later days there too, and leaves it as it was);
-- the others keep their rows. Without one it reads every day.
{%- set window = run_window() %}
select *
from {{ ref('fct_experiment_segment_scorecard_daily') }}
{%- if is_incremental() and window is not none %}
    where as_of_date >= date '{{ window[0] }}'
{%- endif %}
qualify as_of_date = max(as_of_date) over (partition by project_key, test_id)
