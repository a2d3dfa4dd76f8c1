-- Costs are the manifest's tokens at the seed's prices, batch = on-demand x (1 - discount).
select c.batch_job_id
from {{ ref('fct_batch_job_costs') }} c
join {{ ref('bedrock_model_prices') }} p on {{ bedrock_ext.base_model_id('c.model_id') }} = p.model_id
where abs(c.on_demand_cost_usd
          - (c.input_token_count * p.input_price_per_million + c.output_token_count * p.output_price_per_million) / 1e6) > 1e-6
   or abs(c.batch_cost_usd - c.on_demand_cost_usd * (1 - p.batch_discount)) > 1e-6
   or abs(c.savings_usd - (c.on_demand_cost_usd - c.batch_cost_usd)) > 1e-6
