"""The model catalog (issue 15): every model in it has a price, a context window and a record body
the emulator accepts; every id form resolves to its row; unknown models are refused with how to
add them; the file the pip library ships is the dbt package's seed."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from bedrock_ext.emulator import model_families
from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.config import record_settings
from bedrock_ext.request.catalog import Catalog, base_model_id, packaged
from bedrock_ext.request.pricing import cost, price_for
from bedrock_ext.request.records import RecordSettings, model_family, model_input
from tests.dbt.tasks_examples import TICKET_TRIAGE
from tests.example import EXAMPLE_TASK
from tests.record_oracle import prepare_row

SEED = Path(__file__).resolve().parents[2] / "dbt_package" / "seeds" / "bedrock_model_catalog.csv"
MODELS = sorted(packaged().entries)
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def test_the_library_ships_the_packages_seed() -> None:
    rows = list(csv.DictReader(SEED.read_text().splitlines()))
    assert [r["model_id"] for r in rows] == list(packaged().entries)
    assert len(rows) == len({r["model_id"] for r in rows})


def test_the_catalog_covers_every_family_the_batch_docs_list() -> None:
    providers = {e.provider for e in packaged().entries.values()}
    assert {"Anthropic", "Amazon", "Meta", "Mistral AI", "DeepSeek", "OpenAI", "Qwen"} <= providers
    for model in ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0",
                  "amazon.nova-2-lite-v1:0", "meta.llama4-maverick-17b-instruct-v1:0", "openai.gpt-oss-120b-1:0"):
        assert model in packaged().entries


@pytest.mark.parametrize("model_id", MODELS)
def test_every_model_has_a_price_a_source_and_limits(model_id: str) -> None:
    entry = packaged().entry(model_id)
    price = price_for(model_id)
    assert 0 < price.batch_input_per_million <= price.input_per_million
    assert 0 < price.batch_output_per_million <= price.output_per_million
    assert entry.price_date and entry.price_source and entry.batch_source
    if "batch = 50% of on-demand" in entry.price_source:  # derived: exactly half, as the source says
        assert price.batch_input_per_million == pytest.approx(price.input_per_million / 2)
    assert entry.context_window >= 32_000 and 1 <= entry.max_output_tokens <= entry.context_window
    assert entry.batch_offered and "Converse" in entry.invocation_types()


@pytest.mark.parametrize("model_id", MODELS)
def test_every_model_has_a_record_body_the_emulator_accepts(model_id: str) -> None:
    """The Converse body for every model, and the native body where bedrock_ext builds one, pass the
    emulator's validation and come back with usage (what the batch job would bill)."""
    types = ["Converse"] + (["InvokeModel"] if model_family(model_id) != "other" else [])
    for invocation_type in types:
        settings = RecordSettings(task=EXAMPLE_TASK, model_id=model_id, invocation_type=invocation_type, max_tokens=256)
        record = prepare_row("row-1", "The customer asked for a refund of a double charge.", settings)
        body = model_input(settings, "The customer asked for a refund of a double charge.")
        out = model_families.invoke(model_id, body, invocation_type)
        tokens_in, tokens_out = model_families.usage_of(out)
        assert tokens_in > 0 and 0 < tokens_out <= 256, (model_id, invocation_type)
        assert cost(price_for(model_id), tokens_in, tokens_out).batch_usd > 0
        assert record.estimated_input_tokens > 0  # type: ignore[union-attr]


def test_a_model_without_a_native_body_is_refused_for_invoke_model_before_anything_is_built() -> None:
    with pytest.raises(ConfigError, match="use invocation_type: Converse"):
        RecordSettings(task=EXAMPLE_TASK, model_id="openai.gpt-oss-120b-1:0", invocation_type="InvokeModel")


APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
FORMS = [HAIKU, f"us.{HAIKU}", f"eu.{HAIKU}", f"apac.{HAIKU}", f"global.{HAIKU}",
         f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
         f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}", APP_PROFILE]


