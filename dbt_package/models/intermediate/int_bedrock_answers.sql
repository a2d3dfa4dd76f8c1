{# One row per readable output line: the answer's JSON object found and validated against its
   task's answer_schema (from the record's export). An answer that fails keeps its raw text and a
   parse_error; the typed columns come later, per task (bedrock_ext.task_results).
   Incremental like the output staging: only the files the staging (re)read since this model's
   last build are validated, and their rows replace the earlier ones of the same file. #}
with

outputs as (

    select * from {{ ref('stg_bedrock__batch_outputs') }}
    where not is_malformed
    {%- if bedrock_ext.has_column(this, 'loaded_at') %}
        and loaded_at > (select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }})
    {%- endif %}

),

record_tasks as (

    select record_id, any_value(task_name) as task_name
    from {{ ref('bedrock_batch_input') }}
    where record_id is not null
    group by record_id

),

extracted as (

    select
        outputs.*,
        record_tasks.task_name,
        {# The JSON object in the answer: the whole text when it is one (the usual case, no regex),
           else from the first { to the last } (models sometimes wrap it in prose). #}
        case
            when starts_with(answer_text, '{') and ends_with(answer_text, '}') then answer_text
            else nullif(regexp_extract(answer_text, '\{[\s\S]*\}'), '')
        end as answer_json_text
    from outputs
    left join record_tasks on outputs.record_id = record_tasks.record_id

),

parsed as (

    select
        *,
        try_cast(answer_json_text as json) as answer_candidate
    from extracted

),

facts as (

    {# What each check reads, parsed out of the answer once per row (answer_facts), not once per check. #}
    select
        *,
        case
            when answer_candidate is null then null
            {%- for name in bedrock_ext.judge_tasks() | sort %}
            when task_name = {{ bedrock_ext.sql_string(name) }} then {{ bedrock_ext.answer_facts(name, 'answer_candidate') }}
            {%- endfor %}
            {%- for name in bedrock_ext.tasks() | sort %}
            when {{ bedrock_ext.is_task_or_candidate('task_name', name) }} then {{ bedrock_ext.answer_facts(name, 'answer_candidate') }}
            {%- endfor %}
        end as answer_facts
    from parsed

),

validated as (

    select
        output_group_id,
        output_file_uri,
        batch_job_id,
        record_id,
        task_name,
        inference_mode,
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
        answer_candidate,
        loaded_at,
        case
            when is_error then null
            when answer_candidate is null then 'answer is not a JSON object'
                || case when stop_reason in ('max_tokens', 'length') then ' (cut at max_tokens)' else '' end
            {%- for name in bedrock_ext.judge_tasks() | sort %}
            when task_name = {{ bedrock_ext.sql_string(name) }} then {{ bedrock_ext.answer_errors(name, 'answer_facts') }}
            {%- endfor %}
            {%- for name in bedrock_ext.tasks() | sort %}
            when {{ bedrock_ext.is_task_or_candidate('task_name', name) }} then {{ bedrock_ext.answer_errors(name, 'answer_facts') }}
            {%- endfor %}
            else 'no declared task for this record (task ' || coalesce(task_name, 'unknown') || ')'
        end as parse_error
    from facts

),

final as (

    {# The raw text only where no valid answer was found (what raw_answer_text shows): a valid
       answer is kept once, as `answer`. #}
    select
        * exclude (answer_candidate, answer_text),
        case when is_error or parse_error is not null then answer_text end as answer_text,
        case when not is_error and parse_error is null then answer_candidate end as answer,
        not is_error and parse_error is null as is_answered
    from validated

)

select * from final
