{# One row per task x candidate x labelled category field x (label, answer) pair: how many sample
   rows the candidate answered with answer_value where the label says label_value. Rows the
   candidate did not answer are not counted (valid_answer_rate in fct_bedrock_evaluation_scores
   says how many). #}
with

fields as (

    select * from {{ ref('int_bedrock_evaluation_fields') }}

),

final as (

    select
        task_name,
        candidate_name,
        field_name,
        label_value,
        answer_value,
        count(*) as row_count
    from fields
    where field_kind = 'category' and label_value is not null and answer_value is not null
    group by task_name, candidate_name, field_name, label_value, answer_value

)

select * from final
