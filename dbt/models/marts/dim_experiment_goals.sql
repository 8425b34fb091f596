{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'test_id']) }}
-- Every goal each experiment measures, as its latest snapshot lists them: the primary goal and its secondary goals
-- (macros/latest_snapshot.sql).
{{ latest_per_group(ref('stg_mida_experiment_goals'), ['project_key', 'test_id'],
                    drop=['snapshot_date', 'captured_at', 'is_late_capture']) }}
