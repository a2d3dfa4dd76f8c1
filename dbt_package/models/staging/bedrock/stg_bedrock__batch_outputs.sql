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

    select * from {{ read_output_lines([bedrock_output_uri() ~ '*/*.jsonl.out', bedrock_on_demand_uri() ~ '*/*.jsonl.out'],
                                       ref('bedrock_batch_jobs'), 'output_file_uri') }}
    where line <> ''

),

parsed as (

    {# The fields in two json_extract_string calls at most (each parses the line once, not once per
       field): the line's own and the default body's (Converse) paths for every line, the other
       body shapes' only for a line that is no error and has no answer where Converse keeps it
       (macros/families.sql). A line that is not JSON gives null (try), and is kept as malformed. #}
    select
        filename,
        line,
        try(json_extract_string(line, {{ bedrock_ext.sql_array(layout['groups']['v']) }})) as v
    from source

),

parsed_rest as (

    select
        filename,
        line,
        v,
        case when v is not null and {{ bedrock_ext.line_value(layout, 'error', 'v') }} is null
                  and {{ bedrock_ext.line_value(layout, 'answer_text', 'v') }} is null
             then try(json_extract_string(line, {{ bedrock_ext.sql_array(layout['groups']['v_rest']) }}))
        end as v_rest
    from parsed

),

checked as (

    {# The line's text is not carried further: only an excerpt of a malformed line, and a hash of
       a line without a recordId (its id). #}
    select
        filename,
        v,
        v_rest,
        v is not null as is_json,
        case when v is null then left(line, 200) end as line_excerpt,
        case when {{ bedrock_ext.line_value(layout, 'record_id') }} is null then md5(line) end as line_hash
    from parsed_rest

),

renamed as materialized (

    {# Materialized: read three times below, the files once. #}
    select
        ---------- ids
        filename || ':' || coalesce({{ bedrock_ext.line_value(layout, 'record_id') }}, 'line-' || line_hash) as line_key,
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
        line_excerpt as malformed_line_excerpt,

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

),

shared_keys as (

    select line_key from renamed group by line_key having count(*) > 1

),

numbered as (

    {# A line's id is its file and recordId (a line without one: a hash of its text). Lines that
       share one (a recordId twice in a file, or identical malformed lines) are told apart by a
       number after the first, so the id stays unique whatever a file holds. Only those lines go
       through the window: a window over every line sorted them all (a fifth of the model's CPU). #}
    select *, 1 as line_key_rank
    from renamed
    where line_key not in (select line_key from shared_keys)

    union all

    select
        *,
        row_number() over (partition by line_key order by malformed_line_excerpt, answer_text, error_message)
            as line_key_rank
    from renamed
    where line_key in (select line_key from shared_keys)

),

final as (

    select
        line_key || case when line_key_rank > 1 then '#' || line_key_rank else '' end as output_line_id,
        * exclude (line_key, line_key_rank)
    from numbered

)

select * from final
