{# ---------- Models and prices: one way to name a model, one cost formula. #}

{# The foundation model id of any id form: a bare model id, a cross-region or global inference
   profile id (us., eu., apac., global., ... before it) or an ARN of either (the part after the
   last /). Twin of bedrock_ext.records.base_model_id; an application inference profile ARN has no
   model id in it and stays as it is (no price matches it: the unpriced test names it). #}
{% macro base_model_id(model_id) -%}
    regexp_replace(regexp_extract({{ model_id }}, '[^/]*$'), '^(?:us-gov|us|eu|apac|global|jp|au|ca)\.', '')
{%- endmacro %}

{# USD for tokens at a price row `p` (bedrock_model_prices: per million tokens on demand, and the
   batch discount). billing: 'batch', 'on_demand', or a SQL expression that is one of them per row.
   Every cost in every mart is this formula. #}
{% macro cost_usd(input_tokens, output_tokens, p, billing) -%}
    {%- if billing == 'batch' -%}{%- set factor = '(1 - ' ~ p ~ '.batch_discount)' -%}
    {%- elif billing == 'on_demand' -%}{%- set factor = '1' -%}
    {%- else -%}{%- set factor = "(case when " ~ billing ~ " = 'on_demand' then 1 else 1 - " ~ p ~ ".batch_discount end)" -%}
    {%- endif -%}
    round(({{ input_tokens }} * {{ p }}.input_price_per_million + {{ output_tokens }} * {{ p }}.output_price_per_million)
          * {{ factor }} / 1e6, 8)
{%- endmacro %}
