{# One row per line of every `*.jsonl.out` file Bedrock wrote (batch jobs, and the on-demand path
   for small batches, which writes the same format), successful, failed or malformed.
   Lines are read as text and parsed with DuckDB's JSON functions, so a malformed line is kept
   (is_malformed) rather than dropped.
   Incremental by file: a build reads the files of the jobs that have ended (and on-demand files)
   that it has not loaded yet, each once; a running job's files are left alone until it ends (they
   may change while it runs). A build with nothing new reads no file. #}
with

source as (

    select * from {{ read_output_files([bedrock_output_uri() ~ '*/*.jsonl.out', bedrock_on_demand_uri() ~ '*/*.jsonl.out'],
                                       ref('bedrock_batch_jobs'), 'output_file_uri') }}

),

split as (

    select filename, string_split(content, chr(10)) as parts
    from source

),

lines as (

    select filename, unnest(parts) as line, generate_subscripts(parts, 1) as line_number
    from split

),

parsed as (

    {# Every field in one json_extract_string call: each line is parsed once, not once per field;
       a line that is not JSON gives null (try), and is kept as malformed. #}
    select
        filename,
        line,
        line_number,
        try(json_extract_string(line, [
            '$.recordId',                                   -- 1
            '$.modelOutput.content[0].text',                -- 2  Claude
            '$.modelOutput.output.message.content[0].text', -- 3  Converse, Nova
            '$.modelOutput.generation',                     -- 4  Llama
            '$.modelOutput.model',                          -- 5
            '$.modelOutput.stop_reason',                    -- 6
            '$.modelOutput.stopReason',                     -- 7
            '$.error.errorMessage',                         -- 8
            '$.error.errorCode',                            -- 9
            '$.modelOutput.usage.input_tokens',             -- 10
            '$.modelOutput.usage.inputTokens',              -- 11
            '$.modelOutput.prompt_token_count',             -- 12
            '$.modelOutput.usage.output_tokens',            -- 13
            '$.modelOutput.usage.outputTokens',             -- 14
            '$.modelOutput.generation_token_count',         -- 15
            '$.modelInput.max_tokens',                      -- 16
            '$.modelInput.inferenceConfig.maxTokens',       -- 17
            '$.modelInput.max_gen_len',                     -- 18
            '$.modelInput.temperature',                     -- 19
            '$.modelInput.inferenceConfig.temperature',     -- 20
            '$.modelInput.top_p',                           -- 21
            '$.modelInput.inferenceConfig.topP',            -- 22
            '$.modelInput.top_k',                           -- 23
            '$.modelInput.inferenceConfig.topK',            -- 24
            '$.error',                                      -- 25
            '$.error.retryable',                            -- 26
            '$.modelInput.additionalModelRequestFields.top_k',                -- 27  Converse, Claude
            '$.modelInput.additionalModelRequestFields.inferenceConfig.topK', -- 28  Converse, Nova
            '$.modelOutput.results[0].outputText',          -- 29  Titan Text
            '$.modelOutput.inputTextTokenCount',            -- 30  Titan Text
            '$.modelOutput.results[0].tokenCount',          -- 31  Titan Text
            '$.modelOutput.results[0].completionReason',    -- 32  Titan Text
            '$.modelInput.textGenerationConfig.maxTokenCount', -- 33 Titan Text
            '$.modelInput.textGenerationConfig.temperature',   -- 34 Titan Text
            '$.modelInput.textGenerationConfig.topP'           -- 35 Titan Text
        ])) as v
    from lines
    where line <> ''

),

checked as (

    select *, v is not null as is_json from parsed

),

renamed as (

    select
        ---------- ids
        filename || ':' || line_number::varchar as output_line_id,
        regexp_extract(filename, '/([^/]+)/[^/]+$', 1) as output_group_id,
        case when filename not like '%/on-demand/%' then regexp_extract(filename, '/([a-z0-9]{12})/[^/]+$', 1) end
            as batch_job_id,
        v[1] as record_id,

        ---------- strings
        coalesce(v[2], v[3], v[4], v[29]) as answer_text,
        v[5] as response_model,
        coalesce(v[6], v[7], v[32]) as stop_reason,
        v[8] as error_message,
        case when filename like '%/on-demand/%' then 'on_demand' else 'batch' end as inference_mode,
        filename as output_file_uri,
        case when not is_json then left(line, 200) end as malformed_line_excerpt,

        ---------- numerics
        {# AWS documents an integer HTTP-style code; a line with a text code (for example
           "ThrottlingException") is kept with the code as given, never failing the model. #}
        v[9] as error_code,
        coalesce(v[10], v[11], v[12], v[30])::bigint as input_tokens,
        coalesce(v[13], v[14], v[15], v[31])::bigint as output_tokens,
        coalesce(v[16], v[17], v[18], v[33])::integer as max_tokens,
        coalesce(v[19], v[20], v[34])::double as temperature,
        coalesce(v[21], v[22], v[35])::double as top_p,
        coalesce(v[23], v[24], v[27], v[28])::integer as top_k,

        ---------- booleans
        not is_json or v[1] is null as is_malformed,
        v[25] is not null as is_error,
        coalesce(
            try_cast(v[26] as boolean),
            try_cast(v[9] as integer) = 429 or try_cast(v[9] as integer) >= 500,
            regexp_matches(v[9], '(?i)throttl|toomanyrequests|internal|serviceunavailable|timeout|modelerror|5\d\d'),
            false
        ) as is_error_retryable,

        ---------- timestamps
        current_timestamp as loaded_at

    from checked

)

select * from renamed
