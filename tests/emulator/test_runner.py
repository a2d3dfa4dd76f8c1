"""The export + JobRunner path against the emulator: layout, idempotence, concurrency, makespan,
terminal outcomes, and re-attach after the process is killed with SIGKILL mid-wait."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bedrock_ext.aws.client import S3, AwsSettings
from bedrock_ext.aws.jobs import JobStatus
from tests.emulator import runner_child
from tests.emulator.conftest import Aws

ROOT = Path(__file__).resolve().parents[2]


def test_export_then_run_accounts_for_every_record(aws: Aws) -> None:
    jobs = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 250)
    assert [j.status for j in jobs] == [JobStatus.COMPLETED] * 3
    s3 = S3(AwsSettings(endpoint_url=aws.emulator.endpoint_url))
    expected = {r.record_id for r in runner_child.prepared(250)}
    seen: list[str] = []
    for job in jobs:
        prefix = job.output_prefix_uri.removeprefix(f"s3://{aws.bucket}/")
        keys = list(s3.list_keys(aws.bucket, prefix))
        assert sorted(k.rsplit("/", 1)[1] for k in keys)[-1] == "part-00001.jsonl.out"
        lines = [json.loads(x) for k in keys if k.endswith(".jsonl.out")
                 for x in s3.get_bytes(aws.bucket, k).decode().splitlines()]
        manifest = json.loads(s3.get_bytes(aws.bucket, prefix + "manifest.json.out"))
        answered = [x for x in lines if "modelOutput" in x]  # Converse response bodies
        assert manifest["inputTokenCount"] == sum(x["modelOutput"]["usage"]["inputTokens"] for x in answered)
        seen += [x["recordId"] for x in answered]
    assert sorted(seen) == sorted(expected) and len(seen) == 250


def test_rerun_uploads_nothing_and_submits_nothing(aws: Aws) -> None:
    first = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 150)
    exported = runner_child.export(aws.emulator.endpoint_url, aws.bucket, 150)
    assert not any(j.uploaded for j in exported)
    again = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 150)
    assert [j.job_arn for j in again] == [j.job_arn for j in first]
    assert len(aws.bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) == len(first)


def test_concurrency_limit_and_makespan(aws: Aws) -> None:
    # 2 s per job: under a loaded suite the runner's polls and the emulator's thread added ~2 s to
    # the makespan of 1 s jobs (5.1 s against 3.2 s ideal); sequential jobs would take twice the ideal.
    duration = 2.0
    aws.emulator.configure(timings={"in_progress_s": duration})
    exported = runner_child.export(aws.emulator.endpoint_url, aws.bucket, 600)  # 6 jobs of 100
    specs = runner_child.specs_for(exported, aws.bucket)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], sum(1 for _ in aws.emulator.backend.active_jobs()))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.monotonic()
    jobs = runner_child.runner(aws.emulator.endpoint_url, max_concurrent=2).run(specs)
    makespan = time.monotonic() - start
    stop.set()
    sampler.join()
    assert len(jobs) == 6 and all(j.status is JobStatus.COMPLETED for j in jobs)
    assert peak[0] == 2, peak
    per_job = duration + 0.06  # plus the three 0.02 s phases before InProgress
    ideal = math.ceil(6 / 2) * per_job
    assert ideal <= makespan <= ideal * 1.6, (makespan, ideal)


def test_failed_job_comes_back_with_the_aws_message(aws: Aws) -> None:
    aws.emulator.configure(faults={"job_outcome": "Failed", "failure_message": "Role cannot read s3://x"})
    failed = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 50)
    assert [(j.status, j.message) for j in failed] == [(JobStatus.FAILED, "Role cannot read s3://x")]


@pytest.mark.parametrize("outcome", ["PartiallyCompleted", "Stopped", "Expired"])
def test_partial_outcomes_keep_their_outputs(aws: Aws, outcome: str) -> None:
    aws.emulator.configure(faults={"job_outcome": outcome, "partial_fraction": 0.5})
    (job,) = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 60)
    assert job.status is JobStatus(outcome) and job.processed_record_count == 30
    s3 = S3(AwsSettings(endpoint_url=aws.emulator.endpoint_url))
    body = s3.get_bytes(aws.bucket, job.output_prefix_uri.removeprefix(f"s3://{aws.bucket}/") + "part-00000.jsonl.out")
    assert len(body.decode().splitlines()) == 30


def test_reattach_after_sigkill_mid_wait(aws: Aws) -> None:
    aws.emulator.configure(timings={"in_progress_s": 30.0})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.emulator.runner_child", aws.emulator.endpoint_url,
                              aws.bucket, "150"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(aws.bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) < 2:
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)  # mid-wait: both jobs submitted, the child is polling
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    before = {s["jobArn"] for s in aws.bedrock.list_model_invocation_jobs()["invocationJobSummaries"]}
    aws.emulator.configure(timings={"in_progress_s": 0.1})
    jobs = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 150)
    assert {j.job_arn for j in jobs} == before  # same jobs, re-attached
    after = aws.bedrock.list_model_invocation_jobs()["invocationJobSummaries"]
    assert len(after) == 2 and all(j.status is JobStatus.COMPLETED for j in jobs)


def test_create_throttling_beyond_botocore_retries_is_waited_out(aws: Aws) -> None:
    aws.emulator.configure(faults={"create_throttle_count": 3})
    specs = runner_child.specs_for(runner_child.export(aws.emulator.endpoint_url, aws.bucket, 50), aws.bucket)
    no_retries = runner_child.runner(aws.emulator.endpoint_url, max_attempts=1)  # every 429 reaches the runner
    (job,) = no_retries.run(specs)
    assert job.status is JobStatus.COMPLETED
