def model(dbt, session):
    """One row per Bedrock batch job: submitted (or re-attached) and awaited (see bedrock_ext.dbt_models)."""
    dbt.config(materialized="incremental", incremental_strategy="delete+insert", unique_key="job_key",
               on_schema_change="append_new_columns")
    from bedrock_ext.dbt_models import batch_jobs

    this = dbt.this if dbt.is_incremental else None
    return batch_jobs(session, dbt.ref("bedrock_batch_input"), this, dbt.config.get("bedrock_ext"),
                      dbt.ref("dim_bedrock_models"))
