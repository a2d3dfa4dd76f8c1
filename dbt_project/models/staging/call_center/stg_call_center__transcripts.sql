with

source as (

    select * from {{ source('call_center', 'transcripts') }}

),

renamed as (

    select
        ---------- ids
        call_id,
        customer_id,
        agent_id,

        ---------- strings
        queue as queue_name,
        transcript as transcript_text,

        ---------- labels (the generator's ground truth; the evaluation's labels)
        label_intent,
        label_resolution,
        label_sentiment_end,

        ---------- numerics
        duration_s::integer as duration_seconds,

        ---------- timestamps
        started_at::timestamptz as started_at

    from source

)

select * from renamed
