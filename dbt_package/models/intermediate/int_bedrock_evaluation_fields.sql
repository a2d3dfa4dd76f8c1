{# One row per task x candidate x sample row x answer field of every evaluated task: the
   candidate's value, the reference's value for the same row (when the reference answered) and the
   row's label (when evaluation.labels names a column for the field), as text; field_kind says
   how the field is scored (macro bedrock_ext.field_kind). #}
{%- set evaluated = bedrock_ext.evaluated_tasks() %}

with

evaluation_rows as (

    select * from {{ ref('fct_bedrock_evaluation_rows') }}

),

paired as (

    select
        candidate.task_name,
        candidate.candidate_name,
        candidate.input_row_id,
        candidate.status,
        case when candidate.status = 'answered' then candidate.answer end as answer,
        reference.answer as reference_answer,
        candidate.labels
    from evaluation_rows as candidate
    left join evaluation_rows as reference
        on reference.task_name = candidate.task_name
        and reference.input_row_id = candidate.input_row_id
        and reference.candidate_name = {{ bedrock_ext.sql_string(bedrock_ext.reference_name()) }}
        and reference.status = 'answered'

),

fields as (

    {%- for task, evaluation in evaluated | dictsort %}
    {%- set labels = evaluation.get('labels') or {} %}
    {%- for field, prop in bedrock_ext.task_setting(task, 'answer_schema')['properties'] | dictsort %}
    select
        task_name,
        candidate_name,
        input_row_id,
        status,
        {{ bedrock_ext.sql_string(field) }} as field_name,
        {{ bedrock_ext.sql_string(bedrock_ext.field_kind(prop)) }} as field_kind,
        answer ->> {{ bedrock_ext.sql_string('$.' ~ field) }} as answer_value,
        reference_answer ->> {{ bedrock_ext.sql_string('$.' ~ field) }} as reference_value,
        {%- if field in labels %}
        labels ->> {{ bedrock_ext.sql_string('$.' ~ field) }} as label_value
        {%- else %}
        null::varchar as label_value
        {%- endif %}
    from paired
    where task_name = {{ bedrock_ext.sql_string(task) }}
    union all
    {%- endfor %}
    {%- endfor %}
    {#- The columns, and no rows when no task is evaluated. #}
    select
        null::varchar as task_name, null::varchar as candidate_name, null::varchar as input_row_id,
        null::varchar as status, null::varchar as field_name, null::varchar as field_kind,
        null::varchar as answer_value, null::varchar as reference_value, null::varchar as label_value
    where false

)

select * from fields
