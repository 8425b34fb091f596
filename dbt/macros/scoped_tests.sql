{#
  The relation a data test reads. dbt's own macro applies the test's `where` config; this one also keeps a test to
  the days the run synced when the dbt asset or the raw checks name them (vars sync_start and sync_end, see
  synced_days.sql): a test of a raw table (schema raw) reads those days' `date=` folders only, and a test of a
  staging view or of a mart that grows by the day (meta `synced_day`: its day column, `synced_lead_days`: how far
  back a synced day reaches, as a week's Monday before its Sunday) reads those days' rows. The rest of the history
  was tested when it was written. Without the vars (the raw_audit job, a full rebuild, a plain `dbt test`) a test reads everything.
#}
{% macro get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set days = synced_days() if execute else none -%}  {#- the graph is whole only when tests run -#}
    {%- if days is not none -%}
        {%- set scope = synced_scope(relation) -%}
        {%- if scope is not none -%}
            {%- set first = days[0] - modules.datetime.timedelta(days=scope[1]) -%}
            {%- do clauses.append(scope[0] ~ " between date '" ~ first ~ "' and date '" ~ days[1] ~ "'") -%}
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


{# (day column, lead days) of a relation whose tests follow the synced days; none for the others. #}
{% macro synced_scope(relation) -%}
    {%- if relation.schema == 'raw' -%}
        {#- a weekly table's partitions are keyed by the week's Monday, six days before the Sunday that syncs it -#}
        {%- do return(('date', 6 if relation.identifier.endswith('_weekly') else 0)) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.schema == relation.schema
              and (node.alias or node.name) == relation.identifier and node.config.meta.get('synced_day') -%}
            {%- do return((node.config.meta['synced_day'], node.config.meta.get('synced_lead_days', 0))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
