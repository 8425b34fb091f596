{#
  The days a run synced, for the marts that grow by the day (materialized incremental, delete+insert by day).

  The dbt asset passes them as `--vars '{sync_start: YYYY-MM-DD, sync_end: YYYY-MM-DD}'`. With both vars a
  model reads only those days, and its filter on the day reaches the lake's `date=` folders: the staging views
  partition their latest-capture window by the day, so DuckDB pushes the filter below the window into the
  Parquet scan and opens no other day's files. Without the vars (a plain `dbt build`) the model is rebuilt
  whole from every day; `--full-refresh` rebuilds it whole too, and only when asked.
#}

{% macro synced_days() -%}
    {%- set start, end = var('sync_start', none), var('sync_end', none) -%}
    {%- if start is none and end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error("dbt vars: sync_start and sync_end go together; give both days (YYYY-MM-DD), or neither for a full rebuild") }}
    {%- endif -%}
    {%- set parsed = [] -%}
    {%- for name, value in [('sync_start', start), ('sync_end', end)] -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
            {{ exceptions.raise_compiler_error("dbt var " ~ name ~ " is " ~ (value | string)[:40] ~ "; give a day as YYYY-MM-DD") }}
        {%- endif -%}
        {%- do parsed.append(modules.datetime.date.fromisoformat(value | string)) -%}
    {%- endfor -%}
    {%- if parsed[0] > parsed[1] -%}
        {{ exceptions.raise_compiler_error("dbt vars: sync_start " ~ parsed[0] ~ " is after sync_end " ~ parsed[1] ~ "; give the earlier day first") }}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}


{# A full rebuild unless the run names its days; `--full-refresh` still forces one when they are named. #}
{% macro rebuild_unless_synced_days() -%}
    {{ return(true if synced_days() is none else none) }}
{%- endmacro %}


{#
  The predicate that keeps the run's days of `column`, widened back by `lead_days` (a weekly partition is
  keyed by its Monday but synced with its Sunday); `true` on a full rebuild.
#}
{% macro in_synced_days(column, lead_days=0) -%}
    {%- set days = synced_days() -%}
    {%- if days is none or not is_incremental() -%}
        true
    {%- else -%}
        {{ column }} between date '{{ days[0] - modules.datetime.timedelta(days=lead_days) }}' and date '{{ days[1] }}'
    {%- endif -%}
{%- endmacro %}
