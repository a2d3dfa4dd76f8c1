{# The input rows that need an answer under the current request settings of their task. The
   request key is the same hash bedrock_ext.records.request_key computes: the id, the user message
   (the task's template over the row), and the fingerprint of everything else that shapes the
   request (the task's name, the system prompt with the answer schema, model, inference parameters,
   body shape), so editing the prompt or any setting requests the rows again and an unchanged build
   requests nothing. Ids never contain the U+001F separator (stg_bedrock_ext__input_rows skips
   them), so two rows cannot share a key unless they have the same id, message and task. #}
with

inputs as (

    select * from {{ ref('stg_bedrock_ext__input_rows') }}
    where is_requestable

),

settings as (

    {%- for name, spec in bedrock_ext.tasks() | dictsort %}
    select
        {{ bedrock_ext.sql_string(name) }} as task_name,
        {{ bedrock_ext.sql_string(spec.get('prompt_version') or 'v1') }} as prompt_version,
        {{ bedrock_ext.sql_string(bedrock_ext.task_model_id(name)) }} as model_id,
        bedrock_ext_request_fingerprint(
            {{ bedrock_ext.sql_string(name) }}, {{ bedrock_ext.sql_string(tojson(spec)) }},
            {{ bedrock_ext.request_defaults_json() }},
            {# the schema also goes in Converse's outputConfig where the model's catalog row says so #}
            (select native_structured_output from {{ ref('dim_bedrock_models') }}
             where model_id = {{ bedrock_ext.base_model_id(bedrock_ext.sql_string(bedrock_ext.task_model_id(name))) }})
        ) as request_fingerprint
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

requestable as (

    select
        inputs.task_name,
        inputs.input_row_id,
        inputs.input_id,
        inputs.input_text,
        settings.prompt_version,
        settings.model_id,
        settings.request_fingerprint
    from inputs
    inner join settings on inputs.task_name = settings.task_name

),

keyed as (

    select
        sha256(concat_ws(chr(31), input_id, input_text, request_fingerprint)) as request_key,
        *
    from requestable

)

select * from keyed
