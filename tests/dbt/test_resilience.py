"""Incremental, resumable and fault-tolerant builds (issue 7): nothing lost, nothing paid twice.

Each scenario drives the embedded emulator's fault injection and checks the outcome; every build
also runs the project's own tests, including the accounting invariant (every source row is
exactly one of summarized / failed / pending / skipped)."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bedrock_ext.transcripts.generator import generate_chunk
from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

FAST = {"poll_interval_s": 0.05, "min_records_per_job": 1, "max_attempts": 2}


def emulator_for(project: DbtProject, **sections: dict) -> object:
    """Start (or get) the project's embedded emulator before dbt does, with these settings."""
    emulator = local_emulator(project.root / "target" / "emulator")
    emulator.configure(quotas={"min_records_per_job": 1}, **sections)
    return emulator


def status_counts(project: DbtProject) -> dict[str, int]:
    return dict(project.query("select summary_status, count(*) from fct_call_summaries group by all"))


def test_new_transcripts_export_only_the_new_ones(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=150)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    old = pq.read_table(dbt_project.root / "data" / "transcripts.parquet")
    new = generate_chunk(seed=8, chunk_index=0, first_row=150, n=300)  # CALL-000000150 onwards
    pq.write_table(pa.concat_tables([old, new]), dbt_project.root / "data" / "transcripts.parquet")
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert dbt_project.query(
        "select count(distinct job_key), count(*), max(attempt_number) from bedrock_batch_input") == [(2, 450, 1)]
    assert dbt_project.query("select count(*) from bedrock_batch_input group by job_key order by 1") == [(150,), (300,)]
    assert status_counts(dbt_project) == {"summarized": 450}


def test_full_refresh_rereads_outputs_and_pays_nothing(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=120)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    emulator = emulator_for(dbt_project)
    assert_all_passed(dbt_project.dbt(["build", "--full-refresh"], **FAST))
    assert len(emulator.backend.jobs) == 1  # type: ignore[attr-defined]
    assert dbt_project.query("select count(*) from bedrock_batch_input") == [(120,)]
    assert status_counts(dbt_project) == {"summarized": 120}


def test_retryable_errors_are_retried_until_max_attempts(dbt_project: DbtProject) -> None:
    emulator_for(dbt_project, faults={"record_error_rate": 0.4, "record_error_codes": [429, 400, 500], "seed": 5})
    write_transcripts(dbt_project, rows=200)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    first = status_counts(dbt_project)
    retry_due = dict(dbt_project.query(
        "select failure_code is null, count(*) from fct_call_summaries where is_retry_due group by all"))
    permanent = dbt_project.query("select count(*) from fct_call_summaries where failure_code = 'record_error_400'")
    assert first["pending"] == retry_due[True] > 20 and permanent[0][0] > 10
    assert_all_passed(dbt_project.dbt(["build"], **FAST))  # attempt 2 (faults still on)
    second = status_counts(dbt_project)
    assert "pending" not in second  # max_attempts (2) reached: nothing left to retry
    assert second["summarized"] > first["summarized"]
    assert dbt_project.query("select max(attempt_count) from fct_call_summaries") == [(2,)]
    (bad,), = dbt_project.query(
        "select count(*) from fct_call_summaries where summary_status = 'failed' and attempt_count = 1"
        " and failure_code <> 'record_error_400'")
    assert bad == 0  # only non-retryable errors fail at the first attempt


@pytest.mark.parametrize("outcome", ["PartiallyCompleted", "Stopped", "Expired"])
def test_partial_jobs_are_harvested_and_missing_records_retried(dbt_project: DbtProject, outcome: str) -> None:
    emulator = emulator_for(dbt_project, faults={"job_outcome": outcome, "partial_fraction": 0.5})
    write_transcripts(dbt_project, rows=100)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert status_counts(dbt_project) == {"summarized": 50, "pending": 50}
    (reason,), = dbt_project.query("select distinct pending_reason from fct_call_summaries where summary_status = 'pending'")
    assert reason.startswith("retry after missing_from_output on attempt 1 of 2 (") and outcome in reason
    assert reason.endswith("the next dbt build exports it again, in a batch job once 1 records are due "
                           "(with new rows), else on-demand 24 h after this attempt")
    emulator.configure(faults={"job_outcome": None})  # type: ignore[attr-defined]
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert status_counts(dbt_project) == {"summarized": 100}
    assert dbt_project.query("select count(*) from dim_batch_jobs") == [(2,)]


def test_failed_job_warns_and_is_resubmitted_next_build(dbt_project: DbtProject) -> None:
    emulator = emulator_for(dbt_project, faults={"job_outcome": "Failed",
                                                "failure_message": "Bedrock could not assume the service role"})
    write_transcripts(dbt_project, rows=60)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))  # a Failed job no longer fails the build
    (reason,), = dbt_project.query("select distinct pending_reason from fct_call_summaries")
    assert "could not assume the service role" in reason and "the next build resubmits it" in reason
    emulator.configure(faults={"job_outcome": None})  # type: ignore[attr-defined]
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert status_counts(dbt_project) == {"summarized": 60}
    names = sorted(j.request["jobName"] for j in emulator.backend.jobs.values())  # type: ignore[attr-defined]
    assert len(names) == 2 and names[1] == names[0] + "-g2"


