-- Never a silent NULL cost: every row and job with tokens has a price. A row returned here names
-- a model with no row in the bedrock_model_prices seed (by its base id: inference-profile ids and
-- ARNs are resolved), and the log says how to add one.
{%- set missing_sql -%}
    select distinct model_id, {{ bedrock_ext.base_model_id('model_id') }} as base_model_id
    from {{ ref('fct_bedrock_results') }}
    where input_tokens is not null and billed_cost_usd is null
    union
    select distinct model_id, {{ bedrock_ext.base_model_id('model_id') }}
    from {{ ref('fct_batch_job_costs') }}
    where input_token_count is not null and batch_cost_usd is null
{%- endset %}
{%- if execute %}
    {%- for row in run_query(missing_sql) %}
        {{ log("bedrock_ext: no price for model " ~ row[0] ~ " (base id " ~ row[1] ~ "): add a row with model_id = "
               ~ row[1] ~ " to the bedrock_model_prices seed (your own seeds/bedrock_model_prices.csv overrides "
               ~ "the package's), with its on-demand USD per 1M input and output tokens and the batch discount.",
               info=True) }}
    {%- endfor %}
{%- endif %}
select
    model_id,
    base_model_id,
    'no price for ' || base_model_id || ': add it to the bedrock_model_prices seed' as problem
from ({{ missing_sql }})
