"""`dbt build` of the whole project on a temp copy, against the embedded emulator (local target)
and against an emulator reached through the aws target's code path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from bedrock_ext.cli.main import main
from bedrock_ext.emulator.config import EmulatorConfig
from bedrock_ext.emulator.server import Emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, shared_project, write_transcripts
from tests.example import EXAMPLE_PROJECT

# The example's task over the raw transcripts (its staging renames transcript to transcript_text).
EXAMPLE_ARGS = ("--project-dir", str(EXAMPLE_PROJECT), "--text-column", "transcript")

FAST = {"poll_interval_s": 0.05}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DbtProject, Path]]:
    """One build of 300 transcripts and the adversarial rows, read by the tests below (none changes it)."""
    with shared_project(tmp_path_factory, "built") as project:
        data = write_transcripts(project, rows=300, adversarial=True)
        assert_all_passed(project.dbt(["build"], **FAST))
        yield project, data


def test_build_summarizes_every_transcript_and_prices_every_job(built: tuple[DbtProject, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    project, data = built
    assert main(["estimate", "--parquet", str(data), *EXAMPLE_ARGS]) == 0
    assert capsys.readouterr().out.startswith("307 records")  # the CLI counts what the build sends
    counts = dict(project.query(
        "select summary_status, count(*) from fct_call_summaries group by all"))
    assert counts == {"summarized": 307, "skipped": 5}  # 3 blank + 2 superseded duplicates
    (jobs, records, costs_ok), = project.query(
        "select count(*), sum(processed_record_count),"
        " bool_and(abs(batch_cost_usd * 2 - on_demand_cost_usd) < 1e-7) from fct_batch_job_costs")
    assert (jobs, records, costs_ok) == (1, 307, True)


def test_summaries_reflect_the_transcripts(built: tuple[DbtProject, Path]) -> None:
    project, data = built
    (intent_match, resolution_match, n), = project.query(
        "select avg((f.intent = t.label_intent)::int), avg((f.resolution = t.label_resolution)::int), count(*)"
        f" from fct_call_summaries f join read_parquet('{data}') t using (call_id)"
        " where f.summary_status = 'summarized' and t.label_adversarial_kind is null")
    assert n == 300 and intent_match > 0.8 and resolution_match > 0.95
    rows = project.query("select summary, action_items, model_id, prompt_version from fct_call_summaries"
                         " where summary_status = 'summarized' limit 50")
    assert all(s and s.startswith("The customer called about") for s, *_ in rows)
    assert all(m == "anthropic.claude-3-haiku-20240307-v1:0" and p == "v1" for _, _, m, p in rows)


def test_cost_arithmetic_matches_the_price_seed(built: tuple[DbtProject, Path]) -> None:
    project, _ = built
    (in_tok, out_tok, batch, on_demand), = project.query(
        "select input_token_count, output_token_count, batch_cost_usd, on_demand_cost_usd from fct_batch_job_costs")
    expected = (in_tok * 0.25 + out_tok * 1.25) / 1e6  # Claude 3 Haiku in the seed
    assert on_demand == pytest.approx(expected, abs=1e-8) and batch == pytest.approx(expected / 2, abs=1e-8)
    (record_sum,), = project.query("select sum(batch_cost_usd) from fct_call_summaries")
    assert record_sum == pytest.approx(batch, abs=1e-6)


def test_second_build_submits_nothing_and_writes_nothing(built: tuple[DbtProject, Path]) -> None:
    project, _ = built
    s3_dir = project.root / "target" / "emulator" / "s3"
    before = {p: p.stat().st_mtime_ns for p in s3_dir.rglob("*") if p.is_file()}
    assert before  # the first build's input and output files
    assert_all_passed(project.dbt(["build"], **FAST))
    after = {p: p.stat().st_mtime_ns for p in s3_dir.rglob("*") if p.is_file()}
    assert after == before
    assert project.query("select count(*) from bedrock_batch_jobs") == [(1,)]
    assert project.query("select count(*) from bedrock_batch_input") == [(307,)]


def test_too_few_transcripts_stay_pending_and_outputs_are_empty(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=40)  # fewer than min_records_per_job (100): deferred
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert dbt_project.query("select count(*) from stg_bedrock__batch_outputs") == [(0,)]
    assert dbt_project.query(
        "select summary_status, count(*) from fct_call_summaries group by all") == [("pending", 40)]
    (reason,), = dbt_project.query("select distinct pending_reason from fct_call_summaries")
    assert "min_records_per_job" in reason


def test_aws_target_code_path_against_an_overridden_endpoint(dbt_project: DbtProject,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_transcripts(dbt_project, rows=120)
    with Emulator(EmulatorConfig()) as remote:
        monkeypatch.setenv("DBT_TARGET", "aws")
        monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", remote.endpoint_url)
        monkeypatch.setenv("BEDROCK_EXT_ROLE_ARN", "arn:aws:iam::111122223333:role/BatchRole")
        import os

        boto3.client("s3", endpoint_url=remote.endpoint_url).create_bucket(Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"])
        assert_all_passed(dbt_project.dbt(["build"], **FAST))
        (endpoint, local, status), = dbt_project.query(
            "select endpoint, is_local_emulator, job_status from dim_batch_jobs")
        assert endpoint == f"Amazon Bedrock ({remote.endpoint_url})" and local is False and status == "Completed"
        (job,) = remote.backend.jobs.values()
        assert job.request["roleArn"] == "arn:aws:iam::111122223333:role/BatchRole"
    assert dbt_project.query("select count(*) from fct_call_summaries where summary_status = 'summarized'") == [(120,)]


def test_the_motherduck_output_parses(dbt_project: DbtProject) -> None:
    """The example profile's `motherduck` output (docs/scaling.md) is valid for dbt; parse opens no
    connection, so this runs offline."""
    result = dbt_project.dbt(["parse", "--target", "motherduck"])
    assert result.success, result.exception
