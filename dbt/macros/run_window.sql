{#
  The days a run covers: dbt's own `--event-time-start` (inclusive) and `--event-time-end` (exclusive), the flags
  dbt gives a run's window to microbatch models. dbt checks them (both or neither, a date or a time, start before
  end). The dbt asset passes the days the raw runs since the last build covered; a person passes them the same way:

      dbt build --event-time-start 2026-03-02 --event-time-end 2026-03-05   # rebuilds 2 to 4 March

  A model that grows by the day says so with `event_time` (its day column, which is also its `unique_key`) and
  replaces the window's days (delete+insert). Without the flags it stays incremental and brings every day up to
  date with the lake (the scorecard's history only the days captured since its last run), so a plain `dbt build`
  is always right, and the window is what makes it cheap. `--full-refresh` drops and rebuilds. The Python models
  read the same window through mida_pipeline.days.run_window.
#}

{# (first day, last day) of the run's window; none when the run names none or rebuilds everything. #}
{% macro run_window() -%}
    {%- set start, end = invocation_args_dict.get('event_time_start'), invocation_args_dict.get('event_time_end') -%}
    {%- if start is none or end is none or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parse = modules.datetime.datetime.fromisoformat -%}
    {%- set last = parse(end | string) - modules.datetime.timedelta(microseconds=1) -%}
    {{ return((parse(start | string).date(), last.date())) }}
{%- endmacro %}


{#
  The predicate that keeps the rows of `column` (an input's day) that this run replaces: the window, widened back by
  `lead_days` (a weekly row is keyed by its Monday and synced with its Sunday); `true` (every day) without one, or
  when the model is built whole.
#}
{% macro in_run_window(column, lead_days=0) -%}
    {%- set window = run_window() -%}
    {%- if is_incremental() and window is not none -%}
        {{ column }} between date '{{ window[0] - modules.datetime.timedelta(days=lead_days) }}' and date '{{ window[1] }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
