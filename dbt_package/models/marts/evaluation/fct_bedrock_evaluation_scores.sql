{# One row per task x candidate x answer field of every evaluated task: how often the candidate
   answers the field, how it agrees with the reference (the task's own answers for the same rows)
   and, where evaluation.labels names a column, with the ground truth.
   - category (enum, boolean): agreement, accuracy and macro-F1 (the mean over the classes seen in
     the labels or the answers of 2TP / (2TP + FP + FN); fct_bedrock_evaluation_confusion holds the
     counts);
   - number: agreement and accuracy (equal values), mean absolute difference and the share within
     1 of the reference;
   - text: the mean length ratio to the reference and a similarity in [0, 1] (1 - Levenshtein
     distance / the longer length; DuckDB's levenshtein);
   - other (arrays, objects): the valid-answer rate only.
   Agreement and the text scores count rows both answered; accuracy the labelled rows the candidate
   answered. #}
with

fields as (

    select * from {{ ref('int_bedrock_evaluation_fields') }}

),

confusion as (

    select * from {{ ref('fct_bedrock_evaluation_confusion') }}

),

classes as (

    select task_name, candidate_name, field_name, label_value as class_value from confusion
    union
    select task_name, candidate_name, field_name, answer_value from confusion

),

per_class as (

    select
        classes.task_name,
        classes.candidate_name,
        classes.field_name,
        classes.class_value,
        coalesce(sum(confusion.row_count) filter (
            where confusion.label_value = classes.class_value and confusion.answer_value = classes.class_value), 0)
            as true_positives,
        coalesce(sum(confusion.row_count) filter (
            where confusion.label_value <> classes.class_value and confusion.answer_value = classes.class_value), 0)
            as false_positives,
        coalesce(sum(confusion.row_count) filter (
            where confusion.label_value = classes.class_value and confusion.answer_value <> classes.class_value), 0)
            as false_negatives
    from classes
    inner join confusion
        on confusion.task_name = classes.task_name
        and confusion.candidate_name = classes.candidate_name
        and confusion.field_name = classes.field_name
    group by classes.task_name, classes.candidate_name, classes.field_name, classes.class_value

),

macro_f1 as (

    select
        task_name,
        candidate_name,
        field_name,
        avg(2.0 * true_positives / (2 * true_positives + false_positives + false_negatives)) as macro_f1
    from per_class
    group by task_name, candidate_name, field_name

),

valued as (

    select
        *,
        answer_value is not null as has_answer,
        answer_value is not null and reference_value is not null as is_compared,
        answer_value is not null and label_value is not null as is_labelled,
        try_cast(answer_value as double) as answer_number,
        try_cast(reference_value as double) as reference_number,
        try_cast(label_value as double) as label_number
    from fields

),

scored as (

    select
        task_name,
        candidate_name,
        field_name,
        any_value(field_kind) as field_kind,
        count(*) as sample_rows,
        count(*) filter (where has_answer) as answered_rows,
        count(*) filter (where is_compared) as compared_rows,
        count(*) filter (where is_labelled) as labelled_rows,
        avg(case
            when field_kind = 'category' then (answer_value = reference_value)::integer
            when field_kind = 'number' then (answer_number = reference_number)::integer
        end) filter (where is_compared) as agreement,
        avg(case
            when field_kind = 'category' then (answer_value = label_value)::integer
            when field_kind = 'number' then (answer_number = label_number)::integer
        end) filter (where is_labelled) as accuracy,
        avg(abs(answer_number - reference_number)) filter (where is_compared and field_kind = 'number')
            as mean_abs_diff,
        avg((abs(answer_number - reference_number) <= 1)::integer) filter (where is_compared and field_kind = 'number')
            as within_one_rate,
        avg(length(answer_value) / length(reference_value))
            filter (where is_compared and field_kind = 'text' and length(reference_value) > 0) as length_ratio,
        avg(1 - levenshtein(answer_value, reference_value) / greatest(length(answer_value), length(reference_value)))
            filter (where is_compared and field_kind = 'text' and greatest(length(answer_value), length(reference_value)) > 0)
            as text_similarity
    from valued
    group by task_name, candidate_name, field_name

),

final as (

    select
        ---------- ids
        scored.task_name,
        scored.candidate_name,
        scored.field_name,

        ---------- strings
        scored.field_kind,

        ---------- numerics
        scored.sample_rows,
        scored.answered_rows,
        scored.answered_rows / scored.sample_rows as valid_answer_rate,
        scored.compared_rows,
        scored.labelled_rows,
        scored.agreement,
        scored.accuracy,
        macro_f1.macro_f1,
        scored.mean_abs_diff,
        scored.within_one_rate,
        scored.length_ratio,
        scored.text_similarity

    from scored
    left join macro_f1
        on macro_f1.task_name = scored.task_name
        and macro_f1.candidate_name = scored.candidate_name
        and macro_f1.field_name = scored.field_name

)

select * from final
