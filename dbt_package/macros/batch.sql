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

{# SQL: the group an exported record's answer is read from (int_bedrock_answers.output_group_id):
   its batch job's id, or for the on-demand path its job key. #}
{% macro output_group_of(exports, jobs) -%}
    case when {{ exports }}.inference_mode = 'on_demand' then {{ exports }}.job_key else {{ jobs }}.job_id end
{%- endmacro %}
