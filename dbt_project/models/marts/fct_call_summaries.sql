{# The call_summaries task's typed results (bedrock_ext.task_results: one row per transcript row,
   the answer's fields typed from the task's answer_schema) in this project's words.
   Incremental (the package's pattern for a task model): a build reads only the results computed
   since this model's last build (it keeps computed_at) and their transcripts; the post-hook deletes
   the rows whose transcript left the input. As a plain table it works the same, reading everything. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='transcript_row_id',
    on_schema_change='sync_all_columns',
    post_hook="{{ bedrock_ext.delete_departed_rows('call_summaries', 'transcript_row_id') }}"
) }}

with

results as (

    {{ bedrock_ext.task_results('call_summaries') }}

),

final as (

    select
        ---------- ids
        input_row_id as transcript_row_id,
        input_id as call_id,
        request_key,
        record_id,
        batch_job_id,

        ---------- strings
        case when status = 'answered' then 'summarized' else status end as summary_status,
        summary,
        intent,
        sentiment,
        resolution,
        action_items,
        skip_reason,
        failure_code,
        failure_message,
        pending_reason,
        raw_answer_text,
        model_id,
        prompt_version,
        queue_name,
        inference_mode,

        ---------- numerics
        input_tokens,
        output_tokens,
        batch_cost_usd,
        on_demand_cost_usd,
        billed_cost_usd,
        attempt_count,
        duration_seconds as call_duration_seconds,

        ---------- booleans
        is_text_truncated as is_transcript_truncated,
        is_retry_due,

        ---------- timestamps
        started_at as call_started_at,
        computed_at

    from results

)

select * from final
