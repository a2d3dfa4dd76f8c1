{# Passes when no two rows share the same values in all of `columns` (like dbt_utils'
   unique_combination_of_columns, without a package download). #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
