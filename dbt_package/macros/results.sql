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

{# The body of fct_bedrock_results (candidates false: the declared tasks' rows) and of
   fct_bedrock_candidate_results (candidates true: the evaluation candidates' sample rows, with
   base_task_name and candidate_name): one row per input row, its latest answer or why it has
   none, classified the same way for both. #}
{% macro results_rows(candidates=false) -%}
{%- set incremental = bedrock_ext.has_column(this, 'settings_fingerprint') %}

with

inputs as (

    select * from {{ ref('stg_bedrock_ext__input_rows') }}
    where candidate_name is {{ 'not null' if candidates else 'null' }}

),

requests as (

    select * from {{ ref('int_bedrock_requests') }}

),

prices as (

    select * from {{ ref('dim_bedrock_models') }}

),

run_settings as (

    select md5(concat_ws(chr(31),
        bedrock_ext_version(),
        {{ bedrock_ext.sql_string(var('max_attempts') | string) }},
        {{ bedrock_ext.sql_string(tojson(var('application_inference_profiles', {}) or {})) }},
        (select string_agg(catalog_row::varchar, chr(30) order by catalog_row.model_id) from prices as catalog_row)
    )) as settings_fingerprint

),

current_rows as (

    select
        inputs.task_name,
        inputs.input_row_id,
        inputs.input_id,
        inputs.skip_reason as input_skip_reason,
        inputs.passthrough_hash,
        requests.request_key
    from inputs
    left join requests on inputs.task_name = requests.task_name and inputs.input_row_id = requests.input_row_id

),

{{ bedrock_ext.results_to_compute('current_rows', 'run_settings', incremental) }}

exports as (

    select
        *,
        count(*) over (partition by request_key) as attempt_count
    from {{ ref('bedrock_batch_input') }}
    {%- if incremental %}
    where request_key in (select request_key from changed where request_key is not null)
    {%- endif %}
    qualify row_number() over (partition by request_key order by attempt_number desc, exported_at desc) = 1

),

jobs as (

    select * from {{ ref('bedrock_batch_jobs') }}

),

answers as (

    {{ bedrock_ext.answers_with_text('answers.record_id in (select record_id from exports)' if incremental else 'true') }}

),

joined as (

    select
        changed.task_name,
        changed.input_row_id,
        changed.input_id,
        changed.input_skip_reason,
        changed.passthrough_hash,
        changed.request_key,
        exports.record_id,
        exports.model_id,
        exports.prompt_version,
        exports.skip_reason as export_skip_reason,
        exports.inference_mode,
        exports.is_truncated,
        exports.attempt_count,
        jobs.job_id as batch_job_id,
        jobs.job_status,
        jobs.status_message as job_status_message,
        {# Submissions of this job's input so far: a Failed job is resubmitted as <name>-g2, -g3, ... #}
        coalesce(try_cast(regexp_extract(jobs.job_name, '-g(\d+)$', 1) as integer), 1) as job_attempt,
        answers.answer,
        answers.answer_text,
        answers.is_answered,
        answers.is_error,
        answers.is_error_retryable,
        answers.error_code,
        answers.error_message,
        answers.parse_error,
        answers.input_tokens,
        answers.output_tokens,
        answers.record_id is not null as has_output
    from changed
    left join exports on changed.request_key = exports.request_key
    left join jobs on exports.job_key = jobs.job_key
    left join answers
        on answers.output_group_id = {{ bedrock_ext.output_group_of('exports', 'jobs') }}
        and answers.record_id = exports.record_id

),

outcomes as (

    select
        *,
        case
            when is_answered then 'answered'
            when has_output and is_error and not is_error_retryable then 'permanent_error'
            when has_output then 'transient_error'
            when job_status = 'Failed' then 'job_failed'
            when {{ bedrock_ext.is_job_ended('job_status') }} then 'missing_from_output'
            else 'waiting'
        end as outcome,
        case
            when is_error then 'record_error_' || error_code
            when has_output then 'invalid_answer'
            when job_status = 'Failed' then 'job_failed'
            else 'missing_from_output'
        end as error_kind,
        case
            when is_error then error_message
            when has_output then parse_error
            when job_status = 'Failed'
                then 'batch job ' || batch_job_id || ' Failed (attempt ' || job_attempt::varchar || ' of '
                    || {{ var('max_attempts') }} || '): ' || coalesce(job_status_message, 'no message')
            else 'job ended ' || job_status || ' without an output line for this record'
        end as error_detail
    from joined

),

classified as (

    select
        *,
        case
            when input_skip_reason is not null or export_skip_reason is not null then 'skipped'
            when outcome = 'answered' then 'answered'
            when outcome = 'permanent_error' then 'failed'
            when outcome = 'job_failed' and job_attempt >= {{ var('max_attempts') }} then 'failed'
            when outcome in ('transient_error', 'missing_from_output')
                then case when attempt_count < {{ var('max_attempts') }} then 'pending' else 'failed' end
            else 'pending'
        end as status,
        outcome in ('transient_error', 'missing_from_output')
            and attempt_count < {{ var('max_attempts') }} as is_retry_due,
        coalesce(input_skip_reason, export_skip_reason) as skip_reason,
        case
            when record_id is null then 'not yet exported (fewer new rows than min_records_per_job?)'
            when batch_job_id is null then 'exported, job not yet submitted'
            when outcome = 'job_failed'
                then 'job ' || batch_job_id || ' failed (' || coalesce(job_status_message, 'no message')
                    || '); the next build resubmits it'
            {#- What will happen and when: the retry rules of bedrock_batch_input (README "Retries"). #}
            when outcome in ('transient_error', 'missing_from_output')
                then 'retry after ' || error_kind || ' on attempt ' || attempt_count::varchar || ' of ' || {{ var('max_attempts') }}
                    || ' (' || coalesce(error_detail, 'no detail') || '): the next dbt build exports it again, '
                    || 'in a batch job once {{ var('min_records_per_job') }} records are due (with new rows), '
                    || 'else on-demand {{ var('retry_max_wait_hours') }} h after this attempt'
            else 'waiting for batch job ' || batch_job_id || ' (' || job_status || ')'
        end as pending_reason
    from outcomes

),

final as (

    select
        ---------- ids
        classified.task_name,
        {%- if candidates %}
        split_part(classified.task_name, ':', 1) as base_task_name,
        split_part(classified.task_name, ':', 2) as candidate_name,
        {%- endif %}
        classified.input_row_id,
        classified.input_id,
        classified.request_key,
        classified.record_id,
        classified.batch_job_id,

        ---------- strings
        classified.status,
        case when status = 'answered' then classified.answer end as answer,
        case when status = 'skipped' then skip_reason end as skip_reason,
        case when status = 'failed' then error_kind end as failure_code,
        case when status = 'failed' then error_detail end as failure_message,
        case when status = 'pending' then pending_reason end as pending_reason,
        case when status = 'failed' then answer_text end as raw_answer_text,
        classified.model_id,
        classified.prompt_version,
        classified.inference_mode,

        ---------- numerics
        classified.input_tokens,
        classified.output_tokens,
        {{ bedrock_ext.cost_usd('classified.input_tokens', 'classified.output_tokens', 'prices', 'batch', bedrock_ext.endpoint_scope('classified.model_id')) }}
            as batch_cost_usd,
        {{ bedrock_ext.cost_usd('classified.input_tokens', 'classified.output_tokens', 'prices', 'on_demand', bedrock_ext.endpoint_scope('classified.model_id')) }}
            as on_demand_cost_usd,
        {{ bedrock_ext.cost_usd('classified.input_tokens', 'classified.output_tokens', 'prices',
                                'classified.inference_mode', bedrock_ext.endpoint_scope('classified.model_id')) }}
            as billed_cost_usd,

        classified.attempt_count,

        ---------- booleans
        coalesce(classified.is_truncated, false) as is_text_truncated,
        coalesce(classified.is_retry_due, false) as is_retry_due,

        ---------- incremental bookkeeping
        classified.passthrough_hash,
        run_settings.settings_fingerprint,
        {{ bedrock_ext.sql_string(run_started_at.isoformat()) }}::timestamptz as computed_at

    from classified
    cross join run_settings
    left join prices on {{ bedrock_ext.base_model_id('classified.model_id') }} = prices.model_id

)

select * from final
{%- if is_incremental() %}
union all by name
select task_name, input_row_id, 'departed' as status from departed
{%- endif %}
{%- endmacro %}
