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
from tests.dbt.conftest import FAST_JOBS, DbtProject, assert_all_passed, shared_project, write_transcripts
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


COST = "select round(sum(billed_cost_usd), 8), sum(input_tokens) from fct_call_summaries"
PROFILED = {"poll_interval_s": 0.05, "application_inference_profiles": PROFILES}


def _with_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account's application inference profile, as the emulated AWS knows it."""
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps({
        "timings": FAST_JOBS, "application_inference_profiles": PROFILES}))


@pytest.fixture(scope="module")
def haiku_cost(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    """What 120 transcripts cost with the bare Claude 3 Haiku id (the emulator is deterministic)."""
    with shared_project(tmp_path_factory, "bare") as project:
        write_transcripts(project, rows=120)
        assert_all_passed(project.dbt(["build"], poll_interval_s=0.05))
        return project.query(COST)


def _assert_priced_as(project: DbtProject, model_id: str, bare: str, bare_cost: list[tuple]) -> None:
    assert project.query("select distinct model_id from fct_call_summaries") == [(model_id,)]
    assert project.query("select count(*) from fct_call_summaries where billed_cost_usd is null") == [(0,)]
    assert project.query(COST) == bare_cost
    assert project.query("select count(*) from fct_batch_job_costs where batch_cost_usd is null") == [(0,)]
    assert project.query("select distinct base_model_id from dim_batch_jobs") == [(bare,)]


# The inference-profile ARN form resolves like the others (test_python_and_sql_resolve_every_form_alike);
# a build each for the forms the issue names, and the application profile, keeps the suite's time.
@pytest.mark.parametrize("model_id", [f"us.{HAIKU}", FORMS[2], APP_PROFILE],
                         ids=["us-profile", "model-arn", "application-profile"])
def test_a_build_with_any_id_form_costs_what_the_bare_id_costs(dbt_project: DbtProject, model_id: str,
                                                                haiku_cost: list[tuple],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _with_profiles(monkeypatch)
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", model_id)
    assert_all_passed(dbt_project.dbt(["build"], **PROFILED))
    _assert_priced_as(dbt_project, model_id, HAIKU, haiku_cost)


def test_switching_to_a_global_profile_requests_again_at_the_bare_ids_price(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_profiles(monkeypatch)
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", HAIKU_45)
    assert_all_passed(dbt_project.dbt(["build"], **PROFILED))
    bare_cost = dbt_project.query(COST)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", f"global.{HAIKU_45}")
    assert_all_passed(dbt_project.dbt(["build"], **PROFILED))  # new requests: the model is part of the key
    assert dbt_project.query("select count(*) from bedrock_batch_input") == [(240,)]
    _assert_priced_as(dbt_project, f"global.{HAIKU_45}", HAIKU_45, bare_cost)


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
