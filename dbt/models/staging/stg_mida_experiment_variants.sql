{{ config(event_time='snapshot_date') }}
with latest as (
    {{ latest_capture(source('raw', 'mida_experiment_variants'), ['project_key', 'date', 'test_id', 'variant_id']) }}
)
select
    project_key,
    date as snapshot_date,
    test_id,
    variant_id,
    coalesce(nickname, name) as variant_name,
    name as variant_label,
    is_control,
    captured_at
from latest
