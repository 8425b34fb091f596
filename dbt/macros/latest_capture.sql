{# Keep the most recent capture of each key: re-runs and late captures never double a row. #}
{% macro latest_capture(relation, key_columns) -%}
    select * from {{ relation }}
    qualify row_number() over (partition by {{ key_columns | join(', ') }} order by captured_at desc) = 1
{%- endmacro %}
