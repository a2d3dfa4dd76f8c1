{# The input rows that need an answer under the current request settings of their task. The
   request key is the same hash bedrock_ext.request.records.request_key computes: the id, the user message
   (the task's template over the row), and the fingerprint of everything else that shapes the
   request (the task's name, the system prompt with the answer schema, model, inference parameters,
   body shape), so editing the prompt or any setting requests the rows again and an unchanged build
   requests nothing. Ids never contain the U+001F separator (stg_bedrock_ext__input_rows skips
   them), so two rows cannot share a key unless they have the same id, message and task.
   Incremental: sha256 is computed, and the row written, only for rows whose content hash (DuckDB's
   64-bit hash of the id, message and fingerprint) differs from the one stored; rows that left
   are written with a null request_key and deleted by the post-hook in the same transaction. #}
{#- Configured here, not in the yml: a schema yml renders {{ this }} in a hook at parse time
   (empty there), a model's config() at run time. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['task_name', 'input_row_id'],
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where request_key is null"
) }}

{#- has_column is false on the first build and on a table from before content_hash (then every row
   is keyed again, and rows that left are deleted all the same). #}
{%- set incremental = bedrock_ext.has_column(this, 'content_hash') %}

with

inputs as (

    select * from {{ ref('stg_bedrock_ext__input_rows') }}
    where is_requestable

),

settings as (

    {%- for name, spec in bedrock_ext.request_tasks() | dictsort %}
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

hashed as (

    select
        *,
        hash(input_id, input_text, request_fingerprint) as content_hash
    from requestable

),

changed as (

    select * from hashed
    {%- if incremental %}
    anti join {{ this }} as stored using (task_name, input_row_id, content_hash)
    {%- endif %}

),

keyed as (

    {# The text itself is not kept (it is most of a row's bytes): the export reads it from
       stg_bedrock_ext__input_rows for the requests it sends, checking content_hash. #}
    select
        sha256(concat_ws(chr(31), input_id, input_text, request_fingerprint)) as request_key,
        * exclude (input_text)
    from changed

)

select * from keyed
{%- if is_incremental() %}
union all by name
select stored.task_name, stored.input_row_id
from {{ this }} as stored
anti join hashed using (task_name, input_row_id)
{%- endif %}
