{# One row per readable output line: the answer's JSON object found and validated against its
   task's answer_schema (from the record's export). The verdict only: is_answered, or the
   parse_error of an answer that fails; the text stays in the output staging, where readers take
   the answer from (bedrock_ext.answers_with_text), and the typed columns come later, per task
   (bedrock_ext.task_results).
   Incremental like the output staging: only the files the staging (re)read since this model's
   last build are validated, and their rows replace the earlier ones of the same file.
   Each distinct answer of a task is validated once (a classification task repeats its answers),
   after a grouping: DuckDB scans a table one row group (122,880 rows) per thread, so the lines
   of one build below that size would otherwise be validated on one core. #}
with

outputs as (

    select * from {{ ref('stg_bedrock__batch_outputs') }}
    where not is_malformed
    {#- A table from before loaded_at or output_line_id (0.2; 0.4 and before) is validated again whole. #}
    {%- if bedrock_ext.has_column(this, 'loaded_at') and bedrock_ext.has_column(this, 'output_line_id') %}
        and loaded_at > (select coalesce(max(loaded_at), '-infinity'::timestamptz) from {{ this }})
    {%- endif %}

),

record_tasks as (

    select record_id, any_value(task_name) as task_name
    from {{ ref('bedrock_batch_input') }}
    where record_id is not null
    group by record_id

),

tasked as (

    select
        outputs.*,
        record_tasks.task_name
    from outputs
    left join record_tasks on outputs.record_id = record_tasks.record_id

),

distinct_answers as (

    select distinct task_name, answer_text
    from tasked

),

extracted as (

    select
        *,
        {{ bedrock_ext.answer_json_text('answer_text') }} as answer_json_text
    from distinct_answers

),

parsed as (

    select
        *,
        try_cast(answer_json_text as json) as answer_candidate
    from extracted

),

checked as (

    {# The quick test (answer_passes) on one more parse of the answer: true for most answers,
       which then skip the facts and the checks below; the rest get the exact reason there. #}
    select
        *,
        case
            when answer_candidate is null then false
            {%- for name in bedrock_ext.judge_tasks() | sort %}
            when task_name = {{ bedrock_ext.sql_string(name) }} then {{ bedrock_ext.answer_passes(name, 'answer_map') }}
            {%- endfor %}
            {%- for name in bedrock_ext.tasks() | sort %}
            when {{ bedrock_ext.is_task_or_candidate('task_name', name) }} then {{ bedrock_ext.answer_passes(name, 'answer_map') }}
            {%- endfor %}
            else false
        end as answer_passes
    from (select *, {{ bedrock_ext.answer_map('answer_candidate') }} as answer_map from parsed)

),

facts as (

    {# What each check reads, parsed out of the answer once (answer_facts), not once per check;
       only for the answers the quick test did not clear. #}
    select
        *,
        case
            when answer_candidate is null or answer_passes then null
            {%- for name in bedrock_ext.judge_tasks() | sort %}
            when task_name = {{ bedrock_ext.sql_string(name) }} then {{ bedrock_ext.answer_facts(name, 'answer_candidate') }}
            {%- endfor %}
            {%- for name in bedrock_ext.tasks() | sort %}
            when {{ bedrock_ext.is_task_or_candidate('task_name', name) }} then {{ bedrock_ext.answer_facts(name, 'answer_candidate') }}
            {%- endfor %}
        end as answer_facts
    from checked

),

validated_answers as (

    select
        task_name,
        answer_text,
        answer_candidate is null as is_unparsed,
        case
            when answer_passes then null
            when answer_candidate is null then 'answer is not a JSON object'
            {%- for name in bedrock_ext.judge_tasks() | sort %}
            when task_name = {{ bedrock_ext.sql_string(name) }} then {{ bedrock_ext.answer_errors(name, 'answer_facts') }}
            {%- endfor %}
            {%- for name in bedrock_ext.tasks() | sort %}
            when {{ bedrock_ext.is_task_or_candidate('task_name', name) }} then {{ bedrock_ext.answer_errors(name, 'answer_facts') }}
            {%- endfor %}
            else 'no declared task for this record (task ' || coalesce(task_name, 'unknown') || ')'
        end as answer_error
    from facts

),

validated as (

    select
        tasked.output_line_id,
        tasked.output_group_id,
        tasked.output_file_uri,
        tasked.batch_job_id,
        tasked.record_id,
        tasked.task_name,
        tasked.inference_mode,
        tasked.response_model,
        tasked.stop_reason,
        tasked.error_code,
        tasked.error_message,
        tasked.input_tokens,
        tasked.output_tokens,
        tasked.max_tokens,
        tasked.temperature,
        tasked.top_p,
        tasked.top_k,
        tasked.is_error,
        tasked.is_error_retryable,
        tasked.loaded_at,
        case
            when tasked.is_error then null
            when validated_answers.is_unparsed and tasked.stop_reason in ('max_tokens', 'length')
                then validated_answers.answer_error || ' (cut at max_tokens)'
            else validated_answers.answer_error
        end as parse_error
    from tasked
    left join validated_answers
        on tasked.task_name is not distinct from validated_answers.task_name
        and tasked.answer_text is not distinct from validated_answers.answer_text

),

final as (

    {# The verdict only: the answer's text stays in the output staging, and readers take the answer
       from there (bedrock_ext.answers_with_text), so it is stored once. #}
    select
        *,
        not is_error and parse_error is null as is_answered
    from validated

)

select * from final
