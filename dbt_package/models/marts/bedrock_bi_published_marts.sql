{# One row per mart published for BI: the package's marts and every task's typed results model are
   copied into the DuckDB file named by the var bi_database_path (beside_warehouse:
   <warehouse>_bi.duckdb) and swapped in atomically at the end of the build; BI tools read that
   file read-only at any moment, also while a build waits on Bedrock (the warehouse file itself is
   locked by the build). Off (not built) while bi_database_path is null. #}
{{ config(materialized='table', enabled=var('bi_database_path', none) is not none,
          post_hook={"sql": "{{ bedrock_ext.publish_for_bi() }}", "transaction": false}) }}
with

published as (

    {%- for name, relation in bedrock_ext.bi_marts() %}
    select {{ bedrock_ext.sql_string(name) }} as mart_name, (select count(*) from {{ relation }}) as row_count
    {{- " union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        ---------- ids
        mart_name,

        ---------- strings
        {{ bedrock_ext.bi_path_sql() }} as published_path,

        ---------- numerics
        row_count,

        ---------- timestamps
        now() as published_at

    from published

)

select * from final
