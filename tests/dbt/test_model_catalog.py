"""The model catalog is data the user can override without touching Python (issue 15): a seed of
their own, named in model_catalog_overrides, replaces the package's price of a model for the
export's budget guard (Python) and for every cost in the marts (SQL), and adds models."""

from __future__ import annotations

from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
OVERRIDES = f"""model_id,provider,context_window,max_output_tokens,batch_offered,batch_converse,batch_invoke_model,native_structured_output,on_demand_input_usd_per_million,on_demand_output_usd_per_million,batch_input_usd_per_million,batch_output_usd_per_million,price_date,price_source
{HAIKU},,,,,,,,2.5,12.5,1.25,6.25,2026-11-01,our contract (ten times the list price)
acme.private-7b-v1:0,Acme,32000,2048,true,true,false,false,0.2,0.4,0.1,0.2,2026-11-01,internal
"""


def test_a_users_rows_price_the_budget_guard_and_the_marts(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=120)
    (dbt_project.root / "seeds").mkdir(exist_ok=True)
    (dbt_project.root / "seeds" / "my_bedrock_prices.csv").write_text(OVERRIDES)
    variables = {"poll_interval_s": 0.05, "model_catalog_overrides": "my_bedrock_prices"}

    # At the package's price the upper bound of 120 records is about $0.05; at ten times it, $0.5.
    refused = dbt_project.dbt(["build"], **variables, bedrock_budget_usd=0.2)
    errors = [str(r.message) for r in refused.result if str(r.status) == "error"]
    assert any("bedrock_budget_usd" in e for e in errors), errors
    assert dbt_project.query("select count(*) from information_schema.tables "
                             "where table_name = 'bedrock_batch_jobs'") == [(0,)]  # nothing submitted

    assert_all_passed(dbt_project.dbt(["build"], **variables))
    assert dbt_project.query("select model_id, catalog_source, context_window, batch_input_usd_per_million, "
                             "price_source from dim_bedrock_models where catalog_source <> 'package' "
                             "order by model_id") == [
        ("acme.private-7b-v1:0", "user", 32000, 0.1, "internal"),
        (HAIKU, "user_override", 200000, 1.25, "our contract (ten times the list price)")]
    (jobs, wrong), = dbt_project.query(
        "select count(*), count(*) filter (where abs(batch_cost_usd - (input_token_count * 1.25 "
        "+ output_token_count * 6.25) / 1e6) > 1e-6) from fct_batch_job_costs")
    assert jobs >= 1 and wrong == 0
    assert dbt_project.query("select count(*) from fct_call_summaries where billed_cost_usd is null "
                             "and input_tokens is not null") == [(0,)]
