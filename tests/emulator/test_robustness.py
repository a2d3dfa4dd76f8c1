"""The emulator under hostile input and concurrent use: AWS-style 4xx, never a 500, never two jobs
for one clientRequestToken, never two processes on one state dir."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_ext.emulator.config import EmulatorConfig
from bedrock_ext.emulator.errors import EmulatorError
from bedrock_ext.emulator.server import Emulator
from tests.emulator.conftest import TEST_ROLE, Aws

AUTH = (
    "AWS4-HMAC-SHA256 Credential=emulator/20261126/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _raw(
    aws: Aws,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, Any]]:
    host, port = aws.emulator.endpoint_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request(method, path, body=body, headers={"Authorization": AUTH, **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {"type": response.getheader("x-amzn-ErrorType"), **json.loads(payload or b"{}")}


def _create_body(**overrides: Any) -> bytes:
    body = {
        "jobName": "j1",
        "roleArn": TEST_ROLE,
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://bkt/in/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bkt/out/"}},
        **overrides,
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"inputDataConfig": "s3://bkt/in/"},
        {"outputDataConfig": ["x"]},
        {"modelId": 42},
        {"jobName": {"a": 1}},
        {"tags": "team=a"},
        {"tags": [1, 2]},
        {"timeoutDurationInHours": "24"},
        {"roleArn": None},
        {"inputDataConfig": {"s3InputDataConfig": "s3://x"}},
    ],
)
def test_wrongly_typed_members_get_a_validation_exception(aws: Aws, overrides: dict[str, Any]) -> None:
    status, body = _raw(
        aws, "POST", "/model-invocation-job", _create_body(**overrides), {"Content-Type": "application/json"}
    )
    assert (status, body["type"]) == (400, "ValidationException"), body
    assert body["message"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_bodies_get_a_validation_exception(aws: Aws, body: bytes) -> None:
    status, payload = _raw(aws, "POST", "/model-invocation-job", body)
    assert (status, payload["type"]) == (400, "ValidationException")


def test_oversized_body_is_refused_without_reading_it(aws: Aws) -> None:
    status, payload = _raw(
        aws, "POST", "/model-invocation-job", b"{}", {"Content-Length": "99999999999"}, timeout=5
    )
    assert (status, payload["type"]) == (400, "ValidationException")
    assert "larger than the limit" in payload["message"]
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    status, payload = _raw(aws, "POST", "/model-invocation-job", big)
    assert (status, payload["type"]) == (400, "ValidationException")


def test_bad_chunked_encoding_is_a_400(aws: Aws) -> None:
    host, port = aws.emulator.endpoint_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /model-invocation-job HTTP/1.1\r\nHost: x\r\nAuthorization: "
            + AUTH.encode()
            + b"\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n0\r\n\r\n"
        )
        reply = sock.recv(4096).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 400") and "ValidationException" in reply


def test_one_token_from_concurrent_callers_makes_one_job(aws: Aws) -> None:
    uri = aws.put_records("in/a.jsonl", 3)
    arns: list[str] = []

    def create() -> None:
        arns.append(aws.create(uri, jobName="same-job", clientRequestToken="token-1"))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(arns)) == 1 and len(aws.emulator.backend.jobs) == 1
    with pytest.raises(ClientError) as exc:  # same token, other parameters: AWS's ConflictException
        aws.create(uri, jobName="other-name", clientRequestToken="token-1")
    assert exc.value.response["Error"]["Code"] == "ConflictException"


def test_a_state_dir_serves_one_emulator_process_at_a_time(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(), state_dir=tmp_path):
        with pytest.raises(EmulatorError) as exc:
            Emulator(EmulatorConfig(), state_dir=tmp_path)
        assert f"{tmp_path} is in use by another process" in str(exc.value)
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "bedrock_ext.cli.main",
                "emulator",
                "serve",
                "--port",
                "0",
                "--state-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.returncode == 1 and "is in use by another process" in child.stderr
        assert "Traceback" not in child.stderr
    with Emulator(EmulatorConfig(), state_dir=tmp_path):  # released on stop
        pass


def test_a_damaged_state_file_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "bedrock_jobs.json").write_text('{"tokens": {}, "jobs": [')
    with pytest.raises(EmulatorError) as exc:
        Emulator(EmulatorConfig(), state_dir=tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "bedrock_jobs.json") in message and "Move it aside" in message
    with Emulator(EmulatorConfig(), state_dir=tmp_path / "fresh"):  # the failed one released its lock
        pass
    (tmp_path / "bedrock_jobs.json").rename(tmp_path / "bedrock_jobs.json.bad")
    with Emulator(EmulatorConfig(), state_dir=tmp_path):
        pass


DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 kB: under the body limits, far past any parser's recursion
DEEP_OBJECT = b'{"a":' * 100 + b"1" + b"}" * 100  # 100 levels: parses, but deeper than the emulator takes


@pytest.mark.parametrize("path", ["/model-invocation-job", "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
                                  "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", "/_emulator/config"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["100000-levels", "100-levels"])
def test_deeply_nested_json_gets_a_400_naming_it(aws: Aws, path: str, body: bytes) -> None:
    status, payload = _raw(aws, "POST", path, body, {"Content-Type": "application/json"})
    assert status == 400, payload
    assert "nested more than 64 levels" in payload["message"]


@pytest.mark.parametrize(("config", "named"), [
    ({"timings": {"in_progress_s": "slow"}}, "timings.in_progress_s must be a number >= 0, got 'slow'"),
    ({"timings": {"validating_s": -1}}, "timings.validating_s must be a number >= 0"),
    ({"quotas": {"max_concurrent_jobs": 2.5}}, "quotas.max_concurrent_jobs must be a whole number >= 0"),
    ({"faults": {"missing_manifest": "yes"}}, "faults.missing_manifest must be true or false"),
    ({"faults": {"record_error_codes": ["429"]}}, "faults.record_error_codes must be a list of HTTP status codes"),
    ({"timings": "fast"}, "timings must be a mapping"),
    ({"timings": {"warp_s": 1}}, "warp_s"),
    ([1, 2], "must be a JSON object"),
])
def test_a_bad_config_is_refused_and_jobs_keep_running(aws: Aws, config: Any, named: str) -> None:
    status, payload = _raw(aws, "POST", "/_emulator/config", json.dumps(config).encode())
    assert status == 400 and named in payload["message"], payload
    job = aws.wait(aws.create(aws.put_records("in/a.jsonl", 3)))  # the lifecycle still ticks
    assert job["status"] == "Completed"
