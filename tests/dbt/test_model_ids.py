"""Any id form of a model prices the same (issue 15): a bare model id, cross-region and global
inference profile ids, a foundation-model ARN, an inference-profile ARN and a mapped application
inference profile ARN all resolve to one catalog row in the marts (SQL) and the estimate (Python),
and a billed row is never left without a cost."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace

import duckdb
import pytest

from bedrock_ext.request.catalog import GEO_PREFIXES, base_model_id, endpoint_scope, packaged
from bedrock_ext.request.pricing import cost, price_for
from tests.dbt.conftest import FAST_JOBS, DbtProject, assert_all_passed, shared_project, write_transcripts
from tests.sql.package_sql import environment

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k2m4q6s8u0w2"
FORMS = [HAIKU, f"us.{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
         f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
         f"global.{HAIKU_45}", "apac.amazon.nova-lite-v1:0", "us-gov.amazon.nova-pro-v1:0", APP_PROFILE]
PROFILES = {APP_PROFILE: f"us.{HAIKU}"}


def test_python_and_sql_resolve_every_form_alike() -> None:
    var = {"application_inference_profiles": PROFILES}.get
    _, context = environment({}, {}, {"var": lambda name, default=None: var(name, default)})
    sql = context["bedrock_ext"].base_model_id("m")
    scope_sql = context["bedrock_ext"].endpoint_scope("m")
    assert set(str(context["bedrock_ext"].profile_prefixes()).split("|")) == set(GEO_PREFIXES)  # one list per language
    with duckdb.connect() as con:
        got = {m: (base, scope) for m, base, scope in
               con.execute(f"select m, {sql}, {scope_sql} from unnest(?) t(m)", [FORMS]).fetchall()}
    assert got == {m: (base_model_id(m, PROFILES), endpoint_scope(m, PROFILES)) for m in FORMS}
    assert {base_model_id(m, PROFILES) for m in [*FORMS[:4], APP_PROFILE]} == {HAIKU}
    assert [endpoint_scope(m, PROFILES) for m in FORMS] == [
        "in_region", "geo", "in_region", "geo", "global", "geo", "geo", "geo"]
    assert base_model_id(FORMS[4]) == HAIKU_45
    assert price_for(FORMS[3]) == replace(price_for(HAIKU), endpoint_scope="geo")  # Claude 3 Haiku: one price


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


# A user row giving the geographic profile a price of its own, so that the three scopes cost three
# different amounts (the package's Claude 4.5 rows price geo as in-Region, as AWS does).
GEO_OVERRIDE = ("model_id,geo_on_demand_input_usd_per_million,geo_on_demand_output_usd_per_million,"
                f"geo_batch_input_usd_per_million,geo_batch_output_usd_per_million\n{HAIKU_45},1.2,6,0.6,3\n")
SCOPES = {HAIKU_45: "in_region", f"us.{HAIKU_45}": "geo", f"global.{HAIKU_45}": "global"}


def _upper_bound(project: DbtProject, model_id: str, variables: dict) -> float:
    """The budget guard's upper bound for the build, read from its refusal (nothing is uploaded)."""
    # Only the export and what it reads: the guard refuses there, before anything downstream.
    refused = project.dbt(["build", "--select", "+bedrock_batch_input"], **variables, bedrock_budget_usd=0.000001)
    (message,) = [str(r.message) for r in refused.result if str(r.status) == "error"]
    return float(re.search(r"upper bound\) \$([0-9.]+) is above", message).group(1))


def test_each_endpoint_scope_is_priced_by_its_own_catalog_figures(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare id, a us. profile and a global. profile of Claude Haiku 4.5: the budget guard (Python)
    and the marts (SQL) price each by its scope's figures, and the three jobs cost three amounts."""
    write_transcripts(dbt_project, rows=120)
    (dbt_project.root / "seeds").mkdir(exist_ok=True)
    (dbt_project.root / "seeds" / "scoped_prices.csv").write_text(GEO_OVERRIDE)
    variables = {"poll_interval_s": 0.05, "model_catalog_overrides": "scoped_prices"}
    catalog = packaged().overridden(csv.DictReader(GEO_OVERRIDE.splitlines()))
    bounds = {}
    for model_id in SCOPES:
        monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", model_id)
        bounds[model_id] = _upper_bound(dbt_project, model_id, variables)
        assert_all_passed(dbt_project.dbt(["build"], **variables))
    bare, geo, glob = (price_for(m, catalog) for m in SCOPES)
    # The same records and tokens for each scope: the bounds scale as the scopes' batch prices.
    assert bounds[f"global.{HAIKU_45}"] / bounds[HAIKU_45] == pytest.approx(glob.batch_input_per_million
                                                                          / bare.batch_input_per_million, rel=2e-3)
    assert bounds[f"us.{HAIKU_45}"] / bounds[HAIKU_45] == pytest.approx(geo.batch_input_per_million
                                                                      / bare.batch_input_per_million, rel=2e-3)
    jobs = dbt_project.query("select model_id, endpoint_scope, input_token_count, output_token_count, batch_cost_usd, "
                             "on_demand_cost_usd from fct_batch_job_costs")
    assert {row[0]: row[1] for row in jobs} == SCOPES
    for model_id, _, tokens_in, tokens_out, batch_usd, on_demand_usd in jobs:
        expected = cost(price_for(model_id, catalog), tokens_in, tokens_out)
        assert (batch_usd, on_demand_usd) == pytest.approx((expected.batch_usd, expected.on_demand_usd), abs=1e-6)
    assert len({row[4] for row in jobs}) == 3
    assert dbt_project.query("select distinct endpoint_scope from dim_batch_jobs order by 1") == [
        ("geo",), ("global",), ("in_region",)]


@pytest.mark.parametrize(("model_id", "variables", "named"), [
    (f"us.{SONNET_45}", {"top_p": 0.9}, "temperature (0.0) and top_p (0.9) are both set"),
    ("amazon.nova-premier-v1:0", {}, "us.amazon.nova-premier-v1:0"),
    ("amazon.nova-micro-v1:0", {"max_tokens": 6000}, "max_tokens 6000 is out of range"),
], ids=["refused-pair", "profile-only", "over-model-card"])
def test_a_request_the_model_would_refuse_stops_before_upload(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch, model_id: str, variables: dict, named: str) -> None:
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", model_id)
    result = dbt_project.dbt(["build"], poll_interval_s=0.05, **variables)
    errors = [str(r.message) for r in result.result if str(r.status) == "error"]
    assert not result.success and any(named in e for e in errors), errors
    assert dbt_project.query("select count(*) from information_schema.tables "
                             "where table_name = 'bedrock_batch_jobs'") == [(0,)]  # nothing submitted


def test_with_only_top_p_set_a_claude_45_build_passes(dbt_project: DbtProject,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write_transcripts(dbt_project, rows=120)
    monkeypatch.setenv("BEDROCK_EXT_MODEL_ID", f"us.{SONNET_45}")
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05, temperature=None, top_p=0.9))
    assert dbt_project.query("select count(*), count(*) filter (where status = 'answered'), "
                             "count(top_p), count(temperature) from fct_bedrock_results "
                             "join stg_bedrock__batch_outputs using (record_id) where skip_reason is null") == [
        (120, 120, 120, 0)]


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
