"""Any id form of a model prices the same (issue 15): a bare model id, cross-region and global
inference profile ids, a foundation-model ARN, an inference-profile ARN and a mapped application
inference profile ARN all resolve to one catalog row in the marts (SQL) and the estimate (Python),
and a billed row is never left without a cost."""

from __future__ import annotations

import json

import duckdb
import pytest

from bedrock_ext.catalog import base_model_id
from bedrock_ext.pricing import price_for
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts
from tests.sql.package_sql import environment

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k2m4q6s8u0w2"
FORMS = [HAIKU, f"us.{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
         f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
         f"global.{HAIKU_45}", "apac.amazon.nova-lite-v1:0", "us-gov.amazon.nova-pro-v1:0", APP_PROFILE]
PROFILES = {APP_PROFILE: f"us.{HAIKU}"}


def test_python_and_sql_resolve_every_form_alike() -> None:
    var = {"application_inference_profiles": PROFILES}.get
    _, context = environment({}, {}, {"var": lambda name, default=None: var(name, default)})
    sql = context["bedrock_ext"].base_model_id("m")
    with duckdb.connect() as con:
        got = dict(con.execute(f"select m, {sql} from unnest(?) t(m)", [FORMS]).fetchall())
    assert got == {m: base_model_id(m, PROFILES) for m in FORMS}
    assert {base_model_id(m, PROFILES) for m in [*FORMS[:4], APP_PROFILE]} == {HAIKU}
    assert base_model_id(FORMS[4]) == HAIKU_45
    assert price_for(FORMS[3]) == price_for(HAIKU)


# The inference-profile ARN form resolves like the others (test_python_and_sql_resolve_every_form_alike);
# a build each for the forms the issue names, and the application profile, keeps the suite's time.
@pytest.mark.parametrize(("bare", "model_id"), [
    (HAIKU, f"us.{HAIKU}"), (HAIKU, FORMS[2]), (HAIKU_45, f"global.{HAIKU_45}"), (HAIKU, APP_PROFILE)],
    ids=["us-profile", "model-arn", "global-profile", "application-profile"])
def test_a_build_with_any_id_form_costs_what_the_bare_id_costs(dbt_project: DbtProject, bare: str, model_id: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps({
        "timings": {"submitted_s": 0.02, "validating_s": 0.02, "scheduled_s": 0.02, "in_progress_s": 0.2},
        "application_inference_profiles": PROFILES}))  # the account's profile, as AWS knows it
    variables = {"poll_interval_s": 0.05, "application_inference_profiles": PROFILES}
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", bare)
    assert_all_passed(dbt_project.dbt(["build"], **variables))
    cost = "select round(sum(billed_cost_usd), 8), sum(input_tokens) from fct_call_summaries"
    bare_cost = dbt_project.query(cost)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", model_id)
    assert_all_passed(dbt_project.dbt(["build"], **variables))  # new requests
    assert dbt_project.query("select distinct model_id from fct_call_summaries") == [(model_id,)]
    assert dbt_project.query("select count(*) from fct_call_summaries where billed_cost_usd is null") == [(0,)]
    assert dbt_project.query(cost) == bare_cost
    assert dbt_project.query("select count(*) from fct_batch_job_costs where batch_cost_usd is null") == [(0,)]
    assert dbt_project.query("select distinct base_model_id from dim_batch_jobs") == [(bare,)]


def test_an_unmapped_application_profile_is_refused_before_anything_is_uploaded(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", APP_PROFILE)
    result = dbt_project.dbt(["build"], poll_interval_s=0.05)
    assert not result.success
    errors = [str(r.message) for r in result.result if str(r.status) == "error"]
    assert any("application_inference_profiles" in e for e in errors), errors
    assert dbt_project.query("select count(*) from information_schema.tables "
                             "where table_name = 'bedrock_batch_jobs'") == [(0,)]  # nothing submitted
