import duckdb


def model(dbt, session):
    """One row per summary request per export (attempt) as Bedrock batch JSONL in S3 (see bedrock_ext.dbt_models)."""
    dbt.config(materialized="incremental", incremental_strategy="append")
    from bedrock_ext.dbt_models import batch_input

    this, previous = None, None
    if dbt.is_incremental:
        this = dbt.this
        try:  # the marts as the previous build left them: which records are due for a retry
            previous = dbt.source("previous_build", "fct_call_summaries")
        except duckdb.CatalogException:
            previous = None
    return batch_input(session, dbt.ref("int_summary_requests"), this, previous, dbt.config.get("bedrock_ext"))
