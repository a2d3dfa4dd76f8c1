{# The model has exactly as many rows as compare_to: here, every transcript row has its summary row. #}
{% test row_count_matches(model, compare_to) %}
select model_rows, compare_rows
from (select count(*) as model_rows from {{ model }}) m
cross join (select count(*) as compare_rows from {{ compare_to }}) c
where model_rows <> compare_rows
{% endtest %}
