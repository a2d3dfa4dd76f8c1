{# The model catalog of this build, one row per Bedrock model: limits, batch support, on-demand
   and batch prices with their date and source. The package's seed bedrock_model_catalog, with the
   user's own rows (the seed or model named by the var model_catalog_overrides) in place of the
   package's for the same model_id; a user row may give only some columns (a newer price): the
   others come from the package's row. The export, the estimate, the budget guard and every cost
   in the marts read this table. #}
{%- set overrides = var('model_catalog_overrides', none) %}
with

packaged as (

    select * from {{ ref('bedrock_model_catalog') }}

),

{%- if overrides %}

overrides as (

    {# Every catalog column, NULL where the user's relation lacks it. #}
    select * from {{ ref(overrides) }}
    union all by name
    select * from packaged where false

),
{%- endif %}

merged as (

    {%- if overrides %}
    select
        model_id,
        {#- every column of the seed but the key: the user's value where given, else the package's #}
        {%- for column in adapter.get_columns_in_relation(ref('bedrock_model_catalog')) | map(attribute='name')
                          if column != 'model_id' %}
        coalesce(overrides.{{ column }}, packaged.{{ column }}) as {{ column }},
        {%- endfor %}
        case when packaged.model_id is null then 'user' else 'user_override' end as catalog_source
    from overrides
    left join packaged using (model_id)
    union all
    select packaged.*, 'package' as catalog_source
    from packaged
    where model_id not in (select model_id from overrides)
    {%- else %}
    select *, 'package' as catalog_source from packaged
    {%- endif %}

),

final as (

    select
        ---------- ids
        model_id,

        ---------- strings
        provider,
        model_name,
        price_source,
        scope_price_source,
        profile_ids,
        exclusive_params,
        limits_source,
        batch_source,
        note,
        catalog_source,

        ---------- numerics
        cast(context_window as bigint) as context_window,
        cast(max_output_tokens as bigint) as max_output_tokens,
        cast(on_demand_input_usd_per_million as double) as on_demand_input_usd_per_million,
        cast(on_demand_output_usd_per_million as double) as on_demand_output_usd_per_million,
        cast(batch_input_usd_per_million as double) as batch_input_usd_per_million,
        cast(batch_output_usd_per_million as double) as batch_output_usd_per_million,
        {%- for scope in ['geo', 'global'] %}
        {%- for column in ['on_demand_input', 'on_demand_output', 'batch_input', 'batch_output'] %}
        cast({{ scope }}_{{ column }}_usd_per_million as double) as {{ scope }}_{{ column }}_usd_per_million,
        {%- endfor %}
        {%- endfor %}

        ---------- booleans
        cast(batch_offered as boolean) as batch_offered,
        cast(batch_converse as boolean) as batch_converse,
        cast(batch_invoke_model as boolean) as batch_invoke_model,
        cast(native_structured_output as boolean) as native_structured_output,
        coalesce(cast(batch_in_region as boolean), true) as batch_in_region,
        batch_input_usd_per_million is not null and batch_output_usd_per_million is not null as is_priced,

        ---------- dates
        cast(price_date as date) as price_date,
        cast(limits_date as date) as limits_date,
        cast(batch_date as date) as batch_date

    from merged

)

select * from final
