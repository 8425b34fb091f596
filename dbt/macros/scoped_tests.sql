{#
  The relation a data test reads. dbt's own macro applies the test's `where` config; this one also keeps a test to
  the run's window (run_window.sql) when the relation has an `event_time`: a raw table's (its `date=` folders, so
  only those days' files are opened), a staging view's or a mart's that grows by the day, widened back by its meta
  `window_lead_days` (a week's Monday before its Sunday). The rest of the history was tested when it was written.
  A run without a window (the raw_audit job, a full rebuild, a plain `dbt test`) tests everything.
#}
{% macro get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window = run_window() if execute else none -%}  {#- the graph is whole only when tests run -#}
    {%- if window is not none -%}
        {%- set scope = event_time_of(relation) -%}
        {%- if scope is not none -%}
            {%- set first = window[0] - modules.datetime.timedelta(days=scope[1]) -%}
            {%- do clauses.append(scope[0] ~ " between date '" ~ first ~ "' and date '" ~ window[1] ~ "'") -%}
        {%- endif -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{# (event_time column, window_lead_days) of the model or source behind a relation; none when it has no event time. #}
{% macro event_time_of(relation) -%}
    {%- for node in graph.nodes.values() | list + graph.sources.values() | list -%}
        {%- if node.resource_type in ('model', 'source') and node.schema == relation.schema
              and (node.alias or node.identifier or node.name) == relation.identifier and node.config.event_time -%}
            {%- do return((node.config.event_time, node.config.meta.get('window_lead_days', 0))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
