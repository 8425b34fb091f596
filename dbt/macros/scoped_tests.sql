{#
  The relation a data test reads. dbt's own macro applies the test's `where` config; this one also keeps a test of a
  raw table (schema raw) to the days the run synced when the dbt asset or the raw checks name them (vars sync_start
  and sync_end, see synced_days.sql): a daily run checks the day it wrote, and its filter on `date` reaches the lake's
  `date=` folders, so no other day's files are opened. Without the vars (the raw_audit job, a plain `dbt test`) a
  test reads the whole lake.
#}
{% macro get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set days = synced_days() -%}
    {%- if days is not none and relation.schema == 'raw' -%}
        {%- do clauses.append("date between date '" ~ days[0] ~ "' and date '" ~ days[1] ~ "'") -%}
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
