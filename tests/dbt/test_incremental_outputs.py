"""A build's cost follows its increment (issue 16): the output staging reads each output file
until it is settled (its job had ended when it was read), then never again. A running job's
partial file (Bedrock shows results while a job is InProgress; so does the emulator, once half
the records are done) is read, then replaced by the complete file when the job ends: nothing is
frozen early, nothing is counted twice, and a build with nothing new reads no output at all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

SLOW_JOB = {"timings": {"submitted_s": 0.02, "validating_s": 0.02, "scheduled_s": 0.02, "in_progress_s": 16}}
SUBMIT_ONLY = {"poll_interval_s": 0.05, "wait": False}


def _outputs(root: Path) -> tuple[list[Path], list[Path]]:
    """The emulator's mirrored output files and manifests (object keys are quoted file names)."""
    files = [p for p in (root / "target" / "emulator" / "s3").rglob("*") if p.is_file()]
    return ([p for p in files if p.name.endswith("jsonl.out")], [p for p in files if p.name.endswith("manifest.json.out")])


def _wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_running_jobs_partial_file_is_read_again_until_the_job_ends(dbt_project: DbtProject,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(SLOW_JOB))
    write_transcripts(dbt_project, rows=200)
    root = dbt_project.root
    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))  # submits one job of 200 records
    _wait_for(lambda: _outputs(root)[0] != [])  # half done: the partial output file, no manifest yet
    assert _outputs(root)[1] == []

    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))
    (partial, settled, status), = dbt_project.query(
        "select count(*), bool_or(o.is_file_settled), any_value(j.job_status) "
        "from stg_bedrock__batch_outputs o join bedrock_batch_jobs j on j.job_id = o.batch_job_id")
    assert 0 < partial < 200 and settled is False and status == "InProgress"
    answered = dict(dbt_project.query("select summary_status, count(*) from fct_call_summaries group by summary_status"))
    assert answered["summarized"] == partial and answered["pending"] == 200 - partial

    _wait_for(lambda: _outputs(root)[1] != [])  # the job ended: complete file and manifest
    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))
    assert dbt_project.query("select count(*), count(distinct output_line_id), bool_and(is_file_settled) "
                             "from stg_bedrock__batch_outputs") == [(200, 200, True)]
    assert dbt_project.query("select count(*) from int_bedrock_answers") == [(200,)]
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries group by summary_status") == [("summarized", 200)]
    loaded = dbt_project.query("select max(loaded_at) from stg_bedrock__batch_outputs")

    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))  # nothing new: no file is read again
    assert dbt_project.query("select max(loaded_at) from stg_bedrock__batch_outputs") == loaded
    assert dbt_project.query("select count(*) from stg_bedrock__batch_outputs") == [(200,)]


def test_a_table_from_before_the_incremental_staging_is_read_once_and_upgraded(dbt_project: DbtProject) -> None:
    """0.2's output staging and answers were full tables without is_file_settled / loaded_at:
    the first build after the upgrade reads every file once and adds the columns."""
    import duckdb

    write_transcripts(dbt_project, rows=120)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    with duckdb.connect(str(dbt_project.database)) as con:
        con.execute("alter table stg_bedrock__batch_outputs drop column is_file_settled")
        con.execute("alter table stg_bedrock__batch_outputs drop column loaded_at")
        con.execute("alter table int_bedrock_answers drop column loaded_at")
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    assert dbt_project.query("select count(*), count(distinct output_line_id), bool_and(is_file_settled) "
                             "from stg_bedrock__batch_outputs") == [(120, 120, True)]
    assert dbt_project.query("select count(*), count(loaded_at) from int_bedrock_answers") == [(120, 120)]
