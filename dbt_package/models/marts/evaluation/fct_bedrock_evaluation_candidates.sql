{# One row per task x candidate of every evaluated task, the reference (the task's own settings)
   included: the model and prompt it asks with, how its sample went, what it costs, and its mean
   scores over the task's category fields (fct_bedrock_evaluation_scores) and the judge's mean score
   (fct_bedrock_evaluation_judgements, when the task declares a judge), to choose with.
   cost_per_1000_rows is at the batch price of the candidate's endpoint (its id form), from the
   tokens its sample rows used; projected_batch_cost_usd scales it to the task's current
   requestable input. #}
{%- set evaluated = bedrock_ext.evaluated_tasks() %}

with

evaluation_rows as (

    select * from {{ ref('fct_bedrock_evaluation_rows') }}

),

scores as (

    select * from {{ ref('fct_bedrock_evaluation_scores') }}

),

task_inputs as (

    select base_task_name as task_name, count(*) as requestable_rows
    from {{ ref('stg_bedrock_ext__input_rows') }}
    where candidate_name is null and is_requestable
    group by base_task_name

),

declared as (

    {%- for task, evaluation in evaluated | dictsort %}
    {%- set names = [bedrock_ext.reference_name()] + ((evaluation.get('candidates') or {}).keys() | sort) %}
    {%- for candidate in names %}
    {%- set name = task if candidate == bedrock_ext.reference_name() else task ~ ':' ~ candidate %}
    {%- set spec = bedrock_ext.task(name) %}
    select
        {{ bedrock_ext.sql_string(task) }} as task_name,
        {{ bedrock_ext.sql_string(candidate) }} as candidate_name,
        {{ bedrock_ext.sql_string(bedrock_ext.task_model_id(name)) }} as model_id,
        {{ bedrock_ext.sql_string(spec.get('prompt_version') or 'v1') }} as prompt_version,
        {{ bedrock_ext.sql_string(tojson((evaluation.get('candidates') or {}).get(candidate) or {})) }} as overrides
    union all
    {%- endfor %}
    {%- endfor %}
    {#- The columns, and no rows when no task is evaluated. #}
    select
        null::varchar as task_name, null::varchar as candidate_name, null::varchar as model_id,
        null::varchar as prompt_version, null::varchar as overrides
    where false

),

outcomes as (

    select
        task_name,
        candidate_name,
        count(*) as sample_rows,
        count(*) filter (where status = 'answered') as answered_rows,
        count(*) filter (where status = 'failed') as failed_rows,
        count(*) filter (where status = 'pending') as pending_rows,
        avg(input_tokens) as input_tokens_per_row,
        avg(output_tokens) as output_tokens_per_row,
        avg(batch_cost_usd) as batch_cost_per_row_usd
    from evaluation_rows
    group by task_name, candidate_name

),

judgements as (

    select
        task_name,
        candidate_name,
        count(*) filter (where judgement_status = 'judged') as judged_rows,
        avg(judge_score) as mean_judge_score
    from {{ ref('fct_bedrock_evaluation_judgements') }}
    group by task_name, candidate_name

),

mean_scores as (

    select
        task_name,
        candidate_name,
        avg(agreement) filter (where field_kind = 'category') as mean_category_agreement,
        avg(accuracy) filter (where field_kind = 'category') as mean_category_accuracy,
        avg(macro_f1) filter (where field_kind = 'category') as mean_category_macro_f1
    from scores
    group by task_name, candidate_name

),

final as (

    select
        ---------- ids
        declared.task_name,
        declared.candidate_name,

        ---------- strings
        declared.model_id,
        {{ bedrock_ext.endpoint_scope('declared.model_id') }} as endpoint_scope,
        declared.prompt_version,
        declared.overrides,

        ---------- numerics
        coalesce(outcomes.sample_rows, 0) as sample_rows,
        coalesce(outcomes.answered_rows, 0) as answered_rows,
        coalesce(outcomes.failed_rows, 0) as failed_rows,
        coalesce(outcomes.pending_rows, 0) as pending_rows,
        outcomes.answered_rows / nullif(outcomes.sample_rows, 0) as valid_answer_rate,
        mean_scores.mean_category_agreement,
        mean_scores.mean_category_accuracy,
        mean_scores.mean_category_macro_f1,
        coalesce(judgements.judged_rows, 0) as judged_rows,
        judgements.mean_judge_score,
        outcomes.input_tokens_per_row,
        outcomes.output_tokens_per_row,
        1000 * outcomes.batch_cost_per_row_usd as cost_per_1000_rows_usd,
        coalesce(task_inputs.requestable_rows, 0) as task_requestable_rows,
        outcomes.batch_cost_per_row_usd * coalesce(task_inputs.requestable_rows, 0) as projected_batch_cost_usd

    from declared
    left join outcomes
        on outcomes.task_name = declared.task_name and outcomes.candidate_name = declared.candidate_name
    left join mean_scores
        on mean_scores.task_name = declared.task_name and mean_scores.candidate_name = declared.candidate_name
    left join task_inputs on task_inputs.task_name = declared.task_name
    left join judgements
        on judgements.task_name = declared.task_name and judgements.candidate_name = declared.candidate_name

)

select * from final
