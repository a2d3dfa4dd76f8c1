"""Any id form of a model prices the same (issue 15's first part): a bare model id, a cross-region
inference profile id, a foundation-model ARN and an inference-profile ARN all resolve to one price
row in the marts (SQL) and the estimate (Python), and a billed row is never left without a cost."""

from __future__ import annotations

import duckdb
import pytest

from bedrock_ext.pricing import price_for
from bedrock_ext.records import base_model_id
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts
from tests.sql.package_sql import environment

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
FORMS = [HAIKU, f"us.{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
         f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
         "global.anthropic.claude-sonnet-4-20250514-v1:0", "apac.amazon.nova-lite-v1:0", "us-gov.amazon.nova-pro-v1:0"]


def test_python_and_sql_resolve_every_form_alike() -> None:
    _, context = environment({}, {})
    sql = context["bedrock_ext"].base_model_id("m")
    with duckdb.connect() as con:
        got = dict(con.execute(f"select m, {sql} from unnest(?) t(m)", [FORMS]).fetchall())
    assert got == {m: base_model_id(m) for m in FORMS}
    assert {base_model_id(m) for m in FORMS[:4]} == {HAIKU}
    assert base_model_id(FORMS[4]) == "anthropic.claude-sonnet-4-20250514-v1:0"
    assert price_for(FORMS[3]) == price_for(HAIKU)


@pytest.mark.parametrize("model_id", FORMS[1:4], ids=["us-profile", "model-arn", "profile-arn"])
def test_a_build_with_any_id_form_costs_what_the_bare_id_costs(dbt_project: DbtProject, model_id: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write_transcripts(dbt_project, rows=120)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    bare = dbt_project.query("select round(sum(billed_cost_usd), 8), sum(input_tokens) from fct_call_summaries")
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", model_id)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))  # new requests
    assert dbt_project.query("select distinct model_id from fct_call_summaries") == [(model_id,)]
    assert dbt_project.query("select count(*) from fct_call_summaries where billed_cost_usd is null") == [(0,)]
    assert dbt_project.query("select round(sum(billed_cost_usd), 8), sum(input_tokens) from fct_call_summaries") == bare
    assert dbt_project.query("select count(*) from fct_batch_job_costs where batch_cost_usd is null") == [(0,)]
