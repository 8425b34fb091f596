{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['project_key', 'event_id']) }}
-- Each custom event as its latest snapshot describes it (macros/latest_snapshot.sql).
{{ latest_per_key(ref('stg_mida_events'), ['project_key', 'event_id']) }}
