"""bedrock-runtime InvokeModel, restarts with a state dir, and the standalone server."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from bedrock_ext.emulator.config import EmulatorConfig, Quotas
from bedrock_ext.emulator.s3_reads import STREAM_FROM
from bedrock_ext.emulator.server import Emulator
from tests.emulator.conftest import FAST, TEST_MODEL, Aws, claude_input, clients_for


def test_invoke_model_answers_like_batch(aws: Aws) -> None:
    resp = aws.runtime.invoke_model(modelId=TEST_MODEL, body=json.dumps(claude_input()))
    out = json.loads(resp["body"].read())
    assert resp["contentType"] == "application/json"
    assert out["type"] == "message" and json.loads(out["content"][0]["text"])["intent"] == "billing_dispute"


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        (TEST_MODEL, {"messages": []}, "required key [anthropic_version] not found"),
        ("acme.nothing-v1", claude_input(), "The provided model identifier is invalid."),
    ],
)
def test_invoke_model_validation(aws: Aws, model: str, body: dict, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        aws.runtime.invoke_model(modelId=model, body=json.dumps(body))
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert message in exc.value.response["Error"]["Message"]


def test_invoke_model_injected_throttling(aws: Aws) -> None:
    aws.emulator.configure(faults={"record_error_rate": 1.0, "record_error_codes": [429]})
    _, _, runtime = clients_for(aws.emulator.endpoint_url, retries=1)
    with pytest.raises(ClientError) as exc:
        runtime.invoke_model(modelId=TEST_MODEL, body=json.dumps(claude_input()))
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"


def _reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))  # noqa: S310


def test_state_dir_keeps_objects_and_jobs_across_restarts(tmp_path: Path) -> None:
    config = EmulatorConfig(timings=FAST, quotas=Quotas(min_records_per_job=1))
    bucket = f"state-{uuid.uuid4().hex[:10]}"
    record = json.dumps({"recordId": "R1", "modelInput": claude_input()}).encode()
    with Emulator(config, state_dir=tmp_path) as first:
        s3, bedrock, _ = clients_for(first.endpoint_url)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="in/a.jsonl", Body=record)
        first.configure(timings={"in_progress_s": 30.0})  # still running at restart
        arn = bedrock.create_model_invocation_job(
            jobName="survivor", roleArn="arn:aws:iam::123456789012:role/r", modelId=TEST_MODEL,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/in/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/out/"}},
            clientRequestToken="survivor-token")["jobArn"]
        while bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] != "InProgress":
            time.sleep(0.02)
        _reset_moto(first.endpoint_url)  # wipe moto's memory: only the state dir remains
    with Emulator(config, state_dir=tmp_path) as second:
        s3, bedrock, _ = clients_for(second.endpoint_url)
        assert s3.get_object(Bucket=bucket, Key="in/a.jsonl")["Body"].read() == record
        assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "InProgress"
        again = bedrock.create_model_invocation_job(
            jobName="survivor", roleArn="arn:aws:iam::123456789012:role/r", modelId=TEST_MODEL,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/in/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/out/"}},
            clientRequestToken="survivor-token")["jobArn"]
        assert again == arn  # idempotency survives the restart too
        second.configure(timings={"in_progress_s": 0.1})
        deadline = time.monotonic() + 10
        while bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] != "Completed":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        key = f"out/{arn.rsplit('/', 1)[1]}/a.jsonl.out"
        assert b'"recordId":"R1"' in s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_standalone_server_command(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bedrock_ext.cli.main", "emulator", "serve", "--port", "0",
         "--state-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert "not an LLM" in banner
        endpoint = banner.split(" at ", 1)[1].split(";", 1)[0]
        assert endpoint.startswith("http://127.0.0.1:")
        _, bedrock, _ = clients_for(endpoint)
        assert bedrock.list_model_invocation_jobs()["invocationJobSummaries"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0  # SIGTERM stops it cleanly


def test_standalone_server_stops_on_ctrl_c_when_started_in_the_background(tmp_path: Path) -> None:
    """A shell starts background jobs with SIGINT ignored; `kill -INT` (Ctrl-C) must still stop the
    server cleanly, and the state dir is free for the next one."""
    for _ in range(2):  # the second start needs the first one's lock released
        proc = subprocess.Popen(
            [sys.executable, "-m", "bedrock_ext.cli.main", "emulator", "serve", "--port", "0",
             "--state-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # noqa: PLW1509 - as a shell's `&`
        assert proc.stdout is not None and "not an LLM" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_large_objects_restore_from_the_state_dir_with_their_etags(tmp_path: Path) -> None:
    """A large object comes back by reading its mirrored file (no copy into moto), with the ETag
    it had, multipart form included; it can be read in ranges, overwritten and deleted after."""
    bucket = f"state-{uuid.uuid4().hex[:10]}"
    body = os.urandom(STREAM_FROM + 5 * 2**20 + 7)
    parts = TransferConfig(multipart_threshold=8 * 2**20, multipart_chunksize=8 * 2**20)
    with Emulator(EmulatorConfig(), state_dir=tmp_path) as first:
        s3, _, _ = clients_for(first.endpoint_url)
        s3.create_bucket(Bucket=bucket)
        s3.upload_fileobj(io.BytesIO(body), bucket, "out/big.jsonl.out", Config=parts)
        s3.upload_fileobj(io.BytesIO(body), bucket, "out/gone.jsonl.out", Config=parts)
        etag = s3.head_object(Bucket=bucket, Key="out/big.jsonl.out")["ETag"]
        assert etag.endswith('-3"')  # a multipart ETag
        _reset_moto(first.endpoint_url)
    with Emulator(EmulatorConfig(), state_dir=tmp_path) as second:
        s3, _, _ = clients_for(second.endpoint_url)
        listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        assert listed["out/big.jsonl.out"]["ETag"] == etag and listed["out/big.jsonl.out"]["Size"] == len(body)
        assert s3.get_object(Bucket=bucket, Key="out/big.jsonl.out")["Body"].read() == body
        ranged = s3.get_object(Bucket=bucket, Key="out/big.jsonl.out", Range="bytes=100-199")
        assert ranged["Body"].read() == body[100:200] and ranged["ETag"] == etag
        s3.put_object(Bucket=bucket, Key="out/big.jsonl.out", Body=b"small now")
        s3.delete_object(Bucket=bucket, Key="out/gone.jsonl.out")
        _reset_moto(second.endpoint_url)
    with Emulator(EmulatorConfig(), state_dir=tmp_path) as third:
        s3, _, _ = clients_for(third.endpoint_url)
        assert s3.get_object(Bucket=bucket, Key="out/big.jsonl.out")["Body"].read() == b"small now"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["out/big.jsonl.out"]


def test_a_state_dir_deleted_under_a_running_emulator_is_recreated_not_a_500(tmp_path: Path) -> None:
    """`rm -rf target/` (or `dbt clean`) while a process keeps its embedded emulator: the next
    requests succeed and are kept on disk again, as from an empty state dir."""
    state = tmp_path / "state"
    # The job stays Submitted: its status below does not depend on how fast the lifecycle ticks.
    config = EmulatorConfig(timings=dataclasses.replace(FAST, submitted_s=60.0), quotas=Quotas(min_records_per_job=1))
    bucket = f"gone-{uuid.uuid4().hex[:10]}"
    with Emulator(config, state_dir=state) as emulator:
        s3, bedrock, _ = clients_for(emulator.endpoint_url)
        shutil.rmtree(state)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="in/a.jsonl",
                      Body=json.dumps({"recordId": "R1", "modelInput": claude_input()}).encode())
        arn = bedrock.create_model_invocation_job(
            jobName="after-rm", roleArn="arn:aws:iam::123456789012:role/r", modelId=TEST_MODEL,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/in/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/out/"}})["jobArn"]
        assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Submitted"
    assert sorted(p.name for p in (state / "s3" / bucket).iterdir() if p.is_file()) == ["in%2Fa.jsonl"]
    assert json.loads((state / "bedrock_jobs.json").read_text())["jobs"][0]["job_arn"] == arn
