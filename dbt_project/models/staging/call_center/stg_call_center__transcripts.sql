with

source as (

    select * from {{ source('call_center', 'transcripts') }}

),

renamed as (

    select
        ---------- ids
        parse_filename(filename) || ':' || file_row_number::varchar as transcript_row_id,
        call_id,
        customer_id,
        agent_id,

        ---------- strings
        queue as queue_name,
        transcript as transcript_text,

        ---------- numerics
        duration_s::integer as duration_seconds,
        coalesce(length(transcript), 0) as transcript_char_count,

        ---------- booleans
        coalesce(trim(transcript, E' \t\n\r') = '', true) as is_transcript_blank,
        count(*) over (partition by call_id) > 1 as is_duplicate_call_id,
        row_number() over (
            partition by call_id
            order by started_at desc, file_row_number desc
        ) = 1 as is_latest_for_call_id,

        ---------- timestamps
        started_at::timestamptz as started_at

    from source

)

select * from renamed
