def model(dbt, session):
    """One row per summary request exported to S3 as Bedrock batch JSONL (see bedrock_ext.dbt_models)."""
    dbt.config(materialized="incremental", incremental_strategy="append")
    from bedrock_ext.dbt_models import batch_input

    this = dbt.this if dbt.is_incremental else None
    return batch_input(session, dbt.ref("int_summary_requests"), this, dbt.config.get("bedrock_ext"))
