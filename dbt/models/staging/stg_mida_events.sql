{{ config(event_time='snapshot_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_events'), ['project_key', 'date', 'event_id']) }}
)
select
    project_key,
    date as snapshot_date,
    event_id,
    event_text,
    event_property,
    event_type,
    url,
    event_path,
    status,
    created_at,
    is_late_capture,
    captured_at
from latest
