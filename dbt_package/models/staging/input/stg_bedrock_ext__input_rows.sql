{# One row per row of every task's input (var bedrock_ext_tasks: <name>: input), nothing
   dropped: its identity, id, text, the rendered user message, and a skip reason when it cannot be
   requested (null or empty id, an id with a control character, a value that is not text, a
   duplicate id, blank text). Every other row proceeds. See the macro bedrock_ext.task_input_rows.
   An evaluation candidate (task_name <task>:<candidate>) has the rows of its task's sample, with
   their labels and the task's own user message for the row (reference_input_text; macro
   bedrock_ext.evaluation_sample). #}
{%- for name in bedrock_ext.request_tasks() | sort %}
{%- set task, candidate = bedrock_ext.split_task_name(name) %}
select
    {{ bedrock_ext.sql_string(name) }} as task_name,
    *,
    skip_reason is null as is_requestable,
    {{ bedrock_ext.sql_string(task) }} as base_task_name,
    {{ bedrock_ext.sql_string(candidate) if candidate else 'null::varchar' }} as candidate_name
from (
    {%- if candidate %}
    {{ bedrock_ext.evaluation_sample(task, name) }}
    {%- else %}
    select *, null::json as sample_labels, null::varchar as reference_input_text
    from ({{ bedrock_ext.task_input_rows(name) }})
    {%- endif %}
)
{{ "union all" if not loop.last }}
{%- endfor %}
