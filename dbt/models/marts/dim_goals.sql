{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'goal_profile_id']) }}
-- Each goal as its latest snapshot describes it (macros/latest_snapshot.sql).
{{ latest_per_key(ref('stg_mida_goals'), ['project_key', 'goal_profile_id']) }}
