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

{# read_text over an S3 glob, or a typed empty relation when nothing matches yet
   (DuckDB raises "No files found" for an empty glob). #}
{% macro read_text_or_empty(pattern) -%}
    {%- set n = 0 -%}
    {%- if execute -%}
        {%- set n = run_query("select count(*) from glob(" ~ sql_string(pattern) ~ ")").columns[0].values()[0] -%}
    {%- endif -%}
    {%- if n > 0 -%}
        (select filename, content from read_text({{ sql_string(pattern) }}))
    {%- else -%}
        (select null::varchar as filename, null::varchar as content where false)
    {%- endif -%}
{%- endmacro %}

{# read_text over the files matching any of `patterns` that are not settled yet: `settled_sql`
   (a query of file URIs, or none) lists the files an incremental model already holds for good.
   A typed empty relation when there is nothing to read. The file list is taken at run time
   (an S3 LIST per pattern); only the files in it are read. #}
{% macro read_unsettled_files(patterns, settled_sql=none) -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set listing -%}
            select file from (
                {%- for pattern in patterns %}
                select file from glob({{ sql_string(pattern) }}){{ " union all" if not loop.last }}
                {%- endfor %}
            ){% if settled_sql %} where file not in ({{ settled_sql }}){% endif %} order by file
        {%- endset -%}
        {%- set files = run_query(listing).columns[0].values() -%}
    {%- endif -%}
    {%- if files | length > 0 -%}
        (select filename, content from read_text([
            {%- for f in files %}{{ sql_string(f) }}{{ ", " if not loop.last }}{% endfor -%}
        ]))
    {%- else -%}
        (select null::varchar as filename, null::varchar as content where false)
    {%- endif -%}
{%- endmacro %}

{# The files an incremental staging model already holds settled (a query of their URIs in
   `uri_column`), or none on a first build and for a table from before 0.3 (no is_file_settled
   column: its first build reads every file once). #}
{% macro settled_files(uri_column) -%}
    {%- if is_incremental() and 'is_file_settled' in adapter.get_columns_in_relation(this) | map(attribute='name') -%}
        {{ return("select " ~ uri_column ~ " from " ~ this ~ " where is_file_settled") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{# True when a job status is terminal: the job's output files will not change any more. #}
{% macro is_job_ended(status) -%}
    coalesce({{ status }} in ('Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired'), false)
{%- endmacro %}