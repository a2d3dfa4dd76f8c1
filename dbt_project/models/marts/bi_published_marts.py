def model(dbt, session):
    """One row per mart published for BI to <warehouse>_bi.duckdb, swapped in atomically (see bedrock_ext.publish)."""
    dbt.config(materialized="table")
    from bedrock_ext.dbt_models import publish_marts

    marts = {"fct_call_summaries": dbt.ref("fct_call_summaries"), "dim_batch_jobs": dbt.ref("dim_batch_jobs"),
             "fct_batch_job_costs": dbt.ref("fct_batch_job_costs")}
    return publish_marts(session, marts, dbt.config.get("bi_database_path"))
