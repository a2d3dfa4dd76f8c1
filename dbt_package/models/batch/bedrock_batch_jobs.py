def model(dbt, session):
    """One row per Bedrock batch job: submitted (or re-attached) and awaited (see bedrock_ext.warehouse.glue)."""
    dbt.config(materialized="incremental", incremental_strategy="delete+insert", unique_key="job_key",
               on_schema_change="append_new_columns")
    from bedrock_ext.warehouse.glue import batch_jobs

    return batch_jobs(session, dbt.ref("bedrock_batch_input"), dbt.this if dbt.is_incremental else None,
                      dbt.config.get("bedrock_ext"), dbt.ref("dim_bedrock_models"))
