{# One row per task x candidate x sample row of every task with an evaluation block: the
   candidates' rows from fct_bedrock_candidate_results and the reference's (the task's own
   settings) from fct_bedrock_results, for the same sample rows (nothing requested twice), each
   with the row's labels and the user message it was asked with (what a judge reads, in the next
   build: bedrock_ext.pipeline.judging). #}
with

candidate_rows as (

    select * from {{ ref('fct_bedrock_candidate_results') }}

),

task_rows as (

    select * from {{ ref('fct_bedrock_results') }}

),

sample_inputs as materialized (

    {# The candidates' rows of the input: the sample, with its labels and the user messages (each
       candidate's own, and the task's own as reference_input_text). Read once: each candidate's
       rows rank the whole input to draw the sample. #}
    select task_name, base_task_name, input_row_id, input_text, reference_input_text, sample_labels
    from {{ ref('stg_bedrock_ext__input_rows') }}
    where candidate_name is not null

),

sample as (

    select
        base_task_name as task_name,
        input_row_id,
        any_value(sample_labels) as labels,
        any_value(reference_input_text) as reference_input_text
    from sample_inputs
    group by base_task_name, input_row_id

),

requests as (

    {# The user message each row was asked with: the candidates' own, and the reference's. #}
    select task_name, input_row_id, input_text from sample_inputs
    union all
    select task_name, input_row_id, reference_input_text from sample

),

candidates as (

    select
        base_task_name as task_name,
        candidate_name,
        input_row_id,
        input_id,
        status,
        answer,
        model_id,
        inference_mode,
        input_tokens,
        output_tokens,
        batch_cost_usd,
        task_name as request_task_name
    from candidate_rows

),

reference as (

    select
        task_rows.task_name,
        {{ bedrock_ext.sql_string(bedrock_ext.reference_name()) }} as candidate_name,
        task_rows.input_row_id,
        task_rows.input_id,
        task_rows.status,
        task_rows.answer,
        task_rows.model_id,
        task_rows.inference_mode,
        task_rows.input_tokens,
        task_rows.output_tokens,
        task_rows.batch_cost_usd,
        task_rows.task_name as request_task_name
    from task_rows
    inner join sample on task_rows.task_name = sample.task_name and task_rows.input_row_id = sample.input_row_id

),

final as (

    select
        ---------- ids
        unioned.task_name,
        unioned.candidate_name,
        unioned.input_row_id,
        unioned.input_id,

        ---------- strings
        unioned.status,
        unioned.answer,
        sample.labels,
        unioned.model_id,
        unioned.inference_mode,
        requests.input_text as request_text,

        ---------- numerics
        unioned.input_tokens,
        unioned.output_tokens,
        unioned.batch_cost_usd

    from (select * from candidates union all by name select * from reference) as unioned
    left join sample on unioned.task_name = sample.task_name and unioned.input_row_id = sample.input_row_id
    left join requests
        on requests.task_name = unioned.request_task_name and requests.input_row_id = unioned.input_row_id

)

select * from final
