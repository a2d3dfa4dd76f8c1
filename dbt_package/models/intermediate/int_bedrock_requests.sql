{# The input rows that need an answer under the current request settings. The request key is the
   same hash bedrock_ext.records.request_key computes: the id, the text, and the fingerprint of
   everything else that shapes the request (model, prompt, inference parameters), so changing any
   setting requests the rows again and an unchanged build requests nothing. Ids never contain the
   U+001F separator (stg_bedrock_ext__input_rows skips them), so two rows cannot share a key
   unless they have the same id and text. #}
with

inputs as (

    select * from {{ ref('stg_bedrock_ext__input_rows') }}
    where is_requestable

),

settings as (

    select
        {{ bedrock_ext.sql_string(var('prompt_version')) }} as prompt_version,
        {{ bedrock_ext.sql_string(bedrock_ext.bedrock_setting('bedrock_model_id')) }} as model_id,
        bedrock_ext_request_fingerprint(
            {{ bedrock_ext.sql_string(bedrock_ext.bedrock_setting('bedrock_model_id')) }},
            {{ bedrock_ext.sql_string(var('prompt_version')) }},
            try_cast({{ bedrock_ext.sql_string(var('max_tokens')) }} as bigint),
            try_cast({{ bedrock_ext.sql_string(var('temperature')) }} as double),
            try_cast({{ bedrock_ext.sql_string(var('top_p')) }} as double),
            try_cast({{ bedrock_ext.sql_string(var('top_k')) }} as bigint)
        ) as request_fingerprint

),

requestable as (

    select
        inputs.input_row_id,
        inputs.input_id,
        inputs.input_text,
        settings.prompt_version,
        settings.model_id,
        settings.request_fingerprint
    from inputs
    cross join settings

),

keyed as (

    select
        sha256(concat_ws(chr(31), input_id, input_text, request_fingerprint)) as request_key,
        *
    from requestable

)

select * from keyed
