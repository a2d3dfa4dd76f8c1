"""The emulator's local answers mean something for any task (issue 29): schema-valid, derived from
the user message only (never the system prompt or the package's instructions), spread over an enum
as the text suggests, and the schema found wherever the request carries it, inline JSON in the
system text included (a request our own client never makes)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bedrock_ext.emulator import model_families
from bedrock_ext.pipeline.config import record_settings
from bedrock_ext.request.records import model_input
from tests.dbt.tasks_examples import TICKET_TRIAGE

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SCHEMA = TICKET_TRIAGE["answer_schema"]
TICKETS = {
    "billing": "I was billed twice this month, the invoice shows two charges for the same billing period.",
    "outage": "There is an outage in my street since this morning, nothing works, is the outage fixed soon?",
    "hardware": "The hardware you sent is faulty: the router hardware overheats and reboots.",
    "account": "Please update the account holder name on my account, I got married.",
}
NEUTRAL = ["What are your opening hours on Saturday?", "Can I speak to Maria again, she was very kind.",
           "Thanks for the quick help last week.", "Where do I find the terms and conditions?",
           "My neighbour recommended you, what plans do you have?", "Do you deliver to the islands?"]


def _answer(body: dict[str, Any], invocation_type: str = "Converse") -> dict[str, Any]:
    out = model_families.invoke(MODEL, body, invocation_type)
    text = out["output"]["message"]["content"][0]["text"] if invocation_type == "Converse" else out["content"][0]["text"]
    return json.loads(text)


def _ticket_body(ticket: str, priority: str = "normal", invocation_type: str = "Converse") -> dict[str, Any]:
    settings = record_settings("ticket_triage", TICKET_TRIAGE, {
        "bedrock_model_id": MODEL, "invocation_type": invocation_type, "max_tokens": 512, "temperature": 0.0})
    return model_input(settings, settings.task.render({"priority": priority, "body": ticket}))


def _valid(answer: dict[str, Any]) -> None:
    props = SCHEMA["properties"]
    assert set(answer) == set(props)
    assert answer["category"] in props["category"]["enum"]
    assert isinstance(answer["urgency"], int) and 1 <= answer["urgency"] <= 5
    assert isinstance(answer["needs_refund"], bool)
    assert isinstance(answer["reply_draft"], str) and len(answer["reply_draft"]) <= 400


@pytest.mark.parametrize("invocation_type", ["Converse", "InvokeModel"])
def test_the_enum_follows_the_words_of_the_text(invocation_type: str) -> None:
    for category, ticket in TICKETS.items():
        answer = _answer(_ticket_body(ticket, invocation_type=invocation_type), invocation_type)
        _valid(answer)
        assert answer["category"] == category, (ticket, answer)


def test_without_a_cue_no_enum_value_takes_more_than_60_percent() -> None:
    tickets = [f"{text} (ticket {i})" for i in range(40) for text in NEUTRAL]
    counts = Counter(_answer(_ticket_body(t))["category"] for t in tickets)
    assert max(counts.values()) <= 0.6 * len(tickets), counts
    assert len(counts) >= 4, counts  # spread, not the first or last value


def test_strings_come_from_the_user_text_not_the_instructions() -> None:
    answer = _answer(_ticket_body(TICKETS["outage"]))
    assert "outage in my street" in answer["reply_draft"]
    for instruction in ("triage", "answer_schema", "JSON", "broadband"):
        assert instruction not in answer["reply_draft"]


def test_booleans_and_numbers_read_cues() -> None:
    refund = _answer(_ticket_body("The router died, I want a refund for this month. This is urgent!!"))
    no_refund = _answer(_ticket_body("The router died. I do not want a refund, just a new one, no rush."))
    assert (refund["needs_refund"], no_refund["needs_refund"]) == (True, False)
    assert refund["urgency"] >= 4 and no_refund["urgency"] <= 2
    assert _answer(_ticket_body("Urgency 3 please, the router blinks."))["urgency"] == 3


def test_a_schema_inline_in_the_system_prompt_is_honoured() -> None:
    """No tags, no outputConfig: the schema as plain JSON inside the system text."""
    body = {"system": [{"text": "Classify the ticket. Reply with JSON matching this schema: "
                                + json.dumps(SCHEMA) + " Nothing else."}],
            "messages": [{"role": "user", "content": [{"text": TICKETS["billing"]}]}],
            "inferenceConfig": {"maxTokens": 400}}
    answer = _answer(body)
    _valid(answer)
    assert answer["category"] == "billing"
