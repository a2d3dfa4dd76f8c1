{# ---------- Models and prices: one way to name a model, one cost formula. #}

{# The foundation model id of any id form: a bare model id, a cross-region or global inference
   profile id (us., eu., apac., global., ... before it), an ARN of either (the part after the last
   /), or an application inference profile ARN that the var application_inference_profiles maps to
   a model. Twin of bedrock_ext.catalog.base_model_id; an unmapped application profile ARN stays
   as it is (no catalog row matches it: the unpriced test names it). #}
{% macro base_model_id(model_id) -%}
    {%- set profiles = var('application_inference_profiles', {}) or {} -%}
    {%- set id_sql -%}
        {%- if profiles -%}
        coalesce(case {{ model_id }}
            {%- for arn, model in profiles | dictsort %} when {{ bedrock_ext.sql_string(arn) }} then {{ bedrock_ext.sql_string(model) }}{% endfor %}
        end, {{ model_id }})
        {%- else -%}{{ model_id }}{%- endif -%}
    {%- endset -%}
    regexp_replace(regexp_extract({{ id_sql }}, '[^/]*$'), '^(?:us-gov|us|eu|apac|global|jp|au|ca)\.', '')
{%- endmacro %}

{# USD for tokens at a catalog row `p` (dim_bedrock_models: USD per 1M tokens on demand and in
   batch). billing: 'batch', 'on_demand', or a SQL expression that is one of them per row. Every
   cost in every mart is this formula. #}
{% macro cost_usd(input_tokens, output_tokens, p, billing) -%}
    {%- set batch = input_tokens ~ ' * ' ~ p ~ '.batch_input_usd_per_million + ' ~ output_tokens ~ ' * ' ~ p ~ '.batch_output_usd_per_million' -%}
    {%- set on_demand = input_tokens ~ ' * ' ~ p ~ '.on_demand_input_usd_per_million + ' ~ output_tokens ~ ' * ' ~ p ~ '.on_demand_output_usd_per_million' -%}
    {%- if billing == 'batch' -%}{%- set usd = batch -%}
    {%- elif billing == 'on_demand' -%}{%- set usd = on_demand -%}
    {%- else -%}{%- set usd = "case when " ~ billing ~ " = 'on_demand' then " ~ on_demand ~ " else " ~ batch ~ " end" -%}
    {%- endif -%}
    round(({{ usd }}) / 1e6, 8)
{%- endmacro %}
