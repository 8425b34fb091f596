{# The few generic tests the project needs, written here because dbt hub packages are out of reach. #}

{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test between(model, column_name, min_value, max_value) %}
    select * from {{ model }}
    where {{ column_name }} is not null
      and ({{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }})
{% endtest %}

{% test not_above(model, column_name, ceiling) %}
    select * from {{ model }} where {{ column_name }} > {{ ceiling }}
{% endtest %}

{% test non_negative(model, column_name) %}
    select * from {{ model }} where {{ column_name }} < 0
{% endtest %}

{# Rows where any of the columns is below zero (nulls are unknown, not negative). #}
{% test none_negative(model, columns) %}
    select * from {{ model }}
    where {% for column in columns %}{{ column }} < 0{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}

{# Rows where the column is not after the other (both set): an end before its start. #}
{% test after(model, column_name, other) %}
    select * from {{ model }}
    where {{ column_name }} is not null and {{ other }} is not null and {{ column_name }} <= {{ other }}
{% endtest %}
