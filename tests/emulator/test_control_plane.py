"""Create / Get / List / Stop through an unmodified boto3 `bedrock` client."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import TEST_MODEL, TEST_ROLE, Aws

ARN = re.compile(r"arn:aws:bedrock:us-east-1:[0-9]{12}:model-invocation-job/[a-z0-9]{12}")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_create_returns_an_arn_and_get_accepts_arn_or_id(aws: Aws) -> None:
    arn = aws.create(aws.put_records("in/a.jsonl", 3), timeoutDurationInHours=48)
    assert ARN.fullmatch(arn)
    by_arn = aws.bedrock.get_model_invocation_job(jobIdentifier=arn)
    by_id = aws.bedrock.get_model_invocation_job(jobIdentifier=arn.rsplit("/", 1)[1])
    assert by_arn["jobArn"] == by_id["jobArn"] == arn
    assert by_arn["modelId"] == TEST_MODEL and by_arn["roleArn"] == TEST_ROLE
    assert by_arn["submitTime"].tzinfo is not None
    assert by_arn["jobExpirationTime"] - by_arn["submitTime"] == dt.timedelta(hours=48)


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ({"jobName": "has space"}, "jobName"),
        ({"jobName": "a" * 64}, "jobName"),
        ({"roleArn": "arn:aws:iam::123:user/x"}, "roleArn"),
        ({"timeoutDurationInHours": 23}, "timeoutDurationInHours"),
        ({"timeoutDurationInHours": 169}, "timeoutDurationInHours"),
        ({"outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "https://bucket/x"}}},
         "outputDataConfig.s3OutputDataConfig.s3Uri"),
        ({"clientRequestToken": "bad token!"}, "clientRequestToken"),
    ],
)
def test_create_validation_errors(aws: Aws, override: dict, path: str) -> None:
    with pytest.raises(ClientError) as exc:
        aws.create(aws.put_records("in/a.jsonl", 1), client=aws.unchecked(), **override)
    code, status, message = _error(exc)
    assert (code, status) == ("ValidationException", 400)
    assert f"at '{path}' failed to satisfy constraint" in message


def test_create_missing_required_field_is_a_validation_error(aws: Aws) -> None:
    with pytest.raises(ClientError) as exc:
        aws.unchecked().create_model_invocation_job(
            jobName="x", modelId=TEST_MODEL, inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://b/k"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://b/o"}})
    assert _error(exc)[:2] == ("ValidationException", 400)
    assert "Value null at 'roleArn'" in _error(exc)[2]


def test_create_unknown_model_is_a_validation_error(aws: Aws) -> None:
    with pytest.raises(ClientError) as exc:
        aws.create(aws.put_records("in/a.jsonl", 1), modelId="acme.unknown-model-v1")
    assert _error(exc)[0] == "ValidationException"


def test_get_unknown_or_malformed_identifier(aws: Aws) -> None:
    with pytest.raises(ClientError) as exc:
        aws.bedrock.get_model_invocation_job(jobIdentifier="abcdefabcdef")
    assert _error(exc)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as exc:
        aws.bedrock.get_model_invocation_job(jobIdentifier="NOT-A-JOB")
    assert _error(exc)[:2] == ("ValidationException", 400)


def test_client_request_token_makes_create_idempotent(aws: Aws) -> None:
    uri = aws.put_records("in/a.jsonl", 2)
    first = aws.create(uri, jobName="same", clientRequestToken="tok-1")
    again = aws.create(uri, jobName="same", clientRequestToken="tok-1")
    assert first == again
    assert len(aws.bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) == 1
    with pytest.raises(ClientError) as exc:
        aws.create(uri, jobName="different", clientRequestToken="tok-1")
    assert _error(exc)[:2] == ("ConflictException", 400)


def test_concurrent_job_quota_per_model(aws: Aws) -> None:
    aws.emulator.configure(quotas={"max_concurrent_jobs": 2}, timings={"in_progress_s": 0.5})
    uri = aws.put_records("in/a.jsonl", 2)
    arns = [aws.create(uri), aws.create(uri)]
    with pytest.raises(ClientError) as exc:
        aws.create(uri)
    assert _error(exc)[:2] == ("ServiceQuotaExceededException", 400)
    assert "maximum number of submitted and in-progress" in _error(exc)[2]
    aws.create(uri, modelId="amazon.nova-lite-v1:0")  # the quota is per model
    aws.wait(arns[0])
    aws.create(uri)  # a slot freed


def test_list_filters_sorting_and_paging(aws: Aws) -> None:
    uri = aws.put_records("in/a.jsonl", 1)
    names = [f"batch-{i}" for i in range(5)]
    arns = []
    for name in names:
        arns.append(aws.create(uri, jobName=name))
        time.sleep(0.01)
    cut = aws.bedrock.get_model_invocation_job(jobIdentifier=arns[2])["submitTime"]
    for arn in arns:
        aws.wait(arn)
    pages = aws.bedrock.get_paginator("list_model_invocation_jobs").paginate(
        PaginationConfig={"PageSize": 2})
    seen = [s["jobName"] for page in pages for s in page["invocationJobSummaries"]]
    assert seen == names[::-1]  # newest first by default
    asc = aws.bedrock.list_model_invocation_jobs(sortBy="CreationTime", sortOrder="Ascending")
    assert [s["jobName"] for s in asc["invocationJobSummaries"]] == names
    after = aws.bedrock.list_model_invocation_jobs(submitTimeAfter=cut)["invocationJobSummaries"]
    assert {s["jobName"] for s in after} == set(names[3:])
    before = aws.bedrock.list_model_invocation_jobs(submitTimeBefore=cut)["invocationJobSummaries"]
    assert {s["jobName"] for s in before} == set(names[:2])
    named = aws.bedrock.list_model_invocation_jobs(nameContains="batch-3")["invocationJobSummaries"]
    assert [s["jobName"] for s in named] == ["batch-3"]
    done = aws.bedrock.list_model_invocation_jobs(statusEquals="Completed")["invocationJobSummaries"]
    assert len(done) == 5
    assert aws.bedrock.list_model_invocation_jobs(statusEquals="Failed")["invocationJobSummaries"] == []


def test_lifecycle_statuses_counts_and_times(aws: Aws) -> None:
    # Each status lasts long enough to be seen by a poll every 15 ms on a loaded machine (0.1 s was not).
    aws.emulator.configure(timings={"submitted_s": 0.5, "validating_s": 0.4, "scheduled_s": 0.4,
                                    "in_progress_s": 0.8})
    arn = aws.create(aws.put_records("in/a.jsonl", 40))
    seen: list[tuple[str, int | None, int | None]] = []
    while not seen or seen[-1][0] != "Completed":
        job = aws.bedrock.get_model_invocation_job(jobIdentifier=arn)
        seen.append((job["status"], job.get("totalRecordCount"), job.get("processedRecordCount")))
        time.sleep(0.015)
    statuses = list(dict.fromkeys(s for s, _, _ in seen))
    assert statuses == ["Submitted", "Validating", "Scheduled", "InProgress", "Completed"]
    assert all(total == 0 for s, total, _ in seen if s == "Validating")  # as AWS reports
    progress = [p for s, _, p in seen if s == "InProgress"]
    assert progress == sorted(progress) and 0 < max(progress) < 40 or len(set(progress)) > 1
    final = aws.bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert (final["totalRecordCount"], final["processedRecordCount"], final["successRecordCount"],
            final["errorRecordCount"]) == (40, 40, 40, 0)
    assert final["endTime"] >= final["submitTime"] and final["endTime"].tzinfo is not None


def test_stop_keeps_outputs_of_processed_records(aws: Aws) -> None:
    aws.emulator.configure(timings={"in_progress_s": 2.0})
    arn = aws.create(aws.put_records("in/a.jsonl", 50))
    while aws.bedrock.get_model_invocation_job(jobIdentifier=arn).get("processedRecordCount", 0) < 5:
        time.sleep(0.02)
    assert aws.bedrock.stop_model_invocation_job(jobIdentifier=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert aws.bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopping"
    final = aws.wait(arn)
    assert final["status"] == "Stopped" and 5 <= final["processedRecordCount"] < 50
    lines = aws.outputs(arn)["a.jsonl.out"].decode().splitlines()
    assert len(lines) == final["processedRecordCount"]
    with pytest.raises(ClientError) as exc:
        aws.bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert _error(exc)[:2] == ("ValidationException", 400)
    assert "State was: Stopped" in _error(exc)[2]
