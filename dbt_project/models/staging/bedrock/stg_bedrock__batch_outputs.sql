-- depends_on: {{ ref('bedrock_batch_jobs') }}
{# One row per line of every `*.jsonl.out` file Bedrock wrote (batch jobs, and the on-demand path
   for small batches, which writes the same format), successful, failed or malformed.
   Lines are read as text and parsed with DuckDB's JSON functions, so a malformed line is kept
   (is_malformed) rather than dropped. #}
with

source as (

    select * from {{ read_text_or_empty(bedrock_output_uri() ~ '*/*.jsonl.out') }}
    union all
    select * from {{ read_text_or_empty(bedrock_on_demand_uri() ~ '*/*.jsonl.out') }}

),

lines as (

    select filename, unnest(string_split(content, chr(10))) as line
    from source

),

parsed as (

    select
        filename,
        line,
        case when json_valid(line) then line::json end as line_json
    from lines
    where line <> ''

),

renamed as (

    select
        ---------- ids
        md5(filename || chr(10) || line)
            || ':' || row_number() over (partition by filename, line order by filename)::varchar
            as output_line_id,
        regexp_extract(filename, '/([^/]+)/[^/]+$', 1) as output_group_id,
        case when filename not like '%/on-demand/%' then regexp_extract(filename, '/([a-z0-9]{12})/[^/]+$', 1) end
            as batch_job_id,
        line_json ->> '$.recordId' as record_id,

        ---------- strings
        coalesce(
            line_json ->> '$.modelOutput.content[0].text',
            line_json ->> '$.modelOutput.output.message.content[0].text',
            line_json ->> '$.modelOutput.generation'
        ) as answer_text,
        line_json ->> '$.modelOutput.model' as response_model,
        coalesce(line_json ->> '$.modelOutput.stop_reason', line_json ->> '$.modelOutput.stopReason')
            as stop_reason,
        line_json ->> '$.error.errorMessage' as error_message,
        case when filename like '%/on-demand/%' then 'on_demand' else 'batch' end as inference_mode,
        filename as output_file_uri,
        case when line_json is null then left(line, 200) end as malformed_line_excerpt,

        ---------- numerics
        (line_json ->> '$.error.errorCode')::integer as error_code,
        coalesce(
            line_json ->> '$.modelOutput.usage.input_tokens',
            line_json ->> '$.modelOutput.usage.inputTokens',
            line_json ->> '$.modelOutput.prompt_token_count'
        )::bigint as input_tokens,
        coalesce(
            line_json ->> '$.modelOutput.usage.output_tokens',
            line_json ->> '$.modelOutput.usage.outputTokens',
            line_json ->> '$.modelOutput.generation_token_count'
        )::bigint as output_tokens,
        coalesce(
            line_json ->> '$.modelInput.max_tokens',
            line_json ->> '$.modelInput.inferenceConfig.maxTokens',
            line_json ->> '$.modelInput.max_gen_len'
        )::integer as max_tokens,
        coalesce(
            line_json ->> '$.modelInput.temperature',
            line_json ->> '$.modelInput.inferenceConfig.temperature'
        )::double as temperature,
        coalesce(line_json ->> '$.modelInput.top_p', line_json ->> '$.modelInput.inferenceConfig.topP')::double
            as top_p,
        coalesce(line_json ->> '$.modelInput.top_k', line_json ->> '$.modelInput.inferenceConfig.topK')::integer
            as top_k,

        ---------- booleans
        line_json is null or (line_json ->> '$.recordId') is null as is_malformed,
        (line_json -> '$.error') is not null as is_error,
        coalesce(
            (line_json ->> '$.error.retryable')::boolean,
            (line_json ->> '$.error.errorCode')::integer = 429
                or (line_json ->> '$.error.errorCode')::integer >= 500
        ) as is_error_retryable

    from parsed

)

select * from renamed
