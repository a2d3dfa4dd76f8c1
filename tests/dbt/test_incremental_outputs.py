"""A build's cost follows its increment (issue 16): the output staging reads each output file once,
when its job has ended. A running job's partial file (Bedrock shows results while a job is
InProgress, and may still be writing them; so does the emulator, once half the records are done)
is not read: its rows stay pending, the build does not trip over a file changing under it, and
the complete file is read once the job ends. A build with nothing new reads no output at all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

SLOW_JOB = {"timings": {"submitted_s": 0.02, "validating_s": 0.02, "scheduled_s": 0.02, "in_progress_s": 8}}
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


def test_a_running_jobs_partial_file_is_read_once_the_job_ends(dbt_project: DbtProject,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(SLOW_JOB))
    write_transcripts(dbt_project, rows=200)
    root = dbt_project.root
    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))  # submits one job of 200 records
    _wait_for(lambda: _outputs(root)[0] != [])  # half done: a partial output file, no manifest yet
    assert _outputs(root)[1] == []

    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))
    assert dbt_project.query("select job_status from bedrock_batch_jobs") == [("InProgress",)]
    assert dbt_project.query("select count(*) from stg_bedrock__batch_outputs") == [(0,)]  # not read yet
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries "
                             "group by summary_status") == [("pending", 200)]

    _wait_for(lambda: _outputs(root)[1] != [])  # the job ended: complete file and manifest
    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))
    assert dbt_project.query("select count(*), count(distinct output_line_id) "
                             "from stg_bedrock__batch_outputs") == [(200, 200)]
    assert dbt_project.query("select count(*) from int_bedrock_answers") == [(200,)]
    assert dbt_project.query("select count(*) from stg_bedrock__batch_manifests") == [(1,)]
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries "
                             "group by summary_status") == [("summarized", 200)]
    loaded = dbt_project.query("select max(loaded_at) from stg_bedrock__batch_outputs "
                               "union all select max(loaded_at) from stg_bedrock__batch_manifests")

    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))  # nothing new: no file is read again
    assert dbt_project.query("select max(loaded_at) from stg_bedrock__batch_outputs "
                             "union all select max(loaded_at) from stg_bedrock__batch_manifests") == loaded
    assert dbt_project.query("select count(*) from stg_bedrock__batch_outputs") == [(200,)]


def test_a_table_from_before_the_incremental_staging_is_read_once_and_upgraded(dbt_project: DbtProject) -> None:
    """0.2's output staging and answers were full tables without loaded_at: the first build after
    the upgrade reads every file once and adds the column."""
    import duckdb

    write_transcripts(dbt_project, rows=120)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    with duckdb.connect(str(dbt_project.database)) as con:
        for table in ("stg_bedrock__batch_outputs", "stg_bedrock__batch_manifests", "int_bedrock_answers"):
            con.execute(f"alter table {table} drop column loaded_at")
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    assert dbt_project.query("select count(*), count(distinct output_line_id), count(loaded_at) "
                             "from stg_bedrock__batch_outputs") == [(120, 120, 120)]
    assert dbt_project.query("select count(*), count(loaded_at) from int_bedrock_answers") == [(120, 120)]
    assert dbt_project.query("select count(*), count(loaded_at) from stg_bedrock__batch_manifests") == [(1, 1)]
