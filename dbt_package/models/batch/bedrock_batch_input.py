def model(dbt, session):
    """One row per request per export (attempt) as Bedrock batch JSONL in S3 (see bedrock_ext.dbt_models)."""
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="append_new_columns")
    from bedrock_ext.dbt_models import batch_input, previous_results

    this = dbt.this if dbt.is_incremental else None
    previous = previous_results(session, this) if this is not None else None
    return batch_input(session, dbt.ref("int_bedrock_requests"), this, previous, dbt.config.get("bedrock_ext"),
                       dbt.ref("dim_bedrock_models"))
