{# One row per batch job: the manifest's token counts priced at the batch rate, against what the
   same tokens cost on demand. Per-record token sums are kept for reconciliation. #}
with

jobs as (

    select * from {{ ref('dim_batch_jobs') }}

),

records as (

    select
        batch_job_id,
        count(*) as output_line_count,
        sum(input_tokens) as record_input_tokens,
        sum(output_tokens) as record_output_tokens
    from {{ ref('int_bedrock_answers') }}
    where inference_mode = 'batch'
    group by batch_job_id

),

malformed as (

    select batch_job_id, count(*) as malformed_line_count
    from {{ ref('stg_bedrock__batch_outputs') }}
    where is_malformed and inference_mode = 'batch'
    group by batch_job_id

),

superseded as (

    {# Records whose input row has left the input (deleted, re-pointed) or changed (text, settings)
       since: paid for and kept in the history, no longer in fct_bedrock_results. #}
    select batch_jobs.job_id as batch_job_id, count(*) as superseded_record_count
    from {{ ref('bedrock_batch_input') }} exports
    join {{ ref('bedrock_batch_jobs') }} batch_jobs on exports.job_key = batch_jobs.job_key
    where exports.inference_mode = 'batch'
        and exports.request_key not in (select request_key from {{ ref('int_bedrock_requests') }})
    group by batch_jobs.job_id

),

prices as (

    select * from {{ ref('dim_bedrock_models') }}

),

priced as (

    select
        jobs.batch_job_id,
        jobs.model_id,
        jobs.base_model_id,
        jobs.endpoint_scope,
        jobs.job_status,
        jobs.is_local_emulator,
        jobs.has_manifest,
        jobs.processed_record_count,
        coalesce(records.output_line_count, 0) as output_line_count,
        coalesce(malformed.malformed_line_count, 0) as malformed_line_count,
        coalesce(superseded.superseded_record_count, 0) as superseded_record_count,
        jobs.input_token_count,
        jobs.output_token_count,
        coalesce(records.record_input_tokens, 0) as record_input_tokens,
        coalesce(records.record_output_tokens, 0) as record_output_tokens,
        {{ bedrock_ext.cost_usd('jobs.input_token_count', 'jobs.output_token_count', 'prices', 'batch', 'jobs.endpoint_scope') }}
            as batch_cost_usd,
        {{ bedrock_ext.cost_usd('jobs.input_token_count', 'jobs.output_token_count', 'prices', 'on_demand', 'jobs.endpoint_scope') }}
            as on_demand_cost_usd
    from jobs
    left join records on jobs.batch_job_id = records.batch_job_id
    left join malformed on jobs.batch_job_id = malformed.batch_job_id
    left join superseded on jobs.batch_job_id = superseded.batch_job_id
    left join prices on jobs.base_model_id = prices.model_id

),

final as (

    select
        batch_job_id,
        model_id,
        base_model_id,
        endpoint_scope,
        job_status,
        processed_record_count,
        output_line_count,
        malformed_line_count,
        superseded_record_count,
        input_token_count,
        output_token_count,
        record_input_tokens,
        record_output_tokens,
        batch_cost_usd,
        on_demand_cost_usd,
        round(on_demand_cost_usd - batch_cost_usd, 8) as savings_usd,
        is_local_emulator,
        has_manifest
    from priced

)

select * from final
