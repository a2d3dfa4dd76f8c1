"""Fixtures for contract tests: a fresh emulator per test and plain boto3 clients pointed at it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bedrock_ext.emulator.config import EmulatorConfig, Quotas, Timings
from bedrock_ext.emulator.server import Emulator

TEST_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
TEST_ROLE = "arn:aws:iam::123456789012:role/BedrockBatchRole"
FAST = Timings(submitted_s=0.02, validating_s=0.02, scheduled_s=0.02, in_progress_s=0.2, stopping_s=0.05)
TERMINAL = {"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"}
TRANSCRIPT = (
    "Agent: Thanks for calling, how can I help?\n"
    "Customer: I was charged twice on my bill this month, this is really frustrating.\n"
    "Agent: I've sorted that out for you now. Next I will issue a credit of $20.00 to the account.\n"
    "Customer: Thanks so much, that's great."
)


def claude_input(text: str = TRANSCRIPT, **overrides: Any) -> dict[str, Any]:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": f"Summarize this call as JSON.\n<transcript>\n{text}\n</transcript>"}
        ]}],
    }
    return {**body, **overrides}


@dataclass
class Aws:
    """The emulator and boto3 clients for it, plus a bucket of this test's own."""

    emulator: Emulator
    s3: Any
    bedrock: Any
    runtime: Any
    bucket: str

    def put_jsonl(self, key: str, records: list[dict[str, Any]]) -> str:
        body = "".join(json.dumps(r) + "\n" for r in records).encode()
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return f"s3://{self.bucket}/{key}"

    def put_records(self, key: str, n: int, make: Callable[[int], dict[str, Any]] | None = None) -> str:
        make = make or (lambda i: {"recordId": f"REC{i:08d}", "modelInput": claude_input()})
        return self.put_jsonl(key, [make(i) for i in range(n)])

    def create(self, input_uri: str, client: Any = None, **overrides: Any) -> str:
        params = {
            "jobName": f"job-{uuid.uuid4().hex[:8]}",
            "roleArn": TEST_ROLE,
            "modelId": TEST_MODEL,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{self.bucket}/out/"}},
            **overrides,
        }
        return str((client or self.bedrock).create_model_invocation_job(**params)["jobArn"])

    def unchecked(self) -> Any:
        """A bedrock client that skips botocore's own parameter checks, to test the server's."""
        return boto3.client("bedrock", endpoint_url=self.emulator.endpoint_url, region_name="us-east-1",
                            config=Config(parameter_validation=False))

    def wait(self, arn: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.bedrock.get_model_invocation_job(jobIdentifier=arn)
            if job["status"] in TERMINAL:
                return dict(job)
            time.sleep(0.02)
        raise AssertionError(f"job {arn} not terminal after {timeout}s: {job['status']}")

    def outputs(self, arn: str) -> dict[str, bytes]:
        prefix = f"out/{arn.rsplit('/', 1)[-1]}/"
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
        return {o["Key"].removeprefix(prefix): self.s3.get_object(Bucket=self.bucket, Key=o["Key"])
                ["Body"].read() for o in listed}


def clients_for(endpoint: str, retries: int = 3) -> tuple[Any, Any, Any]:
    cfg = Config(retries={"mode": "standard", "total_max_attempts": retries})
    make = lambda service: boto3.client(service, endpoint_url=endpoint,  # noqa: E731
                                        region_name="us-east-1", config=cfg)
    return make("s3"), make("bedrock"), make("bedrock-runtime")


@pytest.fixture
def aws() -> Iterator[Aws]:
    config = EmulatorConfig(timings=FAST, quotas=Quotas(min_records_per_job=1))
    with Emulator(config) as emulator:
        s3, bedrock, runtime = clients_for(emulator.endpoint_url)
        bucket = f"test-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        yield Aws(emulator, s3, bedrock, runtime, bucket)
