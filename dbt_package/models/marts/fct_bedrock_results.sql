{# One row per input row of every task: its latest answer (JSON, validated against the task's
   answer_schema; bedrock_ext.task_results types it), or why it has none (failed, pending,
   skipped). Every input row appears exactly once (tests/assert_every_input_row_accounted_for); rows that left the
   input are not here, their requests stay in bedrock_batch_input and their cost in
   fct_batch_job_costs (superseded_record_count).
   Incremental: a settled row (answered, failed or skipped) is computed once and kept while its
   input id, request key, skip reason and passthrough columns stay the same, its request is not exported again
   (retry_failed) and the settings fingerprint is unchanged
   (max_attempts, the model catalog and its id mapping, the package version, bedrock_ext_version(): a change
   recomputes every row). Pending, new and edited rows are computed on every build; rows that left
   the input are written as 'departed' and deleted by the post-hook in the same transaction. #}
{#- Configured here, not in the yml: a schema yml renders {{ this }} in a hook at parse time
   (empty there), a model's config() at run time. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['task_name', 'input_row_id'],
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where status = 'departed'"
) }}

{{ bedrock_ext.results_rows(candidates=false) }}
