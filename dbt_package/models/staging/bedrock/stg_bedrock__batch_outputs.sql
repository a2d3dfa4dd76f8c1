{# One row per line of every `*.jsonl.out` file Bedrock wrote (batch jobs, and the on-demand path
   for small batches, which writes the same format), successful, failed or malformed.
   Lines are read as text and parsed with DuckDB's JSON functions, so a malformed line is kept
   (is_malformed) rather than dropped.
   Incremental by file: a build reads the files of the jobs that have ended (and on-demand files)
   that it has not loaded yet, each once; a running job's files are left alone until it ends (they
   may change while it runs). A build with nothing new reads no file. #}
{%- set layout = bedrock_ext.output_line_paths() %}
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
       a line that is not JSON gives null (try), and is kept as malformed. Where each model
       family's body shape keeps a field is data (macros/families.sql). #}
    select
        filename,
        line,
        line_number,
        try(json_extract_string(line, [
            {%- for path in layout['paths'] %}
            {{ bedrock_ext.sql_string(path) }}{{ "," if not loop.last }}
            {%- endfor %}
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
        {{ bedrock_ext.line_value(layout, 'record_id') }} as record_id,

        ---------- strings
        {{ bedrock_ext.line_value(layout, 'answer_text') }} as answer_text,
        {{ bedrock_ext.line_value(layout, 'response_model') }} as response_model,
        {{ bedrock_ext.line_value(layout, 'stop_reason') }} as stop_reason,
        {{ bedrock_ext.line_value(layout, 'error_message') }} as error_message,
        case when filename like '%/on-demand/%' then 'on_demand' else 'batch' end as inference_mode,
        filename as output_file_uri,
        case when not is_json then left(line, 200) end as malformed_line_excerpt,

        ---------- numerics
        {# AWS documents an integer HTTP-style code; a line with a text code (for example
           "ThrottlingException") is kept with the code as given, never failing the model. #}
        {{ bedrock_ext.line_value(layout, 'error_code') }} as error_code,
        {{ bedrock_ext.line_value(layout, 'input_tokens') }}::bigint as input_tokens,
        {{ bedrock_ext.line_value(layout, 'output_tokens') }}::bigint as output_tokens,
        {{ bedrock_ext.line_value(layout, 'max_tokens') }}::integer as max_tokens,
        {{ bedrock_ext.line_value(layout, 'temperature') }}::double as temperature,
        {{ bedrock_ext.line_value(layout, 'top_p') }}::double as top_p,
        {{ bedrock_ext.line_value(layout, 'top_k') }}::integer as top_k,

        ---------- booleans
        not is_json or {{ bedrock_ext.line_value(layout, 'record_id') }} is null as is_malformed,
        {{ bedrock_ext.line_value(layout, 'error') }} is not null as is_error,
        coalesce(
            try_cast({{ bedrock_ext.line_value(layout, 'error_retryable') }} as boolean),
            try_cast({{ bedrock_ext.line_value(layout, 'error_code') }} as integer) = 429
                or try_cast({{ bedrock_ext.line_value(layout, 'error_code') }} as integer) >= 500,
            regexp_matches({{ bedrock_ext.line_value(layout, 'error_code') }}, '(?i)throttl|toomanyrequests|internal|serviceunavailable|timeout|modelerror|5\d\d'),
            false
        ) as is_error_retryable,

        ---------- timestamps
        current_timestamp as loaded_at

    from checked

)

select * from renamed
