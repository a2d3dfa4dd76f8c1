{# One row per job with a manifest.json.out: Bedrock's counts and token totals for the job.
   Incremental like the output staging: a manifest is read until it is settled (its job had ended
   when it was read: Bedrock may write it while the job runs), then never again. #}
with

source as (

    select * from {{ read_unsettled_files([bedrock_output_uri() ~ '*/manifest.json.out'],
                                          bedrock_ext.settled_files('manifest_uri')) }}

),

jobs as (

    select job_id, job_status from {{ ref('bedrock_batch_jobs') }}

),

renamed as (

    select
        ---------- ids
        regexp_extract(filename, '/([a-z0-9]{12})/manifest\.json\.out$', 1) as batch_job_id,

        ---------- strings
        filename as manifest_uri,

        ---------- numerics
        (content::json ->> '$.totalRecordCount')::bigint as total_record_count,
        (content::json ->> '$.processedRecordCount')::bigint as processed_record_count,
        (content::json ->> '$.successRecordCount')::bigint as success_record_count,
        (content::json ->> '$.errorRecordCount')::bigint as error_record_count,
        (content::json ->> '$.inputTokenCount')::bigint as input_token_count,
        (content::json ->> '$.outputTokenCount')::bigint as output_token_count,

        ---------- booleans
        {{ bedrock_ext.is_job_ended('jobs.job_status') }} as is_file_settled

    from source
    left join jobs on jobs.job_id = regexp_extract(source.filename, '/([a-z0-9]{12})/manifest\.json\.out$', 1)

)

select * from renamed
