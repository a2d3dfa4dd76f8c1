{# Passes when no two rows share the same values in all of `columns` (like dbt_utils'
   unique_combination_of_columns, without a package download), and, with `not_null`, when none
   of those columns is null in any row: dbt's not_null for several columns in the same scan (over
   a view of a large input, one scan instead of one per test). #}
{% test unique_combination(model, columns, not_null=[]) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- if not_null %}
    or count(*) filter (where {% for column in not_null %}{{ adapter.quote(column) }} is null{{ " or " if not loop.last }}{% endfor %}) > 0
{%- endif %}
{% endtest %}
