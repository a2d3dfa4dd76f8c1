{# dbt-duckdb builds an incremental Python model's new rows in `<model>__dbt_tmp<timestamp>`, a
   real table (Python models cannot create temporary ones) in the database's default schema, which
   it does not drop. Run as a post-hook of the batch models: drops every such table of the model,
   in any schema of its database, so none is left behind. #}
{% macro drop_python_tmp_tables(relation) -%}
    {%- if execute -%}
        {%- set found -%}
            select table_schema, table_name from information_schema.tables
            where table_catalog = {{ bedrock_ext.sql_string(relation.database) }}
                and starts_with(table_name, {{ bedrock_ext.sql_string(relation.identifier ~ '__dbt_tmp') }})
                and table_type = 'BASE TABLE'
        {%- endset -%}
        {%- for row in run_query(found) -%}
            {%- do run_query('drop table if exists ' ~ adapter.quote(relation.database) ~ '.' ~ adapter.quote(row[0]) ~ '.' ~ adapter.quote(row[1])) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# dbt's on-run-end: release the S3 build lease of the project's prefix that the plugin took when
   it started (bedrock_ext.pipeline.lease; profiles.yml plugin config build_lease_wait_s). #}
{% macro build_lease(action) -%}
    {%- if execute -%}
    select bedrock_ext_build_lease({{ bedrock_ext.sql_string(action) }})
    {%- else -%}
    select 'not executing'
    {%- endif -%}
{%- endmacro %}

{# dbt's on-run-end on a DuckLake target (the warehouse's database is a DuckLake catalog): expire
   the snapshots older than var lake_retention_hours, merge adjacent small files, delete the files
   expired that long ago. Nothing on other targets, or with the var null. #}
{% macro lake_maintenance() -%}
    {%- set hours = var('lake_retention_hours', 168) -%}
    {%- if not execute or hours is none or not bedrock_ext.is_ducklake(target.database) -%}
    select 'no DuckLake maintenance'
    {%- else -%}
        {%- if hours is not number or hours < 0 -%}
            {{ exceptions.raise_compiler_error("var lake_retention_hours must be a number of hours >= 0 (or null "
                ~ "for no maintenance); got " ~ (hours | string) ~ ". Set it in your dbt_project.yml vars.") }}
        {%- endif -%}
        {%- set catalog = bedrock_ext.sql_string(target.database) -%}
        {%- set older = "now() - to_microseconds(" ~ ((hours * 3600 * 1000000) | int) ~ ")" -%}
        {%- set counts = [] -%}
        {%- for step in ["ducklake_expire_snapshots(" ~ catalog ~ ", older_than => " ~ older ~ ")",
                         "ducklake_merge_adjacent_files(" ~ catalog ~ ")",
                         "ducklake_cleanup_old_files(" ~ catalog ~ ", older_than => " ~ older ~ ")"] -%}
            {%- do counts.append(run_query("select count(*) from " ~ step).columns[0].values()[0]) -%}
        {%- endfor -%}
        {%- do log("DuckLake " ~ target.database ~ ": " ~ counts[0] ~ " snapshot(s) older than " ~ hours
                   ~ " h expired, " ~ counts[1] ~ " file group(s) merged, " ~ counts[2] ~ " old file(s) deleted",
                   info=true) -%}
    select 'DuckLake maintenance done'
    {%- endif -%}
{%- endmacro %}

{# True when `database` is an attached DuckLake catalog. #}
{% macro is_ducklake(database) -%}
    {%- set found = run_query("select count(*) from duckdb_databases() where database_name = "
                              ~ bedrock_ext.sql_string(database) ~ " and type = 'ducklake'") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{%- endmacro %}

{# SQL: the group an exported record's answer is read from (int_bedrock_answers.output_group_id):
   its batch job's id, or for the on-demand path its job key. #}
{% macro output_group_of(exports, jobs) -%}
    case when {{ exports }}.inference_mode = 'on_demand' then {{ exports }}.job_key else {{ jobs }}.job_id end
{%- endmacro %}
