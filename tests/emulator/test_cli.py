"""`bedrock-ext jobs ...` and `estimate` against the emulator: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_ext.cli import main
from bedrock_ext.transcripts.generator import GenerateSpec, write_dataset
from tests.emulator import runner_child
from tests.emulator.conftest import Aws


def test_jobs_list_show_wait_stop(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    (job,) = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 50)
    ep = ["--endpoint-url", aws.emulator.endpoint_url]
    assert main(["jobs", "list", *ep, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [j["job_id"] for j in listed] == [job.job_id] and listed[0]["status"] == "Completed"
    assert main(["jobs", "show", job.job_id, *ep]) == 0
    assert json.loads(capsys.readouterr().out)["total_records"] == 50
    assert main(["jobs", "wait", job.job_arn, *ep, "--poll-interval", "0.05"]) == 0
    assert main(["jobs", "stop", job.job_id, *ep]) == 1  # already Completed
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "State was: Completed" in err


def test_jobs_show_unknown_job_is_one_line(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "show", "abcdefabcdef", "--endpoint-url", aws.emulator.endpoint_url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bedrock-ext: error: GetModelInvocationJob") and "ResourceNotFoundException" in err


def test_estimate_and_budget_guard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "t.parquet"
    write_dataset(GenerateSpec(rows=200, adversarial=True), data)
    assert main(["estimate", "--parquet", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("208 records") and "4 blank_transcript" in out and "batch $" in out
    assert main(["estimate", "--parquet", str(data), "--budget-usd", "0.001"]) == 1
    assert "above bedrock_budget_usd $0.0010" in capsys.readouterr().err
