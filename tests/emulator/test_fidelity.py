"""The emulator's per-model fidelity (faults.model_fidelity): a model below 1 has that share of its
answer fields changed, deterministically and still within the schema, so a local comparison of
candidates shows a spread; a model not listed answers as the heuristic does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_ext.emulator import model_families
from bedrock_ext.emulator.config import EmulatorConfig, Faults
from bedrock_ext.pipeline.config import record_settings
from bedrock_ext.request.records import model_input
from tests.dbt.tasks_examples import TICKET_TRIAGE

SCHEMA = TICKET_TRIAGE["answer_schema"]
MICRO = "amazon.nova-micro-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TEXTS = [f"Ticket {i}: I was billed twice, the router is faulty and there is an outage. Please help soon."
         for i in range(300)]


def _answers(model_id: str, faults: Faults) -> list[dict[str, Any]]:
    settings = record_settings("triage", TICKET_TRIAGE, {"bedrock_model_id": model_id, "invocation_type": "Converse",
                                                          "max_tokens": 500})
    out = []
    for text in TEXTS:
        body = model_input(settings, f"Priority given by the customer: high\nTicket:\n{text}")
        quirks = model_families.quirks(model_id, faults, None)
        reply = model_families.invoke(model_id, body, "Converse", quirks)
        out.append(json.loads(reply["output"]["message"]["content"][0]["text"]))
    return out


def test_a_model_below_full_fidelity_changes_about_that_share_of_fields_within_the_schema() -> None:
    faults = Faults(model_fidelity={MICRO: 0.8})
    exact, degraded = _answers(MICRO, Faults()), _answers(MICRO, faults)
    changed = sum(a[k] != b[k] for a, b in zip(exact, degraded, strict=True) for k in SCHEMA["properties"])
    share = changed / (len(TEXTS) * len(SCHEMA["properties"]))
    assert 0.14 <= share <= 0.26, share  # 1 - 0.8, give or take the sampling
    for answer in degraded:
        assert answer["category"] in SCHEMA["properties"]["category"]["enum"]
        assert 1 <= answer["urgency"] <= 5 and isinstance(answer["needs_refund"], bool)
        assert len(answer["reply_draft"]) <= 400
    assert _answers(MICRO, faults) == degraded  # deterministic


def test_an_unlisted_model_answers_as_the_heuristic_and_models_differ_in_which_fields_change() -> None:
    faults = Faults(model_fidelity={MICRO: 0.8, "anthropic.claude-haiku-4-5-20251001-v1:0": 0.8})
    assert _answers(HAIKU, faults) == _answers(HAIKU, Faults())
    micro = _answers(MICRO, faults)
    haiku45 = _answers("us.anthropic.claude-haiku-4-5-20251001-v1:0", faults)  # a profile id: its model's
    assert micro != haiku45


@pytest.mark.parametrize("bad", [{"m": 1.5}, {"m": -0.1}, {"m": "high"}, ["m"]])
def test_a_bad_fidelity_is_refused_naming_it(bad: Any) -> None:
    with pytest.raises(ValueError, match="faults.model_fidelity must be a mapping of model ids to numbers"):
        EmulatorConfig().updated({"faults": {"model_fidelity": bad}})
