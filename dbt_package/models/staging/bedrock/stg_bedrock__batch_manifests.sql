-- depends_on: {{ ref('bedrock_batch_jobs') }}
with

source as (

    select * from {{ read_text_or_empty(bedrock_output_uri() ~ '*/manifest.json.out') }}

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
        (content::json ->> '$.outputTokenCount')::bigint as output_token_count

    from source

)

select * from renamed
