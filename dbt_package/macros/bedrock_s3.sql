{# A config value as a quoted SQL string literal: values reach SQL only this way. #}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{# A setting that an env var may override (same names as the batch models' config). #}
{% macro bedrock_setting(name) -%}
    {%- set env_names = {'bedrock_model_id': 'BEDROCK_EXT_MODEL_ID', 's3_bucket': 'BEDROCK_EXT_S3_BUCKET',
                         's3_prefix': 'BEDROCK_EXT_S3_PREFIX', 'role_arn': 'BEDROCK_EXT_ROLE_ARN'} -%}
    {{- env_var(env_names[name], var(name)) if name in env_names else var(name) -}}
{%- endmacro %}

{# Where Bedrock writes job outputs: s3://<bucket>/<prefix>/output/ (one folder per job id). #}
{% macro bedrock_output_uri() -%}
    s3://{{ bedrock_setting('s3_bucket') }}/{{ bedrock_setting('s3_prefix') | string | trim('/') }}/output/
{%- endmacro %}

{# Where the on-demand path (small batches) writes its answers, in the same line format. #}
{% macro bedrock_on_demand_uri() -%}
    s3://{{ bedrock_setting('s3_bucket') }}/{{ bedrock_setting('s3_prefix') | string | trim('/') }}/on-demand/
{%- endmacro %}

{# The output files to load now: those matching any of `patterns` that are on-demand files
   (written whole, once) or belong to a batch job that has ended according to `jobs`
   (bedrock_batch_jobs: Completed, PartiallyCompleted, Failed, Stopped, Expired), minus those the
   incremental model (its `uri_column`) already loaded, in order. A running job's files are not
   read: Bedrock writes them while the job runs (and the emulator does too), so they may change
   under the reader; its rows stay pending until the job ends. The list is taken at run time (an
   S3 LIST per pattern); empty at parse time. #}
{% macro output_files_to_load(patterns, jobs, uri_column) -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set listing -%}
            select file from (
                {%- for pattern in patterns %}
                select file from glob({{ sql_string(pattern) }}){{ " union all" if not loop.last }}
                {%- endfor %}
            )
            where (file like '%/on-demand/%'
                   or regexp_extract(file, '/([a-z0-9]{12})/[^/]+$', 1) in (
                       select job_id from {{ jobs }} where {{ bedrock_ext.is_job_ended('job_status') }}))
            {%- if bedrock_ext.has_column(this, 'loaded_at') %}
                and file not in (select {{ uri_column }} from {{ this }})
            {%- endif %}
            order by file
        {%- endset -%}
        {%- set files = run_query(listing).columns[0].values() -%}
    {%- endif -%}
    {{ return(files | list) }}
{%- endmacro %}

{# The output files to load now (output_files_to_load), each whole: (filename, content) by
   read_text; a typed empty relation when there is nothing to read. For small files (manifests). #}
{% macro read_output_files(patterns, jobs, uri_column) -%}
    {%- set files = bedrock_ext.output_files_to_load(patterns, jobs, uri_column) -%}
    {%- if files | length > 0 -%}
        (select filename, content from read_text([
            {%- for f in files %}{{ sql_string(f) }}{{ ", " if not loop.last }}{% endfor -%}
        ]))
    {%- else -%}
        (select null::varchar as filename, null::varchar as content where false)
    {%- endif -%}
{%- endmacro %}

{# The output files to load now (output_files_to_load), one row per line: (filename, line). DuckDB's
   CSV reader does the reading, as one column with no quoting and a NUL delimiter: it reads each
   file in parallel ranges of `bedrock_ext_output_read_bytes` (32 MiB), where read_text would GET
   a whole file in one thread (twice as slow over S3 in `make bench`). A line is kept as it is,
   quotes and backslashes included, so a malformed line reaches the staging as text. Limits: a
   line longer than that size fails the read with DuckDB's "maximum line size" error (raise the
   var; the largest context Bedrock batch offers, 1M tokens, is well under it); a NUL byte, which
   no JSON line holds, ends the line's text there, and a line that starts with one is read as empty
   (its record, if any, shows as missing from the output). Empty lines come back null. #}
{% macro read_output_lines(patterns, jobs, uri_column) -%}
    {%- set files = bedrock_ext.output_files_to_load(patterns, jobs, uri_column) -%}
    {%- set size = var('bedrock_ext_output_read_bytes', 33554432) | int -%}
    {%- if files | length > 0 -%}
        (select filename, line from read_csv([
            {%- for f in files %}{{ sql_string(f) }}{{ ", " if not loop.last }}{% endfor -%}
        ], columns = {'line': 'VARCHAR'}, filename = true, auto_detect = false, header = false,
           delim = chr(0), quote = '', escape = '', new_line = '\n', strict_mode = false,
           max_line_size = {{ size }}, buffer_size = {{ size }}))
    {%- else -%}
        (select null::varchar as filename, null::varchar as line where false)
    {%- endif -%}
{%- endmacro %}

{# An incremental model's own table exists and has `column` (a table from before 0.3 lacks
   loaded_at: its first build reads every file once). #}
{% macro has_column(relation, column) -%}
    {{ return(is_incremental() and column in adapter.get_columns_in_relation(relation) | map(attribute='name')) }}
{%- endmacro %}

{# Bedrock's batch job statuses (ModelInvocationJobStatus), and the ended ones: the SQL twin of
   bedrock_ext.aws.jobs.JobStatus (tests/unit/test_statuses.py holds them, and the yml accepted_values
   of job_status, equal). #}
{% macro job_statuses() -%}
    {{ return(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Stopping', 'Completed', 'PartiallyCompleted',
               'Failed', 'Stopped', 'Expired']) }}
{%- endmacro %}

{% macro ended_job_statuses() -%}
    {{ return(['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired']) }}
{%- endmacro %}

{# True when a job status is terminal: the job's output files will not change any more. #}
{% macro is_job_ended(status) -%}
    coalesce({{ status }} in {{ bedrock_ext.sql_list(bedrock_ext.ended_job_statuses()) }}, false)
{%- endmacro %}
