{# One row per job with a manifest.json.out: Bedrock's counts and token totals for the job.
   Incremental like the output staging: a manifest is read once its job has ended (Bedrock may
   write it while the job runs), and never again. #}
with

source as (

    select * from {{ read_output_files([bedrock_output_uri() ~ '*/manifest.json.out'], ref('bedrock_batch_jobs'),
                                       'manifest_uri') }}

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

        ---------- timestamps
        current_timestamp as loaded_at

    from source

)

select * from renamed
