{# A task's typed result model (bedrock_ext.task_results) against the task's answer_schema: every
   answered row has its required fields, enum values from the enum, numbers within their range and
   strings within their length limit. Returns the rows that break it. `answered` is the condition
   that marks answered rows (a model that renames status says how). #}
{% test answers_match_schema(model, task, answered="status = 'answered'") %}
{%- set schema = bedrock_ext.task_setting(task, 'answer_schema') -%}
select *
from {{ model }}
where ({{ answered }}) and (false
{%- for key in schema.get('required', []) %}
    or {{ adapter.quote(key) }} is null
{%- endfor %}
{%- for key, prop in schema['properties'].items() %}
    {%- if 'enum' in prop %}
    or {{ adapter.quote(key) }}::varchar not in {{ bedrock_ext.sql_list(prop['enum'] | map('string') | list) }}
    {%- endif %}
    {%- if 'maxLength' in prop %}
    or length({{ adapter.quote(key) }}) > {{ prop['maxLength'] | int }}
    {%- endif %}
    {%- if 'minimum' in prop %}
    or {{ adapter.quote(key) }} < {{ prop['minimum'] }}
    {%- endif %}
    {%- if 'maximum' in prop %}
    or {{ adapter.quote(key) }} > {{ prop['maximum'] }}
    {%- endif %}
{%- endfor %}
)
{% endtest %}
