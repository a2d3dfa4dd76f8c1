-- Costs are the manifest's tokens at the catalog's prices (dim_bedrock_models) for the job's
-- endpoint scope (in-Region, geographic or global profile), on demand and in batch.
select c.batch_job_id
from {{ ref('fct_batch_job_costs') }} c
join {{ ref('dim_bedrock_models') }} p on c.base_model_id = p.model_id
where abs(c.on_demand_cost_usd - (c.input_token_count * {{ bedrock_ext.scoped_price('p', 'on_demand_input_usd_per_million', 'c.endpoint_scope') }}
                                  + c.output_token_count * {{ bedrock_ext.scoped_price('p', 'on_demand_output_usd_per_million', 'c.endpoint_scope') }}) / 1e6) > 1e-6
   or abs(c.batch_cost_usd - (c.input_token_count * {{ bedrock_ext.scoped_price('p', 'batch_input_usd_per_million', 'c.endpoint_scope') }}
                              + c.output_token_count * {{ bedrock_ext.scoped_price('p', 'batch_output_usd_per_million', 'c.endpoint_scope') }}) / 1e6) > 1e-6
   or abs(c.savings_usd - (c.on_demand_cost_usd - c.batch_cost_usd)) > 1e-6
