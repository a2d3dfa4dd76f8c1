{# The model's answer parsed and validated: one JSON object with summary, intent, sentiment,
   resolution and action_items. An answer that fails is kept with its raw text and parse_error. #}
with

outputs as (

    select * from {{ ref('stg_bedrock__batch_outputs') }}
    where not is_malformed

),

extracted as (

    select
        *,
        {# The JSON object in the answer: the whole text when it is one (the usual case, no regex),
           else from the first { to the last } (models sometimes wrap it in prose). #}
        case
            when starts_with(answer_text, '{') and ends_with(answer_text, '}') then answer_text
            else nullif(regexp_extract(answer_text, '\{[\s\S]*\}'), '')
        end as answer_json_text
    from outputs

),

parsed as (

    {# Each answer is parsed twice (validity, then all fields in one call), not once per field. #}
    select
        *,
        json_valid(answer_json_text) as is_answer_json
    from extracted

),

fields as (

    select
        *,
        case when is_answer_json then json_extract_string(answer_json_text,
            ['$.summary', '$.intent', '$.sentiment', '$.resolution']) end as v,
        case when is_answer_json then json_extract(answer_json_text, '$.action_items') end as action_items_json
    from parsed

),

typed as (

    select
        *,
        v[1] as summary,
        v[2] as intent,
        v[3] as sentiment,
        v[4] as resolution,
        case
            when json_type(action_items_json) = 'ARRAY' then from_json(action_items_json, '["VARCHAR"]')
        end as action_items
    from fields

),

validated as (

    select
        output_group_id,
        batch_job_id,
        record_id,
        inference_mode,
        summary,
        intent,
        sentiment,
        resolution,
        action_items,
        answer_text,
        response_model,
        stop_reason,
        error_code,
        error_message,
        input_tokens,
        output_tokens,
        max_tokens,
        temperature,
        top_p,
        top_k,
        is_error,
        is_error_retryable,
        case
            when is_error then null
            when not coalesce(is_answer_json, false) then 'answer is not a JSON object'
                || case when stop_reason in ('max_tokens', 'length') then ' (cut at max_tokens)' else '' end
            when coalesce(trim(summary), '') = '' then 'summary is missing'
            when intent is null or intent not in ({{ "'" ~ bedrock_ext.accepted_intents() | join("', '") ~ "'" }})
                then 'intent is not one of the accepted values: ' || coalesce(intent, 'null')
            when sentiment is null or sentiment not in ('positive', 'neutral', 'negative')
                then 'sentiment is not positive, neutral or negative: ' || coalesce(sentiment, 'null')
            when resolution is null or resolution not in ('resolved', 'escalated', 'unresolved')
                then 'resolution is not resolved, escalated or unresolved: ' || coalesce(resolution, 'null')
            when action_items is null then 'action_items is not an array of strings'
        end as parse_error
    from typed

),

final as (

    select
        *,
        not is_error and parse_error is null as is_answered
    from validated

)

select * from final
