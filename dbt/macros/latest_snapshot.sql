{#
  The dimensions keep the latest snapshot of each thing the lake has seen (`last_seen_on`: the day of that snapshot).
  On a run with a window (run_window.sql) a dimension reads only those days' snapshots, and weighs them
  against the rows it already holds for the same keys: a later snapshot replaces a row, an earlier one (a backfill
  of a past day) leaves it, and a snapshot of the same day replaces it (a re-capture). The dimension is then equal
  to a full rebuild, which reads every snapshot (as a run without a window does).

  latest_per_key: one row per `key` (a goal, an event).
  latest_per_group: every row of the latest snapshot of each `group` (an experiment's goals: a goal dropped from
  the experiment goes with the snapshot that no longer lists it).
#}
{% macro _snapshot_candidates(staging, keys, drop) -%}
    synced as (
        select * exclude ({{ drop | join(', ') }}), snapshot_date as last_seen_on, captured_at as _captured_at, 0 as _rank
        from {{ staging }}
        where {{ in_run_window('snapshot_date') }}
    ),

    candidates as (
        select * from synced
        {%- if is_incremental() %}
        union all by name
        select held.*, null::timestamptz as _captured_at, 1 as _rank
        from {{ this }} as held
        where exists (
            select 1 from synced
            where {% for k in keys %}synced.{{ k }} = held.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
        {%- endif %}
    )
{%- endmacro %}


{% macro latest_per_key(staging, keys, drop=['snapshot_date', 'captured_at']) -%}
with {{ _snapshot_candidates(staging, keys, drop) }}

select * exclude (_captured_at, _rank)
from candidates
qualify row_number() over (partition by {{ keys | join(', ') }} order by last_seen_on desc, _rank, _captured_at desc) = 1
{%- endmacro %}


{% macro latest_per_group(staging, group, drop=['snapshot_date', 'captured_at']) -%}
with {{ _snapshot_candidates(staging, group, drop) }},

latest_day as (
    select * from candidates
    qualify last_seen_on = max(last_seen_on) over (partition by {{ group | join(', ') }})
)

select * exclude (_captured_at, _rank)
from latest_day
qualify _rank = min(_rank) over (partition by {{ group | join(', ') }})
{%- endmacro %}
