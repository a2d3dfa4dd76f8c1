{# The input relation named by the `input` var: a model or seed of the root project (its name), or
   a source ({source: <name>, table: <name>}). dbt resolves it at parse time, so the dependency is
   in the DAG like any ref; the ref names the root project, so the package never shadows it. #}
{% macro input_relation() -%}
    {%- set input = var('input') -%}
    {%- if input is mapping and 'source' in input and 'table' in input -%}
        {{ source(input['source'], input['table']) }}
    {%- elif input is string and input | trim != '' and input | lower != 'none' -%}
        {{ ref(project_name, input) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "bedrock_ext: var 'input' must name the relation with the text: a model or seed of your "
            ~ "project (input: my_model) or a source (input: {source: my_source, table: my_table}); got "
            ~ (input | string) ~ ". Set it under vars: bedrock_ext: in your dbt_project.yml.") }}
    {%- endif -%}
{%- endmacro %}

{# A column of the input relation named by a var, as a quoted identifier. #}
{% macro input_column(var_name) -%}
    {%- set name = var(var_name) -%}
    {%- if name is none or name | string | trim == '' -%}
        {{ exceptions.raise_compiler_error("bedrock_ext: var '" ~ var_name ~ "' must name a column of the input relation") }}
    {%- endif -%}
    {{ adapter.quote(name) }}
{%- endmacro %}

{# The passthrough_columns var as a list of names (a single name is accepted too). #}
{% macro passthrough_columns() -%}
    {%- set names = var('passthrough_columns') or [] -%}
    {{ return([names] if names is string else names) }}
{%- endmacro %}

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
