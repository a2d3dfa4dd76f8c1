{# One row per row of every task's input (var bedrock_ext_tasks: <name>: input), nothing
   dropped: its identity, id, text, the rendered user message, and a skip reason when it cannot be
   requested (null or empty id, an id with a control character, a value that is not text, a
   duplicate id, blank text). Every other row proceeds. See the macro bedrock_ext.task_input_rows. #}
{%- for name in bedrock_ext.tasks() | sort %}
select
    {{ bedrock_ext.sql_string(name) }} as task_name,
    *,
    skip_reason is null as is_requestable
from (
    {{ bedrock_ext.task_input_rows(name) }}
)
{{ "union all" if not loop.last }}
{%- endfor %}