def test_every_id_form_resolves_to_one_row() -> None:
    catalog = packaged().with_profiles({APP_PROFILE: f"us.{HAIKU}"})
    assert {catalog.entry(form).model_id for form in FORMS} == {HAIKU}
    assert {base_model_id(form, {APP_PROFILE: HAIKU}) for form in FORMS} == {HAIKU}


def test_an_unmapped_application_profile_says_how_to_map_it() -> None:
    with pytest.raises(ConfigError, match="application_inference_profiles"):
        packaged().entry(APP_PROFILE)


def test_an_unknown_model_is_refused_with_how_to_add_it() -> None:
    with pytest.raises(ConfigError, match="model_catalog_overrides") as err:
        packaged().entry("us.anthropic.claude-3-haiku-20240307-v2:0")
    assert "closest: anthropic.claude-3-haiku-20240307-v1:0" in str(err.value)


def test_a_users_row_replaces_the_packages_and_a_private_model_can_be_added() -> None:
    """What dim_bedrock_models hands the export: the user's rows after the package's."""
    rows = [dataclasses.asdict(e) for e in packaged().entries.values()]
    newer = {**dataclasses.asdict(packaged().entry(HAIKU)), "batch_input_usd_per_million": 0.1,
             "batch_output_usd_per_million": 0.5}
    private = {**newer, "model_id": "acme.private-7b-v1:0", "provider": "Acme", "context_window": 32_000,
               "max_output_tokens": 2048}
    catalog = Catalog.from_rows([*rows, newer, private])
    assert price_for(f"us.{HAIKU}", catalog).batch_input_per_million == 0.1
    assert catalog.entry("acme.private-7b-v1:0").context_window == 32_000
    defaults = {"bedrock_model_id": "acme.private-7b-v1:0", "invocation_type": "Converse", "max_tokens": 512,
                "temperature": 0.0}
    settings = record_settings("ticket_triage", TICKET_TRIAGE, defaults, catalog=catalog)
    assert settings.entry.max_output_tokens == 2048


@pytest.mark.parametrize(("column", "value", "message"), [
    ("context_window", "", "context_window must be a whole number"),
    ("batch_offered", "yes", "batch_offered must be true or false"),
    ("batch_input_usd_per_million", "-1", "must be a price >= 0"),
])
def test_a_bad_catalog_row_names_the_model_and_column(column: str, value: str, message: str) -> None:
    row = {**dataclasses.asdict(packaged().entry(HAIKU)), column: value}
    with pytest.raises(ConfigError, match=message):
        Catalog.from_rows([row])


def test_a_row_without_a_price_is_refused_before_anything_is_sent() -> None:
    row = {**dataclasses.asdict(packaged().entry(HAIKU)), "batch_input_usd_per_million": None,
           "note": "no published batch price found"}
    with pytest.raises(ConfigError, match="no published batch price found"):
        price_for(HAIKU, Catalog.from_rows([row]))


def test_max_tokens_above_the_models_maximum_output_is_refused() -> None:
    from bedrock_ext.request import validate

    entry = packaged().entry("meta.llama3-1-8b-instruct-v1:0")
    with pytest.raises(ConfigError, match="use 1 to 2048"):
        validate.inference_params(entry, entry.model_id, max_tokens=4096, temperature=0.0, top_p=None, top_k=None)


def test_the_emulator_refuses_max_tokens_above_the_models_limit_as_bedrock_does() -> None:
    settings = RecordSettings(task=EXAMPLE_TASK, model_id="meta.llama3-1-8b-instruct-v1:0", max_tokens=256)
    body = model_input(settings, "hi")
    body["inferenceConfig"]["maxTokens"] = 4096
    with pytest.raises(model_families.ModelInputError, match="exceeds the model limit of 2048"):
        model_families.invoke("us.meta.llama3-1-8b-instruct-v1:0", body, "Converse")
