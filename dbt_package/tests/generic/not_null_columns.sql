{# Passes when none of `columns` is null in any row: dbt's not_null for several columns in one
   scan (over a view of a large input, one scan instead of one per column). #}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ adapter.quote(column) }} is null{{ " or " if not loop.last }}{% endfor %}
{% endtest %}
