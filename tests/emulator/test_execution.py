"""What a job reads and writes: output layout, line shapes, manifest arithmetic, input validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.conftest import Aws, claude_input


def _lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines()]


def test_output_layout_and_manifest_arithmetic(aws: Aws) -> None:
    aws.put_records("in/part-0.jsonl", 30)
    aws.put_records("in/part-1.jsonl", 20, lambda i: {"recordId": f"OTHER{i:06d}", "modelInput": claude_input()})
    aws.s3.put_object(Bucket=aws.bucket, Key="in/readme.txt", Body=b"not input")
    arn = aws.create(f"s3://{aws.bucket}/in/")
    job = aws.wait(arn)
    assert job["status"] == "Completed"
    files = aws.outputs(arn)
    assert set(files) == {"part-0.jsonl.out", "part-1.jsonl.out", "manifest.json.out"}
    lines = _lines(files["part-0.jsonl.out"]) + _lines(files["part-1.jsonl.out"])
    ids = [line["recordId"] for line in lines]
    assert sorted(ids) == sorted([f"REC{i:08d}" for i in range(30)] + [f"OTHER{i:06d}" for i in range(20)])
    assert [x["recordId"] for x in _lines(files["part-0.jsonl.out"])] != [f"REC{i:08d}" for i in range(30)]
    manifest = json.loads(files["manifest.json.out"])
    usage = [line["modelOutput"]["usage"] for line in lines]
    assert manifest == {
        "totalRecordCount": 50, "processedRecordCount": 50, "successRecordCount": 50, "errorRecordCount": 0,
        "inputTokenCount": sum(u["input_tokens"] for u in usage),
        "outputTokenCount": sum(u["output_tokens"] for u in usage),
    }


def test_claude_output_line_shape_and_derived_answer(aws: Aws) -> None:
    arn = aws.create(aws.put_records("in/a.jsonl", 1))
    aws.wait(arn)
    (line,) = _lines(aws.outputs(arn)["a.jsonl.out"])
    assert set(line) == {"recordId", "modelInput", "modelOutput"}
    assert line["modelInput"] == claude_input()
    out = line["modelOutput"]
    assert set(out) == {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    assert out["id"].startswith("msg_bdrk_") and out["type"] == "message" and out["role"] == "assistant"
    assert "not an LLM" in out["model"]
    assert out["stop_reason"] == "end_turn" and out["stop_sequence"] is None
    answer = json.loads(out["content"][0]["text"])
    assert answer["intent"] == "billing_dispute"
    assert answer["resolution"] == "resolved"
    assert (answer["sentiment_start"], answer["sentiment_end"]) == ("negative", "positive")
    assert answer["action_items"] == ["issue a credit of $20.00 to the account"]


def test_single_file_uri_and_generated_record_ids(aws: Aws) -> None:
    uri = aws.put_jsonl("in/one.jsonl", [{"modelInput": claude_input()} for _ in range(3)])
    aws.put_records("in/ignored.jsonl", 5)
    arn = aws.create(uri)
    assert aws.wait(arn)["totalRecordCount"] == 3
    ids = [line["recordId"] for line in _lines(aws.outputs(arn)["one.jsonl.out"])]
    assert len(set(ids)) == 3 and all(len(i) == 11 and i.isalnum() for i in ids)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda i: {"recordId": "SAME", "modelInput": claude_input()}, "Duplicate recordId SAME"),
        (lambda i: {"recordId": f"R{i}"}, "has no modelInput object"),
    ],
)
def test_invalid_input_fails_the_job_at_validation(aws: Aws, make: Any, message: str) -> None:
    job = aws.wait(aws.create(aws.put_records("in/a.jsonl", 3, make)))
    assert job["status"] == "Failed" and message in job["message"]


def test_malformed_json_line_fails_the_job(aws: Aws) -> None:
    aws.s3.put_object(Bucket=aws.bucket, Key="in/bad.jsonl", Body=b'{"recordId": "A", "modelInput": {}}\n{oops\n')
    job = aws.wait(aws.create(f"s3://{aws.bucket}/in/bad.jsonl"))
    assert job["status"] == "Failed" and "Line 2 of bad.jsonl is not valid JSON" in job["message"]


def test_no_input_files_fails_the_job(aws: Aws) -> None:
    job = aws.wait(aws.create(f"s3://{aws.bucket}/nothing-here/"))
    assert job["status"] == "Failed" and "No .jsonl files" in job["message"]


@pytest.mark.parametrize(
    ("quotas", "records", "message"),
    [
        ({"min_records_per_job": 100}, 99, "fewer than the minimum of 100"),
        ({"max_records_per_job": 10}, 11, "more than the maximum of 10"),
        ({"max_records_per_file": 5}, 6, "exceeds the quota of 5 records per file"),
        ({"max_bytes_per_file": 1000}, 20, "bytes per file"),
        ({"max_bytes_per_job": 1000}, 20, "bytes per job"),
    ],
)
def test_quotas_fail_the_job_with_a_message(aws: Aws, quotas: dict, records: int, message: str) -> None:
    aws.emulator.configure(quotas=quotas)
    job = aws.wait(aws.create(aws.put_records("in/a.jsonl", records)))
    assert job["status"] == "Failed" and message in job["message"]


def test_invalid_model_input_is_an_error_line_not_a_job_failure(aws: Aws) -> None:
    no_max = {k: v for k, v in claude_input().items() if k != "max_tokens"}
    too_long = claude_input(text="Customer: word " * 300_000)
    records = [{"recordId": "OK", "modelInput": claude_input()},
               {"recordId": "NOMAX", "modelInput": no_max},
               {"recordId": "LONG", "modelInput": too_long},
               {"recordId": "TEMP", "modelInput": claude_input(temperature=3)}]
    arn = aws.create(aws.put_jsonl("in/a.jsonl", records))
    job = aws.wait(arn)
    assert (job["status"], job["successRecordCount"], job["errorRecordCount"]) == ("Completed", 1, 3)
    lines = {x["recordId"]: x for x in _lines(aws.outputs(arn)["a.jsonl.out"])}
    assert "modelOutput" not in lines["NOMAX"]
    assert lines["NOMAX"]["error"]["errorCode"] == 400
    assert "required key [max_tokens] not found" in lines["NOMAX"]["error"]["errorMessage"]
    assert lines["LONG"]["error"]["errorMessage"] == "Input is too long for requested model."
    assert lines["TEMP"]["error"]["retryable"] is False


def test_max_tokens_cuts_the_answer(aws: Aws) -> None:
    arn = aws.create(aws.put_jsonl("in/a.jsonl", [{"recordId": "R", "modelInput": claude_input(max_tokens=5)}]))
    aws.wait(arn)
    (line,) = _lines(aws.outputs(arn)["a.jsonl.out"])
    assert line["modelOutput"]["stop_reason"] == "max_tokens"
    assert line["modelOutput"]["usage"]["output_tokens"] == 5


def test_nova_and_llama_response_shapes(aws: Aws) -> None:
    text = "Summarize.\n<transcript>\nCustomer: my parcel for order NW-1 is late\n</transcript>"
    nova = {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": text}]}],
            "inferenceConfig": {"maxTokens": 400}}
    llama = {"prompt": text, "max_gen_len": 400}
    nova_arn = aws.create(aws.put_jsonl("nova/a.jsonl", [{"recordId": "N", "modelInput": nova}]),
                          modelId="amazon.nova-lite-v1:0")
    llama_arn = aws.create(aws.put_jsonl("llama/a.jsonl", [{"recordId": "L", "modelInput": llama}]),
                           modelId="meta.llama3-1-8b-instruct-v1:0")
    aws.wait(nova_arn)
    aws.wait(llama_arn)
    (n,) = _lines(aws.outputs(nova_arn)["a.jsonl.out"])
    (ll,) = _lines(aws.outputs(llama_arn)["a.jsonl.out"])
    out = n["modelOutput"]
    assert json.loads(out["output"]["message"]["content"][0]["text"])["intent"] == "delivery_delay"
    assert out["usage"]["totalTokens"] == out["usage"]["inputTokens"] + out["usage"]["outputTokens"]
    assert set(ll["modelOutput"]) == {"generation", "prompt_token_count", "generation_token_count", "stop_reason"}
    assert ll["modelOutput"]["stop_reason"] == "stop"
