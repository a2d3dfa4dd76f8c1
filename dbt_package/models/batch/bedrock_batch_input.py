def model(dbt, session):
    """One row per request per export (attempt) as Bedrock batch JSONL in S3 (see bedrock_ext.warehouse.glue)."""
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="append_new_columns")
    from bedrock_ext.warehouse.glue import batch_input

    return batch_input(session, dbt.ref("int_bedrock_requests"), dbt.this if dbt.is_incremental else None,
                       dbt.config.get("bedrock_ext"), dbt.ref("dim_bedrock_models"),
                       inputs=dbt.ref("stg_bedrock_ext__input_rows"))
