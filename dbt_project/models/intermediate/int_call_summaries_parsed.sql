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
        nullif(regexp_extract(answer_text, '\{[\s\S]*\}'), '') as answer_json_text
    from outputs

),

parsed as (

    select
        *,
        case when json_valid(answer_json_text) then answer_json_text::json end as answer_json
    from extracted

),

fields as (

    select
        *,
        answer_json ->> '$.summary' as summary,
        answer_json ->> '$.intent' as intent,
        answer_json ->> '$.sentiment' as sentiment,
        answer_json ->> '$.resolution' as resolution,
        case
            when json_type(answer_json -> '$.action_items') = 'ARRAY'
                then from_json(answer_json -> '$.action_items', '["VARCHAR"]')
        end as action_items
    from parsed

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
            when answer_json is null then 'answer is not a JSON object'
                || case when stop_reason in ('max_tokens', 'length') then ' (cut at max_tokens)' else '' end
            when coalesce(trim(summary), '') = '' then 'summary is missing'
            when intent is null or intent not in ({{ "'" ~ accepted_intents() | join("', '") ~ "'" }})
                then 'intent is not one of the accepted values: ' || coalesce(intent, 'null')
            when sentiment is null or sentiment not in ('positive', 'neutral', 'negative')
                then 'sentiment is not positive, neutral or negative: ' || coalesce(sentiment, 'null')
            when resolution is null or resolution not in ('resolved', 'escalated', 'unresolved')
                then 'resolution is not resolved, escalated or unresolved: ' || coalesce(resolution, 'null')
            when action_items is null then 'action_items is not an array of strings'
        end as parse_error
    from fields

),

final as (

    select
        *,
        not is_error and parse_error is null as is_summarized
    from validated

)

select * from final
