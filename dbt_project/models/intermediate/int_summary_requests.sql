{# The transcripts that need a summary under the current prompt version and model. The request
   key is the same hash bedrock_ext.records.request_key computes. #}
with

transcripts as (

    select * from {{ ref('stg_call_center__transcripts') }}

),

summarizable as (

    select
        transcript_row_id,
        call_id,
        transcript_text,
        {{ sql_string(var('prompt_version')) }} as prompt_version,
        {{ sql_string(bedrock_setting('bedrock_model_id')) }} as model_id
    from transcripts
    where is_latest_for_call_id
        and not is_transcript_blank

),

keyed as (

    select
        sha256(concat_ws(chr(31), call_id, transcript_text, prompt_version, model_id)) as request_key,
        *
    from summarizable

)

select * from keyed
