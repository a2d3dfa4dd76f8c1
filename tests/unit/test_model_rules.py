"""What each model accepts and what it costs per endpoint (issue 28), checked before anything is
paid: prices by endpoint scope, parameter pairs a model refuses, profile-only models, model-card
limits, the tag total, and a verified source and date on every catalog row."""

from __future__ import annotations

import re

import pytest

from bedrock_ext.emulator import model_families
from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.config import PRODUCT_TAG_KEYS
from bedrock_ext.request import validate
from bedrock_ext.request.catalog import Catalog, endpoint_scope, packaged
from bedrock_ext.request.pricing import cost, price_for
from bedrock_ext.request.records import RecordSettings, model_input
from tests.example import EXAMPLE_TASK

HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.mark.parametrize(("model_id", "scope"), [
    (HAIKU_45, "in_region"), (f"us.{HAIKU_45}", "geo"), (f"eu.{HAIKU_45}", "geo"), (f"global.{HAIKU_45}", "global"),
    (f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_45}", "in_region"),
    (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{HAIKU_45}", "global"),
    (f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{HAIKU_45}", "geo")])
def test_the_id_form_chooses_the_endpoint_scope(model_id: str, scope: str) -> None:
    assert endpoint_scope(model_id) == scope


def test_an_application_profile_has_the_scope_of_the_id_it_maps_to() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    assert endpoint_scope(arn, {arn: f"global.{HAIKU_45}"}) == "global"
    assert endpoint_scope(arn, {arn: HAIKU_45}) == "in_region"


def test_claude_45_costs_less_through_the_global_profile() -> None:
    """AWS: global routing is ~10% cheaper than geographic; regional/geo cost 10% above global."""
    bare, geo, glob = (price_for(m) for m in (HAIKU_45, f"us.{HAIKU_45}", f"global.{HAIKU_45}"))
    assert (glob.batch_input_per_million, glob.batch_output_per_million) == (0.5, 2.5)
    assert (bare.batch_input_per_million, bare.batch_output_per_million) == pytest.approx((0.55, 2.75))
    assert geo == bare.__class__(**{**bare.__dict__, "endpoint_scope": "geo"})  # AWS: geo = in-Region price
    tokens = (1_000_000, 200_000)
    assert cost(glob, *tokens).batch_usd < cost(geo, *tokens).batch_usd


def test_a_user_row_can_give_three_different_scoped_prices() -> None:
    catalog = packaged().overridden([{"model_id": HAIKU_45, **{f"geo_{c}": v for c, v in (
        ("on_demand_input_usd_per_million", "1.2"), ("on_demand_output_usd_per_million", "6"),
        ("batch_input_usd_per_million", "0.6"), ("batch_output_usd_per_million", "3"))}}])
    prices = {m: price_for(m, catalog).batch_input_per_million for m in (HAIKU_45, f"us.{HAIKU_45}", f"global.{HAIKU_45}")}
    assert sorted(prices.values()) == [0.5, 0.55, 0.6]


def test_a_scope_with_a_partial_price_falls_back_to_the_in_region_price() -> None:
    catalog = packaged().overridden([{"model_id": HAIKU_45, "global_batch_input_usd_per_million": "",
                                      "geo_batch_input_usd_per_million": "9"}])
    assert price_for(f"us.{HAIKU_45}", catalog).batch_input_per_million == pytest.approx(0.55)


def _params(model_id: str, **given: float | None) -> None:
    values = {"max_tokens": 256, "temperature": 0.0, "top_p": None, "top_k": None} | given
    validate.inference_params(packaged().entry(model_id), model_id, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("model_id", [SONNET_45, HAIKU_45, f"global.{SONNET_45}", "anthropic.claude-sonnet-4-6",
                                      "anthropic.claude-opus-4-1-20250805-v1:0"])
def test_temperature_with_top_p_is_refused_for_models_that_reject_the_pair(model_id: str) -> None:
    with pytest.raises(ConfigError, match=r"temperature \(0.0\) and top_p \(0.9\) are both set.*temperature: null"):
        _params(model_id, top_p=0.9)
    _params(model_id, temperature=None, top_p=0.9)  # only one set: passes
    _params(model_id, temperature=0.3)


def test_older_claude_takes_both() -> None:
    _params("anthropic.claude-3-haiku-20240307-v1:0", top_p=0.9)


def test_an_unset_temperature_is_not_sent() -> None:
    for invocation_type in ("Converse", "InvokeModel"):
        settings = RecordSettings(task=EXAMPLE_TASK, model_id=SONNET_45, temperature=None, top_p=0.9, invocation_type=invocation_type)
        body = model_input(settings, "hi")
        assert "temperature" not in str(body) and ("topP" in str(body) or "top_p" in str(body))


@pytest.mark.parametrize("invocation_type", ["Converse", "InvokeModel"])
def test_the_emulator_refuses_the_pair_with_the_models_message(invocation_type: str) -> None:
    both = RecordSettings(task=EXAMPLE_TASK, model_id=f"us.{SONNET_45}", top_p=0.9, invocation_type=invocation_type)
    with pytest.raises(model_families.ModelInputError, match="`temperature` and `top_p` cannot both be specified"):
        model_families.invoke(f"us.{SONNET_45}", model_input(both, "hello"), invocation_type)
    one = RecordSettings(task=EXAMPLE_TASK, model_id=f"us.{SONNET_45}", temperature=None, top_p=0.9, invocation_type=invocation_type)
    assert model_families.invoke(f"us.{SONNET_45}", model_input(one, "hello"), invocation_type)


@pytest.mark.parametrize(("model_id", "profile"), [("amazon.nova-premier-v1:0", "us.amazon.nova-premier-v1:0"),
                                                   ("amazon.nova-2-lite-v1:0", "global.amazon.nova-2-lite-v1:0")])
def test_a_bare_profile_only_id_is_refused_naming_the_profiles(model_id: str, profile: str) -> None:
    entry = packaged().entry(model_id)
    with pytest.raises(ConfigError, match=f"only through a cross-Region inference profile.*{re.escape(profile)}"):
        validate.model_for_batch(entry, model_id, "Converse", endpoint_scope(model_id))
    validate.model_for_batch(entry, profile, "Converse", endpoint_scope(profile))


@pytest.mark.parametrize(("model_id", "limit"), [("amazon.nova-micro-v1:0", 5000), ("amazon.nova-pro-v1:0", 5000),
                                                 ("meta.llama4-maverick-17b-instruct-v1:0", 8000)])
def test_max_tokens_above_the_model_cards_output_limit_is_refused(model_id: str, limit: int) -> None:
    _params(model_id, max_tokens=limit)
    with pytest.raises(ConfigError, match=f"max_tokens {limit + 1} is out of range.*use 1 to {limit}"):
        _params(model_id, max_tokens=limit + 1)


def test_llama_4_maverick_context_is_the_model_cards() -> None:
    assert packaged().entry("meta.llama4-maverick-17b-instruct-v1:0").context_window == 1_000_000


@pytest.mark.parametrize(("count", "ok"), [(196, True), (197, False)])
def test_user_tags_count_with_the_product_tags_toward_200(count: int, ok: bool) -> None:
    tags = {f"team{i}": "x" for i in range(count)}
    if ok:
        validate.tags(tags, product_keys=PRODUCT_TAG_KEYS)
    else:
        with pytest.raises(ConfigError, match="197 tags plus the product's 4.*201 on each job.*remove 1"):
            validate.tags(tags, product_keys=PRODUCT_TAG_KEYS)


@pytest.mark.parametrize("model_id", sorted(packaged().entries))
def test_every_row_has_a_dated_source_for_prices_limits_and_batch_support(model_id: str) -> None:
    e = packaged().entry(model_id)
    for source, date in ((e.price_source, e.price_date), (e.limits_source, e.limits_date),
                         (e.batch_source, e.batch_date), (e.scope_price_source, e.price_date)):
        assert source and len(source) > 20, (model_id, source)
        assert date and _DATE.fullmatch(date), (model_id, date)


def test_the_claude_45_family_and_the_new_claude_46_rows() -> None:
    entries = packaged().entries
    for model_id in ("anthropic.claude-sonnet-4-6", "anthropic.claude-opus-4-6-v1", SONNET_45, HAIKU_45):
        e = entries[model_id]
        assert e.refused_pairs() == (("temperature", "top_p"),)
        assert e.global_batch_input_usd_per_million is not None and "10%" in (e.scope_price_source or "")


def test_the_catalog_parses_user_rows_without_the_new_columns() -> None:
    row = {"model_id": "acme.m-v1:0", "context_window": "8000", "max_output_tokens": "1000", "batch_offered": "true",
           "batch_converse": "true", "batch_invoke_model": "false", "native_structured_output": "false"}
    e = Catalog.from_rows([row]).entry("acme.m-v1:0")
    assert e.batch_in_region and e.refused_pairs() == () and e.prices("global") == (None, None, None, None)
