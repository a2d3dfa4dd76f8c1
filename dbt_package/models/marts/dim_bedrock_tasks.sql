{# One row per declared task (the global var bedrock_ext_tasks): what the report, BI and anyone
   reading the marts need to know about it without the project's yml: its answer schema, model,
   prompt label, the typed results model that holds its answers as columns (results_model), and
   its report settings. #}
{%- set names = bedrock_ext.tasks().keys() | list | sort %}
with

declared as (

    select * from (values
    {%- for name in names %}
        {%- set spec = bedrock_ext.task(name) %}
        ({{ bedrock_ext.sql_string(name) }},
         {{ bedrock_ext.sql_string(spec.get('prompt_version') or 'v1') }},
         {{ bedrock_ext.sql_string(bedrock_ext.task_model_id(name)) }},
         {{ bedrock_ext.sql_string(tojson(bedrock_ext.task_setting(name, 'answer_schema'))) }},
         {{ bedrock_ext.sql_string(spec.get('results_model') or '') }},
         {{ bedrock_ext.sql_string(tojson(spec.get('report') or {})) }},
         {{ bedrock_ext.sql_string(tojson(bedrock_ext.passthrough_columns(name))) }}){{ "," if not loop.last }}
    {%- endfor %}
    ) t(task_name, prompt_version, model_id, answer_schema, results_model, report, passthrough_columns)

),

final as (

    select
        ---------- ids
        task_name,

        ---------- strings
        prompt_version,
        model_id,
        nullif(results_model, '') as results_model,

        ---------- json
        answer_schema::json as answer_schema,
        report::json as report,
        passthrough_columns::json as passthrough_columns

    from declared

)

select * from final
