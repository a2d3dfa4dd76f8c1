"""records.py: keys, recordIds, prompts, Converse and per-family InvokeModel bodies, overlong and
blank text."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.records import (
    TRUNCATION_MARK,
    PreparedRecord,
    RecordSettings,
    model_input,
    record_id,
    request_fingerprint,
    request_key,
)
from bedrock_ext.transcripts.adversarial import ADVERSARIAL_TEXTS
from tests.example import EXAMPLE_TASK
from tests.record_oracle import SkippedRecord, prepare, render_row

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SETTINGS = RecordSettings(task=EXAMPLE_TASK, model_id=HAIKU)


FP = request_fingerprint(SETTINGS)


def test_request_key_changes_with_each_part() -> None:
    base = request_key("C1", "text", FP)
    assert base == request_key("C1", "text", FP)
    others = {request_key("C2", "text", FP), request_key("C1", "text!", FP), request_key("C1", "text", "x" + FP)}
    assert base not in others and len(others) == 3


@pytest.mark.parametrize("change", [
    {"model_id": "amazon.nova-lite-v1:0"}, {"max_tokens": 513}, {"temperature": 0.1},
    {"top_p": 0.9}, {"top_k": 40}, {"invocation_type": "InvokeModel"},
])
def test_fingerprint_covers_model_and_every_inference_parameter(change: dict) -> None:
    changed = RecordSettings(**{"task": EXAMPLE_TASK, "model_id": HAIKU, **change})
    assert request_fingerprint(changed) != FP
    assert request_fingerprint(RecordSettings(task=EXAMPLE_TASK, model_id=HAIKU)) == FP  # stable for equal settings


def test_fingerprint_covers_the_system_prompt_the_schema_and_the_task() -> None:
    task = EXAMPLE_TASK
    brief = dataclasses.replace(task, system=task.system + " Be brief.")
    schema = {**task.answer_schema, "required": ["summary"]}
    for changed in (brief, dataclasses.replace(task, answer_schema=schema), dataclasses.replace(task, name="other"),
                    dataclasses.replace(task, prompt_version="v2")):
        assert request_fingerprint(RecordSettings(model_id=HAIKU, task=changed)) != FP
    # The user template is not in the fingerprint: it is in the message, so it is in the key.
    edited = dataclasses.replace(task, user=task.user.replace("Summarize", "Summarise"))
    assert render_row(RecordSettings(model_id=HAIKU, task=edited), "x") != render_row(SETTINGS, "x")


def test_record_ids_are_11_alphanumerics_and_unique() -> None:
    ids = {record_id(request_key(f"C{i}", "t", FP)) for i in range(50_000)}
    assert len(ids) == 50_000
    assert all(re.fullmatch(r"[A-Za-z0-9]{11}", i) for i in list(ids)[:1000])


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, t in ADVERSARIAL_TEXTS if t and t.strip()])
def test_adversarial_text_round_trips_through_json(kind: str, text: str) -> None:
    r = prepare(kind, text, SETTINGS)
    assert isinstance(r, PreparedRecord)
    assert "\n" not in r.line
    parsed = json.loads(r.line)
    assert parsed["recordId"] == r.record_id
    user = parsed["modelInput"]["messages"][0]["content"][0]["text"]
    if not r.is_truncated:
        assert text in user


def test_converse_body_is_one_shape_for_every_family() -> None:
    for model, extra in ((HAIKU, {"top_k": 50}), ("us.amazon.nova-lite-v1:0", {"inferenceConfig": {"topK": 50}})):
        body = model_input(RecordSettings(task=EXAMPLE_TASK, model_id=model, max_tokens=300, temperature=0.2, top_p=0.9, top_k=50), "hi")
        assert set(body) == {"system", "messages", "inferenceConfig", "additionalModelRequestFields"}
        assert body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.2, "topP": 0.9}
        assert body["additionalModelRequestFields"] == extra
        assert body["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]
        assert "<answer_schema>" in body["system"][0]["text"]  # the schema is stated to the model
    llama = model_input(RecordSettings(task=EXAMPLE_TASK, model_id="meta.llama3-1-8b-instruct-v1:0"), "hi")
    assert set(llama) == {"system", "messages", "inferenceConfig"}  # no top_k: Llama has none


def test_claude_invoke_model_body_has_the_messages_api_fields() -> None:
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=HAIKU, max_tokens=300, temperature=0.2, top_p=0.9, top_k=50,
                              invocation_type="InvokeModel")
    body = model_input(settings, render_row(settings, "hi") or "")
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["top_k"]) == (300, 0.2, 0.9, 50)
    assert body["system"] and body["messages"][0]["role"] == "user"
    assert "<transcript>\nhi\n</transcript>" in body["messages"][0]["content"][0]["text"]


def test_nova_and_llama_invoke_model_bodies() -> None:
    nova = model_input(RecordSettings(task=EXAMPLE_TASK, model_id="us.amazon.nova-lite-v1:0", invocation_type="InvokeModel"), "hi")
    assert nova["inferenceConfig"]["maxTokens"] == 512 and nova["messages"][0]["content"][0]["text"] == "hi"
    llama = model_input(RecordSettings(task=EXAMPLE_TASK, model_id="meta.llama3-1-8b-instruct-v1:0", invocation_type="InvokeModel"),
                        "hi")
    assert llama["max_gen_len"] == 512 and "user<|end_header_id|>\nhi<|eot_id|>" in llama["prompt"]


def test_blank_text_is_skipped_with_a_reason() -> None:
    for text in (None, "", "  \n\t "):
        r = prepare("C", text, SETTINGS)
        assert isinstance(r, SkippedRecord) and r.reason == "blank_text"


def test_overlong_text_is_truncated_or_rejected() -> None:
    text = "Customer: word " * 100_000  # ~1.5M chars, far above 200k tokens
    cut = prepare("C", text, SETTINGS)
    assert isinstance(cut, PreparedRecord) and cut.is_truncated
    assert TRUNCATION_MARK.strip() in cut.line
    assert cut.estimated_input_tokens <= 200_000 - SETTINGS.max_tokens
    rejected = prepare("C", text, RecordSettings(task=EXAMPLE_TASK, model_id=HAIKU, overlong_policy="reject"))
    assert isinstance(rejected, SkippedRecord) and rejected.reason.startswith("over_context")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"model_id": "openai.gpt-oss-20b-1:0", "invocation_type": "InvokeModel"}, "use invocation_type: Converse"), ({"model_id": HAIKU, "invocation_type": "Chat"}, "Chat"),
     ({"model_id": HAIKU, "max_tokens": 0}, "max_tokens")],
)
def test_bad_settings_name_the_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RecordSettings(task=EXAMPLE_TASK, **kwargs)


def test_context_windows_are_per_model_and_quotas_in_aws_units() -> None:
    from bedrock_ext.pipeline.sharding import Quotas
    from bedrock_ext.request.catalog import packaged

    assert packaged().entry("us.amazon.nova-micro-v1:0").context_window == 128_000  # not Nova's 300k
    assert packaged().entry("amazon.nova-lite-v1:0").context_window == 300_000
    assert RecordSettings(task=EXAMPLE_TASK, model_id="amazon.nova-micro-v1:0").entry.context_window == 128_000
    assert (Quotas().max_bytes_per_file, Quotas().max_bytes_per_job) == (10**9, 5 * 10**9)  # GB = 10^9 bytes


def test_native_structured_output_sends_the_schema_in_output_config() -> None:
    """Off for every packaged model; where a catalog row turns it on, Converse bodies carry the
    schema in outputConfig.textFormat (botocore's shape) as well as in the prompt."""
    import dataclasses

    from bedrock_ext.pipeline.config import record_settings
    from bedrock_ext.request.catalog import Catalog, packaged

    assert "outputConfig" not in model_input(SETTINGS, "hi")
    on = dataclasses.replace(packaged().entry(HAIKU), native_structured_output=True)
    catalog = Catalog(entries={**packaged().entries, HAIKU: on})
    defaults = {"bedrock_model_id": f"us.{HAIKU}", "invocation_type": "Converse", "max_tokens": 512,
                "temperature": 0.0}
    spec = {"prompt": {"system": EXAMPLE_TASK.system, "user": EXAMPLE_TASK.user},
            "answer_schema": dict(EXAMPLE_TASK.answer_schema)}
    settings = record_settings("call_summaries", spec, defaults, catalog=catalog)
    assert settings.native_structured_output
    body = model_input(settings, "hi")
    fmt = body["outputConfig"]["textFormat"]
    assert fmt["type"] == "json_schema" and fmt["structure"]["jsonSchema"]["name"] == "call_summaries"
    assert json.loads(fmt["structure"]["jsonSchema"]["schema"]) == dict(EXAMPLE_TASK.answer_schema)
    assert "<answer_schema>" in body["system"][0]["text"]
    invoke = model_input(RecordSettings(task=EXAMPLE_TASK, model_id=HAIKU, invocation_type="InvokeModel"), "hi")
    assert "outputConfig" not in invoke  # only Converse bodies carry it


@pytest.mark.parametrize(("model", "invocation_type", "fingerprint"), [
    ("anthropic.claude-3-haiku-20240307-v1:0", "Converse", "e7b916f38e5c1724"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "InvokeModel", "780b2d9a549a07a5"),
    ("us.amazon.nova-lite-v1:0", "Converse", "4983f6b68e295697"),
    ("us.amazon.nova-lite-v1:0", "InvokeModel", "ecff214631bb7711"),
])
def test_request_fingerprints_are_those_of_0_2(model: str, invocation_type: str, fingerprint: str) -> None:
    """The request fingerprints 0.2 computed (measured on commit 18322ed): a change here requests
    every row of every user again, and must be deliberate (and said in README's upgrade notes)."""
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=model, invocation_type=invocation_type)  # type: ignore[arg-type]
    assert request_fingerprint(settings)[:16] == fingerprint
