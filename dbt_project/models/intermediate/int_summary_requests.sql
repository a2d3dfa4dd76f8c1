{# The transcripts that need a summary under the current request settings. The request key is
   the same hash bedrock_ext.records.request_key computes: the call id, the text, and the
   fingerprint of everything else that shapes the request (model, prompt, inference parameters),
   so changing any setting requests the rows again and an unchanged build requests nothing. #}
with

transcripts as (

    select * from {{ ref('stg_call_center__transcripts') }}

),

settings as (

    select
        {{ sql_string(var('prompt_version')) }} as prompt_version,
        {{ sql_string(bedrock_setting('bedrock_model_id')) }} as model_id,
        bedrock_ext_request_fingerprint(
            {{ sql_string(bedrock_setting('bedrock_model_id')) }},
            {{ sql_string(var('prompt_version')) }},
            try_cast({{ sql_string(var('max_tokens')) }} as bigint),
            try_cast({{ sql_string(var('temperature')) }} as double),
            try_cast({{ sql_string(var('top_p')) }} as double),
            try_cast({{ sql_string(var('top_k')) }} as bigint)
        ) as request_fingerprint

),

summarizable as (

    select
        transcripts.transcript_row_id,
        transcripts.call_id,
        transcripts.transcript_text,
        settings.prompt_version,
        settings.model_id,
        settings.request_fingerprint
    from transcripts
    cross join settings
    where transcripts.is_latest_for_call_id
        and not transcripts.is_transcript_blank

),

keyed as (

    select
        sha256(concat_ws(chr(31), call_id, transcript_text, request_fingerprint)) as request_key,
        *
    from summarizable

)

select * from keyed
