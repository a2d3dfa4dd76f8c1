"""Issue 12: nothing paid twice, nothing blocked. Each test failed on the code before the fix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from bedrock_ext.transcripts.generator import generate_chunk
from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, statuses, write_transcripts

FAST = {"poll_interval_s": 0.05, "min_records_per_job": 1}


def _status_counts(project: DbtProject) -> dict[str, int]:
    return dict(project.query("select summary_status, count(*) from fct_call_summaries group by all"))


def _dbt_cli(project: DbtProject, variables: dict) -> list[str]:
    dbt = Path(sys.executable).parent / "dbt"
    root = str(project.root)
    return [str(dbt), "build", "--project-dir", root, "--profiles-dir", root, "--vars", json.dumps(variables)]


def _start_build(project: DbtProject, variables: dict) -> subprocess.Popen:  # type: ignore[type-arg]
    """A real `dbt build` in a child process (to be killed, or raced by another build)."""
    return subprocess.Popen(_dbt_cli(project, variables), cwd=project.root, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(condition, child: subprocess.Popen, what: str, seconds: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert child.poll() is None, f"dbt build ended before {what}"
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.01)


def _invocations(root: Path) -> list[str]:
    log = root / "target" / "emulator" / "runtime_invocations.jsonl"
    return [json.loads(line)["body_sha256"] for line in log.read_text().splitlines()] if log.exists() else []


def test_on_demand_killed_midway_then_rerun_pays_each_record_once(dbt_project: DbtProject, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(
        "BEDROCK_EXT_EMULATOR_CONFIG",
        json.dumps(
            {
                "faults": {
                    "record_error_rate": 0.3,
                    "record_error_codes": [400],
                    "seed": 4,
                    "invoke_latency_s": 0.05,
                }
            }
        ),
    )
    write_transcripts(dbt_project, rows=60)
    variables = {"poll_interval_s": 0.05, "small_batch_policy": "on_demand"}
    child = _start_build(dbt_project, variables)
    _wait_for(lambda: len(_invocations(dbt_project.root)) >= 10, child, "10 paid invocations")
    time.sleep(0.02)  # a moment between calls: not right after the emulator logged one
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    paid_before_kill = len(_invocations(dbt_project.root))
    assert paid_before_kill < 40  # killed midway: most records were not invoked yet

    assert_all_passed(dbt_project.dbt(["build"], **variables))
    paid = _invocations(dbt_project.root)
    # Each answer is in S3 before the next call, so only a call in flight at the kill (answered by
    # the service, not yet stored: at most one per worker, 4) can be paid again. Before the fix every
    # answer of the killed build was paid again.
    assert len(paid) - len(set(paid)) <= 4, (len(paid), len(set(paid)), paid_before_kill)
    ((summarized,),) = dbt_project.query(
        "select count(*) from fct_call_summaries where summary_status = 'summarized' and inference_mode = 'on_demand'"
    )
    assert summarized == len(set(paid)) > 30
    assert sum(_status_counts(dbt_project).values()) == 60


def test_failed_job_after_its_last_attempt_fails_its_records_and_blocks_nothing(
    dbt_project: DbtProject,
) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")
    emulator.configure(
        quotas={"min_records_per_job": 1},
        faults={"job_outcome": "Failed", "failure_message": "Bedrock could not assume the role"},
    )
    write_transcripts(dbt_project, rows=60)
    first = dbt_project.dbt(["build"], **FAST, max_attempts=2)
    assert_all_passed(first)  # a Failed job warns; the build goes on
    ((reason,),) = dbt_project.query("select distinct pending_reason from fct_call_summaries")
    assert "failed (Bedrock could not assume the role); the next build resubmits it" in reason

    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=2))  # attempt 2 (-g2) Fails too
    assert _status_counts(dbt_project) == {"failed": 60}
    ((code, message),) = dbt_project.query(
        "select distinct failure_code, failure_message from fct_call_summaries"
    )
    assert code == "job_failed" and "(attempt 2 of 2): Bedrock could not assume the role" in message

    emulator.configure(faults={"job_outcome": None})
    old = pq.read_table(dbt_project.root / "data" / "transcripts.parquet")
    new = generate_chunk(seed=8, chunk_index=0, first_row=60, n=40)
    pq.write_table(pa.concat_tables([old, new]), dbt_project.root / "data" / "transcripts.parquet")
    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=2))  # the exhausted job blocks nothing
    assert _status_counts(dbt_project) == {"failed": 60, "summarized": 40}
    assert len(emulator.backend.jobs) == 3  # g1, g2 and the new records' job; nothing resubmitted again

    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=2, retry_failed=True))
    assert _status_counts(dbt_project) == {"summarized": 100}  # re-requested on purpose, one new job
    assert len(emulator.backend.jobs) == 4
    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=2, retry_failed=True))
    assert len(emulator.backend.jobs) == 4  # summarized rows are never requested again


def test_fixing_a_setting_requests_the_failed_rows_again(dbt_project: DbtProject) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")
    emulator.configure(quotas={"min_records_per_job": 1})
    write_transcripts(dbt_project, rows=50)
    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=1, max_tokens=20))  # answers cut short
    assert _status_counts(dbt_project) == {"failed": 50}
    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=1, max_tokens=600))
    assert _status_counts(dbt_project) == {"summarized": 50}
    assert dbt_project.query("select distinct max_tokens from stg_bedrock__batch_outputs order by 1") == [
        (20,),
        (600,),
    ]
    jobs = len(emulator.backend.jobs)
    assert_all_passed(dbt_project.dbt(["build"], **FAST, max_attempts=1, max_tokens=600))  # nothing changed
    assert len(emulator.backend.jobs) == jobs == 2


def test_a_bad_setting_is_refused_before_anything_is_uploaded(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=120)
    for name, value, message in (
        ("temperature", 5, "temperature 5.0 is out of range"),
        ("s3_prefix", "../../escape", "s3_prefix '../../escape' is not allowed"),
        ("max_attempts", 0, "max_attempts must be >= 1"),
    ):
        result = dbt_project.dbt(["build"], **FAST, **{name: value})
        assert not result.success and statuses(result)["bedrock_batch_input"] == "error"
        text = next(str(r.message) for r in result.result if r.node.name == "bedrock_batch_input")
        assert message in text, text
    s3_files = [p for p in (dbt_project.root / "target" / "emulator" / "s3").rglob("*") if p.is_file()]
    assert s3_files == []


def test_retries_below_the_minimum_go_on_demand_after_the_wait(dbt_project: DbtProject) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")  # minimum: 100 records per job
    emulator.configure(faults={"record_error_rate": 0.3, "record_error_codes": [429], "seed": 2})
    write_transcripts(dbt_project, rows=150)
    variables = {"poll_interval_s": 0.05, "max_attempts": 3}
    assert_all_passed(dbt_project.dbt(["build"], **variables))
    retries = _status_counts(dbt_project)["pending"]
    assert 20 < retries < 100
    emulator.configure(faults={"record_error_rate": 0.0})
    assert_all_passed(dbt_project.dbt(["build"], **variables))  # below the minimum, within the wait
    assert _status_counts(dbt_project)["pending"] == retries
    assert_all_passed(dbt_project.dbt(["build"], **variables, retry_max_wait_hours=0))
    assert _status_counts(dbt_project) == {"summarized": 150}
    assert dbt_project.query(
        "select inference_mode, count(*) from fct_call_summaries group by all order by 1"
    ) == [("batch", 150 - retries), ("on_demand", retries)]
    assert len(emulator.backend.jobs) == 1


def test_an_output_line_with_a_text_error_code_is_kept(dbt_project: DbtProject) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")
    emulator.configure(quotas={"min_records_per_job": 1})
    write_transcripts(dbt_project, rows=20)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    ((job_id,),) = dbt_project.query("select batch_job_id from dim_batch_jobs")
    lines = [
        {
            "recordId": "TXT1",
            "modelInput": {},
            "error": {"errorCode": "ThrottlingException", "errorMessage": "Too many requests"},
        },
        {
            "recordId": "TXT2",
            "modelInput": {},
            "error": {"errorCode": "ValidationException", "errorMessage": "bad", "retryable": "maybe"},
        },
    ]
    s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    s3.put_object(
        Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"],
        Key=f"call-summaries/output/{job_id}/extra.jsonl.out",
        Body="".join(json.dumps(line) + "\n" for line in lines).encode(),
    )
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert dbt_project.query(
        "select record_id, error_code, is_error_retryable from stg_bedrock__batch_outputs "
        "where record_id like 'TXT%' order by 1"
    ) == [("TXT1", "ThrottlingException", True), ("TXT2", "ValidationException", False)]
    assert _status_counts(dbt_project) == {"summarized": 20}


def test_a_second_build_of_the_same_project_is_refused_while_the_first_runs(
    dbt_project: DbtProject, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(
        "BEDROCK_EXT_EMULATOR_CONFIG",
        # The job runs long enough for the second build to start (its dbt parse alone takes seconds
        # when the suite runs on every core).
        json.dumps({"quotas": {"min_records_per_job": 1}, "timings": {"in_progress_s": 10.0}}),
    )
    write_transcripts(dbt_project, rows=100)
    state = dbt_project.root / "target" / "emulator" / "bedrock_jobs.json"
    child = _start_build(dbt_project, FAST)
    _wait_for(lambda: state.exists() and json.loads(state.read_text())["jobs"], child, "a job was created")
    other = dbt_project.root / "target" / "other.duckdb"
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(other))
    second = dbt_project.dbt(["build"], **FAST)
    assert not second.success
    assert "is in use by another process" in str(second.exception) + " ".join(
        str(r.message) for r in second.result or []
    )
    assert child.wait(timeout=60) == 0
    assert_all_passed(dbt_project.dbt(["build"], **FAST))  # after the first: nothing new to pay for
    assert len(json.loads(state.read_text())["jobs"]) == 1
    assert dict(dbt_project.query("select summary_status, count(*) from fct_call_summaries group by all")) == {
        "summarized": 100
    }


def test_two_builds_on_the_aws_target_do_not_both_export_and_submit(
    dbt_project: DbtProject,
    monkeypatch,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from bedrock_ext.emulator.config import EmulatorConfig, Quotas, Timings
    from bedrock_ext.emulator.server import Emulator

    write_transcripts(dbt_project, rows=100)
    # The job runs until the second build has been refused, however long its start takes.
    config = EmulatorConfig(quotas=Quotas(min_records_per_job=1), timings=Timings(in_progress_s=600.0))
    with Emulator(config) as remote:
        monkeypatch.setenv("DBT_TARGET", "aws")
        monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", remote.endpoint_url)
        boto3.client("s3", endpoint_url=remote.endpoint_url).create_bucket(
            Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"]
        )
        child = _start_build(dbt_project, FAST)
        _wait_for(lambda: bool(remote.backend.jobs), child, "the first build's job was created")
        monkeypatch.setenv("DBT_DUCKDB_PATH", str(tmp_path / "second.duckdb"))  # another warehouse file
        second = dbt_project.dbt(["build"], **FAST)
        # refused before any model reads the warehouse: the S3 build lease names the holder
        assert not second.success and not second.result
        assert "another build holds s3://" in str(second.exception) and "pid " in str(second.exception)
        remote.configure(timings={"in_progress_s": 0.2})  # the job ends now
        assert child.wait(timeout=60) == 0
        assert_all_passed(dbt_project.dbt(["build"], **FAST))  # now it runs: re-attaches, pays nothing new
        assert len(remote.backend.jobs) == 1


def test_dbt_build_on_aws_without_credentials_says_so_without_a_traceback(dbt_project: DbtProject,
                                                                         monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("DBT_TARGET", "aws")
    write_transcripts(dbt_project, rows=10)
    root = str(dbt_project.root)
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run([str(dbt), "build", "--project-dir", root, "--profiles-dir", root], cwd=root,
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "bedrock_ext plugin: no AWS credentials found in the standard chain" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
