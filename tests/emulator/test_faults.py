"""Fault injection: record errors, malformed lines, job outcomes, throttling, slow jobs, manifests."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from bedrock_ext.emulator.config import Faults
from bedrock_ext.emulator.execution import InputRecord, run_record
from tests.emulator.conftest import TEST_MODEL, Aws, claude_input, clients_for


def test_record_errors_by_code_with_retryable_flag(aws: Aws) -> None:
    aws.emulator.configure(faults={"record_error_rate": 0.5, "seed": 3})
    arn = aws.create(aws.put_records("in/a.jsonl", 200))
    job = aws.wait(arn)
    lines = [json.loads(x) for x in aws.outputs(arn)["a.jsonl.out"].decode().splitlines()]
    errors = [x["error"] for x in lines if "error" in x]
    assert job["status"] == "Completed" and job["errorRecordCount"] == len(errors)
    assert 60 < len(errors) < 140
    assert {e["errorCode"] for e in errors} == {429, 400, 500}
    assert all(e["retryable"] == (e["errorCode"] != 400) for e in errors)
    manifest = json.loads(aws.outputs(arn)["manifest.json.out"])
    assert manifest["errorRecordCount"] == len(errors)


def test_record_faults_are_deterministic_by_seed() -> None:
    record = InputRecord.of("a.jsonl", "REC1", claude_input())
    faults = Faults(record_error_rate=0.5, seed=11)
    runs = {run_record(record, TEST_MODEL, f"job{j:09d}", faults).line for j in range(20) for _ in range(2)}
    assert 1 < len(runs) <= 20  # same job, same answer; other jobs may differ (so retries can succeed)
    assert run_record(record, TEST_MODEL, "jobaaaaaaaaa", faults) == run_record(record, TEST_MODEL, "jobaaaaaaaaa", faults)


def test_malformed_lines(aws: Aws) -> None:
    aws.emulator.configure(faults={"malformed_line_rate": 0.2})
    arn = aws.create(aws.put_records("in/a.jsonl", 100))
    aws.wait(arn)
    bad = 0
    for line in aws.outputs(arn)["a.jsonl.out"].decode().splitlines():
        try:
            json.loads(line)
        except ValueError:
            bad += 1
    assert 5 < bad < 40


@pytest.mark.parametrize("outcome", ["PartiallyCompleted", "Expired", "Stopped"])
def test_partial_outcomes_keep_processed_records(aws: Aws, outcome: str) -> None:
    aws.emulator.configure(faults={"job_outcome": outcome, "partial_fraction": 0.4})
    arn = aws.create(aws.put_records("in/a.jsonl", 50))
    job = aws.wait(arn)
    assert (job["status"], job["totalRecordCount"], job["processedRecordCount"]) == (outcome, 50, 20)
    files = aws.outputs(arn)
    assert len(files["a.jsonl.out"].decode().splitlines()) == 20
    assert json.loads(files["manifest.json.out"])["processedRecordCount"] == 20


def test_failed_outcome_carries_the_message(aws: Aws) -> None:
    aws.emulator.configure(faults={"job_outcome": "Failed", "failure_message": "Role cannot read s3://x"})
    job = aws.wait(aws.create(aws.put_records("in/a.jsonl", 5)))
    assert (job["status"], job["message"]) == ("Failed", "Role cannot read s3://x")
    assert "endTime" in job


def test_create_throttling_for_the_first_calls(aws: Aws) -> None:
    aws.emulator.configure(faults={"create_throttle_count": 2})
    uri = aws.put_records("in/a.jsonl", 1)
    _, no_retry, _ = clients_for(aws.emulator.endpoint_url, retries=1)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            aws.create(uri, client=no_retry)
        assert exc.value.response["Error"]["Code"] == "ThrottlingException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert aws.create(uri, client=no_retry)


def test_standard_retry_mode_rides_over_throttling(aws: Aws) -> None:
    aws.emulator.configure(faults={"create_throttle_count": 2})
    assert aws.create(aws.put_records("in/a.jsonl", 1))  # botocore retries 429 for us


def test_slow_jobs_and_missing_manifest(aws: Aws) -> None:
    aws.emulator.configure(faults={"slow_job_s": 0.8, "missing_manifest": True})
    start = time.monotonic()
    arn = aws.create(aws.put_records("in/a.jsonl", 3))
    assert aws.wait(arn)["status"] == "Completed"
    assert time.monotonic() - start >= 0.8
    assert set(aws.outputs(arn)) == {"a.jsonl.out"}


def test_faults_apply_to_jobs_created_while_set(aws: Aws) -> None:
    aws.emulator.configure(faults={"job_outcome": "Failed"})
    failing = aws.create(aws.put_records("in/a.jsonl", 2))
    aws.emulator.configure(faults={"job_outcome": None})
    ok = aws.create(aws.put_records("in/b.jsonl", 2))
    assert aws.wait(failing)["status"] == "Failed" and aws.wait(ok)["status"] == "Completed"


def test_admin_endpoint_sets_faults(aws: Aws) -> None:
    import urllib.request

    req = urllib.request.Request(f"{aws.emulator.endpoint_url}/_emulator/config", method="POST",
                                 data=json.dumps({"faults": {"record_error_rate": 0.25}}).encode())
    with urllib.request.urlopen(req) as resp:  # noqa: S310 - 127.0.0.1 only
        assert json.loads(resp.read())["faults"]["record_error_rate"] == 0.25
    assert aws.emulator.config.faults.record_error_rate == 0.25
