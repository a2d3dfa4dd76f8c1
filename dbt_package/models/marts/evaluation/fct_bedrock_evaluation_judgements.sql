{# One row per evaluated task x candidate x sample row the judge has graded (a task's
   evaluation.judge): the score (1 to 5) and reason of the latest judgement, or why there is none
   yet. The judge's requests (request task <task>:judge, input_row_id <candidate>/<row>) are
   built from the previous build's fct_bedrock_evaluation_rows and sent through the same batch
   path (bedrock_ext.pipeline.judging): a judgement arrives one build after the answer it grades. #}
with

exports as (

    select * from {{ ref('bedrock_batch_input') }}
    where task_name like '%:judge' and record_id is not null
    qualify row_number() over (partition by task_name, input_row_id order by exported_at desc, attempt_number desc) = 1

),

jobs as (

    select * from {{ ref('bedrock_batch_jobs') }}

),

answers as (

    {{ bedrock_ext.answers_with_text("answers.task_name like '%:judge'") }}

),

joined as (

    select
        split_part(exports.task_name, ':', 1) as task_name,
        split_part(exports.input_row_id, '/', 1) as candidate_name,
        substr(exports.input_row_id, strpos(exports.input_row_id, '/') + 1) as input_row_id,
        exports.model_id as judge_model_id,
        jobs.job_status,
        answers.is_answered,
        answers.is_error,
        answers.answer,
        coalesce(answers.error_message, answers.parse_error) as problem,
        answers.input_tokens,
        answers.output_tokens
    from exports
    left join jobs on exports.job_key = jobs.job_key
    left join answers
        on answers.output_group_id = {{ bedrock_ext.output_group_of('exports', 'jobs') }}
        and answers.record_id = exports.record_id

),

final as (

    select
        ---------- ids
        task_name,
        candidate_name,
        input_row_id,

        ---------- strings
        case
            when is_answered then 'judged'
            when problem is not null or coalesce({{ bedrock_ext.is_job_ended('job_status') }}, false) then 'failed'
            else 'pending'
        end as judgement_status,
        case when is_answered then answer ->> '$.reason' end as judge_reason,
        case when not coalesce(is_answered, false) then problem end as judge_problem,
        judge_model_id,

        ---------- numerics
        case when is_answered then (answer ->> '$.score')::integer end as judge_score,
        input_tokens,
        output_tokens

    from joined

)

select * from final
