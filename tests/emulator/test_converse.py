"""Converse jobs (modelInvocationType Converse) and the runtime Converse API: the request body
validated like the service, the Converse response shape, answers that fit the schema the request
carries (in the prompt or outputConfig), and toolConfig refused as AWS documents for batch."""

from __future__ import annotations

import json
from typing import Any

from bedrock_ext.request.records import RecordSettings, model_input
from bedrock_ext.request.task import Task
from tests.emulator.conftest import TEST_MODEL, Aws
from tests.record_oracle import render_row

TRIAGE = Task(name="ticket_triage", system="You triage tickets.", user="Ticket:\n{body}", answer_schema={
    "type": "object", "additionalProperties": False, "required": ["category", "urgency", "needs_refund"],
    "properties": {"category": {"type": "string", "enum": ["billing", "outage", "other"]},
                   "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
                   "needs_refund": {"type": "boolean"},
                   "reply_draft": {"type": "string", "maxLength": 40}}})
TEXT = "My billing statement shows a charge I did not make, I want a refund."


def _body(**changes: Any) -> dict[str, Any]:
    settings = RecordSettings(model_id=TEST_MODEL, task=TRIAGE)
    return {**model_input(settings, render_row(settings, TEXT) or ""), **changes}


def _run(aws: Aws, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    uri = aws.put_jsonl("in/c.jsonl", [{"recordId": f"R{i}", "modelInput": b} for i, b in enumerate(bodies)])
    arn = aws.create(uri, modelInvocationType="Converse")
    job = aws.wait(arn)
    assert job["status"] == "Completed" and job["modelInvocationType"] == "Converse"
    lines = [json.loads(x) for x in aws.outputs(arn)["c.jsonl.out"].decode().splitlines()]
    return sorted(lines, key=lambda x: x["recordId"])


def test_converse_job_answers_in_the_converse_shape_and_fits_the_schema(aws: Aws) -> None:
    (line,) = _run(aws, [_body()])
    out = line["modelOutput"]
    assert set(out) == {"output", "stopReason", "usage", "metrics"}
    assert out["stopReason"] == "end_turn" and out["output"]["message"]["role"] == "assistant"
    assert out["usage"]["totalTokens"] == out["usage"]["inputTokens"] + out["usage"]["outputTokens"]
    answer = json.loads(out["output"]["message"]["content"][0]["text"])
    assert set(answer) == {"category", "urgency", "needs_refund", "reply_draft"}  # no other keys
    assert answer["category"] == "billing" and 1 <= answer["urgency"] <= 5 and answer["needs_refund"] is True
    assert len(answer["reply_draft"]) <= 40


def test_the_schema_may_come_from_output_config(aws: Aws) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["tone"],
              "properties": {"tone": {"type": "string", "enum": ["calm", "angry"]}}}
    body = {"messages": [{"role": "user", "content": [{"text": "I am so angry about this outage."}]}],
            "outputConfig": {"textFormat": {"type": "json_schema", "structure": {
                "jsonSchema": {"schema": json.dumps(schema), "name": "tone"}}}}}
    (line,) = _run(aws, [body])
    assert json.loads(line["modelOutput"]["output"]["message"]["content"][0]["text"]) == {"tone": "angry"}


def test_bad_converse_records_are_400_error_lines(aws: Aws) -> None:
    tool = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
    lines = _run(aws, [_body(toolConfig=tool), _body(inferenceConfig={"maxTokens": 10, "topK": 5}),
                       _body(messages=[{"role": "assistant", "content": [{"text": "hi"}]}]),
                       _body(anthropic_version="bedrock-2023-05-31")])
    assert [x["error"]["errorCode"] for x in lines] == [400, 400, 400, 400]
    assert "toolConfig" in lines[0]["error"]["errorMessage"]
    assert "topK" in lines[1]["error"]["errorMessage"]


def test_an_invoke_model_job_reads_the_same_body_as_invoke_model(aws: Aws) -> None:
    uri = aws.put_jsonl("in/i.jsonl", [{"recordId": "R0", "modelInput": _body()}])
    arn = aws.create(uri)  # no modelInvocationType: InvokeModel, where a Converse body is not a Claude body
    aws.wait(arn)
    (line,) = [json.loads(x) for x in aws.outputs(arn)["i.jsonl.out"].decode().splitlines()]
    assert line["error"]["errorCode"] == 400


def test_runtime_converse_api(aws: Aws) -> None:
    response = aws.runtime.converse(modelId=TEST_MODEL, **_body())
    assert response["stopReason"] == "end_turn" and response["usage"]["inputTokens"] > 0
    assert json.loads(response["output"]["message"]["content"][0]["text"])["category"] == "billing"


def test_nova_micro_has_a_128k_context(aws: Aws) -> None:
    text = "word " * 140_000  # about 175k tokens by the emulator's count: within Nova Lite's 300k, not Micro's 128k
    bodies = [{"messages": [{"role": "user", "content": [{"text": text}]}]}]
    for model, fits in (("amazon.nova-micro-v1:0", False), ("amazon.nova-lite-v1:0", True)):
        uri = aws.put_jsonl(f"in/{model}.jsonl", [{"recordId": "R0", "modelInput": b} for b in bodies])
        arn = aws.create(uri, modelInvocationType="Converse", modelId=model)
        aws.wait(arn)
        (line,) = [json.loads(x) for x in aws.outputs(arn)[f"{model}.jsonl.out"].decode().splitlines()]
        assert ("modelOutput" in line) is fits, (model, line.get("error"))
