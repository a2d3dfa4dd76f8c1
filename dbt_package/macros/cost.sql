{# ---------- Models and prices: one way to name a model, one cost formula. #}

{# An id with the var application_inference_profiles applied: a mapped application inference
   profile ARN becomes the id it runs; any other id stays as it is. #}
{% macro mapped_model_id(model_id) -%}
    {%- set profiles = var('application_inference_profiles', {}) or {} -%}
    {%- if profiles -%}
    coalesce(case {{ model_id }}
        {%- for arn, model in profiles | dictsort %} when {{ bedrock_ext.sql_string(arn) }} then {{ bedrock_ext.sql_string(model) }}{% endfor %}
    end, {{ model_id }})
    {%- else -%}{{ model_id }}{%- endif -%}
{%- endmacro %}

{# The system inference profile prefixes (geographic ones and global.), as a regex alternation.
   Twin of bedrock_ext.request.catalog.GEO_PREFIXES. #}
{% macro profile_prefixes() -%}us-gov|us|eu|apac|global|jp|au|ca{%- endmacro %}

{# The foundation model id of any id form: a bare model id, a cross-region or global inference
   profile id (us., eu., apac., global., ... before it), an ARN of either (the part after the last
   /), or an application inference profile ARN that the var application_inference_profiles maps to
   a model. Twin of bedrock_ext.request.catalog.base_model_id; an unmapped application profile ARN stays
   as it is (no catalog row matches it: the unpriced test names it). #}
{% macro base_model_id(model_id) -%}
    regexp_replace(regexp_extract({{ bedrock_ext.mapped_model_id(model_id) }}, '[^/]*$'), '^(?:{{ bedrock_ext.profile_prefixes() }})\.', '')
{%- endmacro %}

{# The endpoint scope of any id form, which chooses its price: 'global' (a global. inference
   profile), 'geo' (us., eu., apac., ... profiles) or 'in_region' (a bare id or foundation-model
   ARN); an application inference profile ARN has the scope of the id it is mapped to. Twin of
   bedrock_ext.request.catalog.endpoint_scope. #}
{% macro endpoint_scope(model_id) -%}
    case regexp_extract(regexp_extract({{ bedrock_ext.mapped_model_id(model_id) }}, '[^/]*$'), '^({{ bedrock_ext.profile_prefixes() }})\.', 1)
        when '' then 'in_region' when 'global' then 'global' else 'geo' end
{%- endmacro %}

{# One price column of a catalog row `p` through an endpoint scope: the scope's own figures when
   the row gives all four of them (geo_* / global_*), else the in-Region column. Twin of
   ModelEntry.prices. #}
{% macro scoped_price(p, column, scope) -%}
    {%- if scope is none -%}{{ p }}.{{ column }}{%- else -%}
    {%- set cols = ['on_demand_input_usd_per_million', 'on_demand_output_usd_per_million', 'batch_input_usd_per_million', 'batch_output_usd_per_million'] -%}
    coalesce(case {{ scope }}
        {%- for s in ['geo', 'global'] %}
        when '{{ s }}' then case when {% for c in cols %}{{ p }}.{{ s }}_{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %} then {{ p }}.{{ s }}_{{ column }} end
        {%- endfor %}
    end, {{ p }}.{{ column }})
    {%- endif -%}
{%- endmacro %}

{# USD for tokens at a catalog row `p` (dim_bedrock_models: USD per 1M tokens on demand and in
   batch) through the endpoint scope `scope` (a SQL expression; none: in-Region). billing: 'batch',
   'on_demand', or a SQL expression that is one of them per row. Every cost in every mart is this
   formula. #}
{% macro cost_usd(input_tokens, output_tokens, p, billing, scope=none) -%}
    {%- set batch = input_tokens ~ ' * ' ~ bedrock_ext.scoped_price(p, 'batch_input_usd_per_million', scope) ~ ' + ' ~ output_tokens ~ ' * ' ~ bedrock_ext.scoped_price(p, 'batch_output_usd_per_million', scope) -%}
    {%- set on_demand = input_tokens ~ ' * ' ~ bedrock_ext.scoped_price(p, 'on_demand_input_usd_per_million', scope) ~ ' + ' ~ output_tokens ~ ' * ' ~ bedrock_ext.scoped_price(p, 'on_demand_output_usd_per_million', scope) -%}
    {%- if billing == 'batch' -%}{%- set usd = batch -%}
    {%- elif billing == 'on_demand' -%}{%- set usd = on_demand -%}
    {%- else -%}{%- set usd = "case when " ~ billing ~ " = 'on_demand' then " ~ on_demand ~ " else " ~ batch ~ " end" -%}
    {%- endif -%}
    round(({{ usd }}) / 1e6, 8)
{%- endmacro %}
