{# fct_bedrock_results' incremental bookkeeping: the CTEs `changed` (the input rows to compute
   this build) and, on incremental runs, `departed` (rows that left the input).
   A settled row (answered, failed or skipped) is kept while its input id, request key, skip reason
   and passthrough columns stay the same, its request is not exported again (retry_failed) and the
   settings fingerprint (`settings_cte`) is unchanged; every other row is computed again. Without a
   previous table with a fingerprint (`incremental` false) every row is computed. #}
{% macro results_to_compute(current_rows, settings_cte, incremental) -%}
{%- if incremental %}

{# Requests exported again since their row was computed (retry_failed): their rows are computed
   again whatever their status was. Only requests with an export since the last build are counted. #}
reexported as (

    select stored.request_key
    from (
        select request_key, count(*) as attempts
        from {{ ref('bedrock_batch_input') }}
        where request_key in (
            select request_key from {{ ref('bedrock_batch_input') }}
            where exported_at > (select max(computed_at) from {{ this }})
        )
        group by request_key
    ) as exported
    inner join {{ this }} as stored using (request_key)
    where stored.attempt_count is distinct from exported.attempts

),

settled as (

    select
        task_name,
        input_row_id,
        input_id,
        request_key,
        case when request_key is null then skip_reason end as input_skip_reason,
        passthrough_hash
    from {{ this }}
    anti join reexported using (request_key)
    where status in ('answered', 'failed', 'skipped')
        and settings_fingerprint = (select settings_fingerprint from {{ settings_cte }})

),


{%- else %}

settled as (

    select task_name, input_row_id, input_id, request_key, input_skip_reason, passthrough_hash
    from {{ current_rows }}
    where false

),

{%- endif %}

changed as (

    select {{ current_rows }}.*
    from {{ current_rows }}
    anti join settled
        on settled.task_name = {{ current_rows }}.task_name
        and settled.input_row_id = {{ current_rows }}.input_row_id
        and settled.input_id is not distinct from {{ current_rows }}.input_id
        and settled.request_key is not distinct from {{ current_rows }}.request_key
        and settled.input_skip_reason is not distinct from {{ current_rows }}.input_skip_reason
        and settled.passthrough_hash = {{ current_rows }}.passthrough_hash

),

{%- if is_incremental() %}

departed as (

    select task_name, input_row_id
    from {{ this }}
    anti join {{ current_rows }} using (task_name, input_row_id)

),

{%- endif %}
{%- endmacro %}