def test_submit_now_collect_later(dbt_project: DbtProject) -> None:
    emulator = emulator_for(dbt_project, timings={"in_progress_s": 1.5})
    write_transcripts(dbt_project, rows=80)
    assert_all_passed(dbt_project.dbt(["build"], **FAST, wait=False))
    assert status_counts(dbt_project) == {"pending": 80}
    (reason,), = dbt_project.query("select distinct pending_reason from fct_call_summaries")
    assert reason.startswith("waiting for batch job")
    deadline = time.monotonic() + 20
    while any(j.status != "Completed" for j in emulator.backend.jobs.values()):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert_all_passed(dbt_project.dbt(["build"], **FAST, wait=False))
    assert status_counts(dbt_project) == {"summarized": 80}
    assert len(emulator.backend.jobs) == 1  # type: ignore[attr-defined]


def test_budget_guard_stops_before_anything_is_written(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=150)
    result = dbt_project.dbt(["build"], **FAST, bedrock_budget_usd=0.001)
    assert not result.success
    message = next(str(r.message) for r in result.result if r.node.name == "bedrock_batch_input")
    assert "above bedrock_budget_usd $0.0010" in message and "150 records" in message
    s3_files = [p for p in (dbt_project.root / "target" / "emulator" / "s3").rglob("*") if p.is_file()]
    assert s3_files == []


def _all_written_text(*roots: Path) -> str:
    chunks = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                chunks.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def test_no_credential_reaches_logs_artifacts_or_s3(dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import boto3

    from bedrock_ext.emulator.config import EmulatorConfig
    from bedrock_ext.emulator.server import Emulator

    key, secret, token = "AKIAPLANTEDKEY0001", "planted/SECRET+value/0123456789abcdef", "planted-session-token-xyz"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    write_transcripts(dbt_project, rows=100)
    with Emulator(EmulatorConfig(), state_dir=tmp_path / "remote") as remote:
        monkeypatch.setenv("DBT_TARGET", "aws")
        monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", remote.endpoint_url)
        import os

        boto3.client("s3", endpoint_url=remote.endpoint_url).create_bucket(Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"])
        full = ["--log-level-file", "debug", "--write-json"]  # every log line and artifact dbt writes
        assert_all_passed(dbt_project.dbt(["build", *full], poll_interval_s=0.05))
        assert dbt_project.dbt(["docs", "generate", *full]).success
    assert (dbt_project.root / "target" / "run_results.json").exists()
    written = _all_written_text(dbt_project.root / "target", dbt_project.root / "logs", tmp_path / "remote")
    assert "summarized" in written or len(written) > 10_000  # we did read what the build wrote
    for value in (key, secret, token):
        assert value not in written


def test_small_batch_on_demand_uses_invoke_model_at_the_on_demand_price(dbt_project: DbtProject) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")  # default minimum: 100 records
    emulator.configure(faults={"record_error_rate": 0.2, "record_error_codes": [400], "seed": 3})
    write_transcripts(dbt_project, rows=60)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05, small_batch_policy="on_demand"))
    rows = dict(dbt_project.query(
        "select summary_status, count(*) from fct_call_summaries where inference_mode = 'on_demand' group by all"))
    assert rows["summarized"] + rows["failed"] == 60 and 3 <= rows["failed"] <= 25
    assert dbt_project.query(
        "select bool_and(billed_cost_usd = on_demand_cost_usd) from fct_call_summaries where summary_status = 'summarized'"
    ) == [(True,)]
    assert emulator.backend.jobs == {}  # no batch job was created  # type: ignore[attr-defined]
    assert dbt_project.query("select count(*) from dim_batch_jobs") == [(0,)]


def test_small_batch_fail_policy_names_the_minimum(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=30)
    result = dbt_project.dbt(["build"], poll_interval_s=0.05, small_batch_policy="fail")
    message = next(str(r.message) for r in result.result if r.node.name == "bedrock_batch_input")
    assert not result.success and "30 new records are fewer than min_records_per_job (100)" in message


def test_a_stale_retry_verdict_does_not_export_twice(dbt_project: DbtProject) -> None:
    emulator = emulator_for(dbt_project, faults={"record_error_rate": 1.0, "record_error_codes": [429]})
    write_transcripts(dbt_project, rows=40)
    assert_all_passed(dbt_project.dbt(["build"], **{**FAST, "max_attempts": 5}))  # attempt 1: all retry due
    emulator.configure(faults={"record_error_rate": 0.0}, timings={"in_progress_s": 2.0})  # type: ignore[attr-defined]
    timed_out = dbt_project.dbt(["build"], **{**FAST, "max_attempts": 5, "job_timeout_s": 0.3})
    assert not timed_out.success  # attempt 2 exported; the wait gave up before the marts were rebuilt
    emulator.configure(timings={"in_progress_s": 0.2})  # type: ignore[attr-defined]
    # The marts still hold build 1's verdict (attempt 1 due). Attempt 2 exists: nothing new to export.
    assert_all_passed(dbt_project.dbt(["build"], **{**FAST, "max_attempts": 5}))
    assert dbt_project.query("select max(attempt_number), count(*) from bedrock_batch_input") == [(2, 80)]
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries group by all") == [
        ("summarized", 40)]
