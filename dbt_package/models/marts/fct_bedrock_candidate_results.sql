{# fct_bedrock_results for the evaluation candidates (a task's evaluation: candidates): one row per
   candidate per sample row, computed and kept exactly as fct_bedrock_results computes the task's
   own rows (macro bedrock_ext.results_rows), so retries and crash safety are the same. Candidate
   answers never enter fct_bedrock_results or the typed task models (see fct_bedrock_results for
   how rows are computed and kept). #}
{#- Configured here, not in the yml: a schema yml renders {{ this }} in a hook at parse time
   (empty there), a model's config() at run time. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['task_name', 'input_row_id'],
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where status = 'departed'"
) }}

{{ bedrock_ext.results_rows(candidates=true) }}
