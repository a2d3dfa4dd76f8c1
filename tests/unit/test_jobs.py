"""jobs.py without a server: status enum, from_api, error mapping (botocore Stubber), the runner's
concurrency, waiting on quota/throttling, backoff and timeout (fake clock and sleep)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_ext.aws.jobs import BatchJob, BedrockBatchClient, JobSpec, JobStatus
from bedrock_ext.aws.runner import JobRunner, PollPolicy
from bedrock_ext.errors import (
    BedrockRequestError,
    JobNotFoundError,
    JobTimeoutError,
    QuotaExceededError,
    ThrottledError,
)

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefabcdef"


def _api(name: str, status: str, arn: str = ARN, **extra: Any) -> dict[str, Any]:
    return {"jobArn": arn, "jobName": name, "modelId": "m", "roleArn": "arn:aws:iam::123456789012:role/r",
            "status": status, "submitTime": NOW,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}}, **extra}


def test_status_enum_has_ten_values_five_terminal() -> None:
    assert len(JobStatus) == 10
    assert {s.value for s in JobStatus if s.is_terminal} == {
        "Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"}


def test_from_api_and_output_prefix() -> None:
    job = BatchJob.from_api(_api("n", "InProgress", totalRecordCount=10, processedRecordCount=4))
    assert job.status is JobStatus.IN_PROGRESS and job.job_id == "abcdefabcdef"
    assert job.output_prefix_uri == "s3://b/out/abcdefabcdef/"
    assert "4/10 records" in job.progress()


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("ThrottlingException", 429, ThrottledError), ("ServiceQuotaExceededException", 400, QuotaExceededError),
     ("ResourceNotFoundException", 404, JobNotFoundError), ("ValidationException", 400, BedrockRequestError),
     ("AccessDeniedException", 403, BedrockRequestError)],
)
def test_client_errors_map_to_our_tree_with_aws_message(code: str, status: int, error: type) -> None:
    client = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("get_model_invocation_job", service_error_code=code, service_message="aws says no",
                              http_status_code=status)
        with pytest.raises(error) as exc:
            BedrockBatchClient(client).get_job(ARN)
    assert "aws says no" in str(exc.value) and code in str(exc.value)


def test_create_sends_deterministic_name_and_token() -> None:
    client = boto3.client("bedrock", region_name="us-east-1")
    spec = JobSpec(job_key="k" * 32, input_s3_uri="s3://b/in/k/", output_s3_uri="s3://b/out/",
                   model_id="m", role_arn="arn:aws:iam::123456789012:role/r")
    identity = hashlib.sha256(("k" * 32 + "\x1f" + "s3://b/in/k/").encode()).hexdigest()[:32]  # records + input
    with Stubber(client) as stub:
        stub.add_response("create_model_invocation_job", {"jobArn": ARN}, {
            "jobName": "bedrock-ext-" + identity[:24], "clientRequestToken": "bedrock-ext-" + identity,
            "roleArn": spec.role_arn, "modelId": "m",
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/k/", "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
            "modelInvocationType": "InvokeModel"})
        assert BedrockBatchClient(client).create_job(spec) == ARN


class FakeBedrock:
    """In-memory stand-in for BedrockBatchClient: each job finishes after `polls` Gets."""

    def __init__(self, polls: int = 3, quota: int = 100, throttle_first: int = 0) -> None:
        self.polls, self.quota, self.throttle_first = polls, quota, throttle_first
        self.jobs: dict[str, dict[str, Any]] = {}
        self.max_active = 0
        self.creates = 0

    def _active(self) -> int:
        return sum(1 for j in self.jobs.values() if j["left"] > 0)

    def create_job(self, spec: JobSpec) -> str:
        self.creates += 1
        if self.creates <= self.throttle_first:
            raise ThrottledError("slow down")
        if self._active() >= self.quota:
            raise QuotaExceededError("quota")
        arn = f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/{len(self.jobs):012d}"
        self.jobs[arn] = {"name": spec.job_name, "left": self.polls}
        self.max_active = max(self.max_active, self._active())
        return arn

    def get_job(self, arn: str) -> BatchJob:
        j = self.jobs[arn]
        j["left"] = max(0, j["left"] - 1)
        return BatchJob.from_api(_api(j["name"], "Completed" if j["left"] == 0 else "InProgress", arn=arn))

    def list_jobs(self, **_: Any) -> list[BatchJob]:
        return []


def _specs(n: int) -> list[JobSpec]:
    return [JobSpec(job_key=hashlib.sha256(str(i).encode()).hexdigest()[:32], input_s3_uri=f"s3://b/in/{i}/", output_s3_uri="s3://b/out/",
                    model_id="m", role_arn="arn:aws:iam::123456789012:role/r") for i in range(n)]


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []  # type: ignore[var-annotated]

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_runner_never_exceeds_max_concurrent_and_finishes_all() -> None:
    fake, clock = FakeBedrock(polls=4), FakeClock()
    runner = JobRunner(fake, max_concurrent=3, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    jobs = runner.run(_specs(10))
    assert len(jobs) == 10 and all(j.status is JobStatus.COMPLETED for j in jobs)
    assert fake.max_active == 3 and fake.creates == 10


def test_runner_waits_out_quota_and_throttling() -> None:
    fake, clock = FakeBedrock(polls=2, quota=2, throttle_first=2), FakeClock()
    runner = JobRunner(fake, max_concurrent=5, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert len(runner.run(_specs(6))) == 6
    assert fake.max_active <= 2


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy, rng = PollPolicy(initial_s=1, max_s=10, multiplier=2, jitter=0.1), random.Random(1)
    delays = [policy.delay(a, rng) for a in range(8)]
    assert 0.9 <= delays[0] <= 1.1 and all(9 <= d <= 11 for d in delays[4:])
    assert len({round(d, 6) for d in delays[4:]}) > 1  # jittered


def test_timeout_raises_with_the_last_state() -> None:
    fake, clock = FakeBedrock(polls=10_000), FakeClock()
    runner = JobRunner(fake, timeout_s=120, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    with pytest.raises(JobTimeoutError) as exc:
        runner.run(_specs(2))
    assert "still running after 120s" in str(exc.value) and "re-run to re-attach" in str(exc.value)
    assert all(j.status is JobStatus.IN_PROGRESS for j in exc.value.jobs.values())  # type: ignore[attr-defined]


def test_submit_only_returns_at_once() -> None:
    fake, clock = FakeBedrock(polls=5), FakeClock()
    runner = JobRunner(fake, max_concurrent=2, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    jobs = runner.run(_specs(3), wait=False)
    assert len(jobs) == 2 and clock.sleeps == []


class CountingBedrock(FakeBedrock):
    """Reports 1,000 records, 100 more processed per poll."""

    def get_job(self, arn: str) -> BatchJob:
        j = self.jobs[arn]
        j["left"] = max(0, j["left"] - 1)
        done = 1000 - 100 * j["left"]
        status = "Completed" if j["left"] == 0 else "InProgress"
        return BatchJob.from_api(_api(j["name"], status, arn=arn, totalRecordCount=1000, processedRecordCount=done))


def test_progress_lines_show_elapsed_time_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    fake, clock = CountingBedrock(polls=10), FakeClock()
    policy = PollPolicy(initial_s=10, max_s=10, jitter=0.0, log_every_s=0)
    runner = JobRunner(fake, poll=policy, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="bedrock_ext.aws.runner"):
        runner.run(_specs(1))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("batch progress")]
    assert any(line.startswith("batch progress after 20s:") for line in lines), lines
    # 100 records per 10 s poll = 10 records/s; at 300/1000 done, 700 are left: 1m10s.
    assert any("300/1000 records processed; about 1m10s left at 10.0 records/s" in line for line in lines), lines


def test_two_projects_sending_the_same_records_from_their_own_prefixes_never_share_a_job() -> None:
    dev, prod = (JobSpec(job_key="k" * 32, input_s3_uri=f"s3://b/{env}/input/k/", output_s3_uri=f"s3://b/{env}/out/",
                         model_id="m", role_arn="arn:aws:iam::123456789012:role/r") for env in ("dev", "prod"))
    assert dev.job_name != prod.job_name and dev.client_request_token != prod.client_request_token


class ListingBedrock(FakeBedrock):
    """A fake account that already holds ``listed`` jobs (name, input URI), all Completed."""

    def __init__(self, listed: list[tuple[str, str]]) -> None:
        super().__init__(polls=1)
        self.listed = listed

    def list_jobs(self, **_: Any) -> list[BatchJob]:
        return [BatchJob.from_api(_api(name, "Completed", arn=f"{ARN}{i}", inputDataConfig={
            "s3InputDataConfig": {"s3Uri": uri}})) for i, (name, uri) in enumerate(self.listed)]


def test_a_job_an_older_version_named_is_re_attached_only_from_the_same_input() -> None:
    spec = _specs(1)[0]
    mine = ListingBedrock([(spec.legacy_base_name, spec.input_s3_uri)])  # submitted before 0.5
    jobs = JobRunner(mine).run([spec])  # type: ignore[arg-type]
    assert mine.creates == 0 and [j.job_name for j in jobs] == [spec.legacy_base_name]
    theirs = ListingBedrock([(spec.legacy_base_name, "s3://b/another-project/in/0/")])  # same records, elsewhere
    jobs = JobRunner(theirs).run([spec], wait=False)  # type: ignore[arg-type]
    assert theirs.creates == 1 and [j.job_name for j in jobs] == [spec.job_name] != [spec.legacy_base_name]
