with

jobs as (

    select * from {{ ref('bedrock_batch_jobs') }}

),

manifests as (

    select * from {{ ref('stg_bedrock__batch_manifests') }}

),

final as (

    select
        ---------- ids
        jobs.job_id as batch_job_id,
        jobs.job_arn,
        jobs.job_name,
        jobs.job_key,

        ---------- strings
        jobs.model_id,
        {{ bedrock_ext.base_model_id('jobs.model_id') }} as base_model_id,
        {{ bedrock_ext.endpoint_scope('jobs.model_id') }} as endpoint_scope,
        jobs.job_status,
        jobs.status_message,
        jobs.input_s3_uri,
        jobs.output_s3_uri,
        manifests.manifest_uri,
        jobs.endpoint,
        jobs.output_kms_key_id,
        jobs.job_tags::json as job_tags,

        ---------- numerics
        jobs.total_record_count,
        jobs.processed_record_count,
        jobs.success_record_count,
        jobs.error_record_count,
        manifests.input_token_count,
        manifests.output_token_count,
        date_diff('millisecond', jobs.submitted_at, jobs.ended_at) / 1000.0 as duration_seconds,
        jobs.job_timeout_hours,

        ---------- booleans
        jobs.is_local_emulator,
        coalesce(jobs.is_in_vpc, false) as is_in_vpc,
        manifests.batch_job_id is not null as has_manifest,
        {{ bedrock_ext.is_job_ended('jobs.job_status') }} as is_terminal,

        ---------- timestamps
        jobs.submitted_at,
        jobs.ended_at,
        jobs.checked_at

    from jobs
    left join manifests on jobs.job_id = manifests.batch_job_id

)

select * from final
