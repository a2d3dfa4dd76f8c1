-- Never a silent NULL cost: every row and job with tokens has a price. A row returned here names
-- a model with no priced row in dim_bedrock_models (by its base id: inference-profile ids and
-- ARNs are resolved), and the log says how to add one.
{%- set missing_sql -%}
    select distinct model_id, {{ bedrock_ext.base_model_id('model_id') }} as base_model_id
    from {{ ref('fct_bedrock_results') }}
    where input_tokens is not null and billed_cost_usd is null
    union
    select distinct model_id, base_model_id
    from {{ ref('fct_batch_job_costs') }}
    where input_token_count is not null and batch_cost_usd is null
{%- endset %}
{%- if execute %}
    {%- for row in run_query(missing_sql) %}
        {{ log("bedrock_ext: no price for model " ~ row[0] ~ " (base id " ~ row[1] ~ "): add a row with model_id = "
               ~ row[1] ~ " and its on-demand and batch USD per 1M input and output tokens to a seed of your "
               ~ "own, and name that seed in the package var model_catalog_overrides (README 'Models and prices'). "
               ~ "An application inference profile ARN needs its model in application_inference_profiles.",
               info=True) }}
    {%- endfor %}
{%- endif %}
select
    model_id,
    base_model_id,
    'no price for ' || base_model_id || ': add it to the model catalog (var model_catalog_overrides)' as problem
from ({{ missing_sql }})
