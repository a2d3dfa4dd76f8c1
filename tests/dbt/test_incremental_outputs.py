"""A build's cost follows its increment (issue 16): the output staging reads each output file once,
when its job has ended. A running job's partial file (Bedrock shows results while a job is
InProgress, and may still be writing them; so does the emulator, once half the records are done)
is not read: its rows stay pending, the build does not trip over a file changing under it, and
the complete file is read once the job ends. A build with nothing new reads no output at all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import FAST_JOBS, DbtProject, assert_all_passed, write_transcripts

# Long enough that the job is still running when the submitting build ends on a loaded machine (8 s was
# not, with four test workers); the test slows it further, then lets it end, once it has seen a partial file.
SLOW_JOB = {"timings": {**FAST_JOBS, "in_progress_s": 30}}
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
    emulator = local_emulator(root / "target" / "emulator")  # the build's, still running in this process
    emulator.configure(timings={"in_progress_s": 600})  # the job stays InProgress, however slow the next build

    assert_all_passed(dbt_project.dbt(["build"], **SUBMIT_ONLY))
    assert dbt_project.query("select job_status from bedrock_batch_jobs") == [("InProgress",)]
    assert dbt_project.query("select count(*) from stg_bedrock__batch_outputs") == [(0,)]  # not read yet
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries "
                             "group by summary_status") == [("pending", 200)]

    emulator.configure(timings={"in_progress_s": 0.1})
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


def _computed_at(project: DbtProject) -> dict[str, object]:
    return dict(project.query("select input_row_id, computed_at from fct_bedrock_results"))


def test_settled_results_are_computed_once_and_follow_edits_deletions_and_settings(dbt_project: DbtProject) -> None:
    """fct_bedrock_results is incremental: a no-op build recomputes no settled row; an edited row is
    recomputed (pending again), a deleted row leaves, the rest keep their computed_at; a changed
    setting the statuses depend on (max_attempts) recomputes every row. int_bedrock_requests keys
    only what changed the same way."""
    path = write_transcripts(dbt_project, rows=150, adversarial=True)
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    first = _computed_at(dbt_project)
    assert dbt_project.query("select count(*) from fct_bedrock_results where status = 'pending'") == [(0,)]
    assert dbt_project.query("select count(distinct status) from fct_bedrock_results") == [(2,)]  # answered, skipped

    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    assert _computed_at(dbt_project) == first  # nothing settled was recomputed

    (edited,), (deleted,) = dbt_project.query("select input_id from fct_bedrock_results where status = 'answered' "
                                              "order by input_id limit 2")
    requeued = next(row for row in sorted(first) if row not in (f"{edited}#1", f"{deleted}#1")
                    and row.endswith("#1") and row.replace("#1", "#2") not in first)  # a row of a unique id
    table = pq.read_table(path)
    table = table.filter(pc.not_equal(table["call_id"], deleted))
    ids = table["call_id"].to_pylist()
    texts = [t + " The customer called back." if i == edited else t
             for i, t in zip(ids, table["transcript"].to_pylist(), strict=True)]
    queues = ["vip" if f"{i}#1" == requeued else q for i, q in zip(ids, table["queue"].to_pylist(), strict=True)]
    table = table.set_column(table.schema.get_field_index("transcript"), "transcript", pa.array(texts))
    table = table.set_column(table.schema.get_field_index("queue"), "queue", pa.array(queues))
    no_id = table.slice(0, 1).set_column(table.schema.get_field_index("call_id"), "call_id",
                                         pa.array([None], pa.string()))
    pq.write_table(pa.concat_tables([table, no_id]), path)  # a new row without an id: skipped, '#1'
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05))
    after = _computed_at(dbt_project)
    assert f"{deleted}#1" not in after and f"{edited}#1" in after
    changed = {row for row, at in after.items() if at != first.get(row)}
    assert changed == {f"{edited}#1", requeued, "#1"}  # the text edit, the passthrough-only edit, the new row
    assert dbt_project.query("select status from fct_bedrock_results where input_row_id = ?",
                             [f"{edited}#1"]) == [("pending",)]  # one new request: too few for a job yet
    # The incremental typed model follows: the edited row pending, the new queue, the deleted row
    # gone; and it equals what a full rebuild of it computes.
    summaries = "select * exclude (computed_at) from fct_call_summaries order by transcript_row_id"
    incremental = dbt_project.query(summaries)
    assert len(incremental) == len(after)
    assert dbt_project.query("select summary_status from fct_call_summaries where transcript_row_id = ?",
                             [f"{edited}#1"]) == [("pending",)]
    assert dbt_project.query("select queue_name from fct_call_summaries where transcript_row_id = ?",
                             [requeued]) == [("vip",)]
    assert_all_passed(dbt_project.dbt(["run", "--select", "fct_call_summaries", "--full-refresh"]))
    assert dbt_project.query(summaries) == incremental

    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05, max_attempts=4))
    recomputed = _computed_at(dbt_project)
    assert set(recomputed) == set(after) and all(recomputed[r] != after[r] for r in after)
    everything = dbt_project.query(summaries)  # every row came through the incremental path, null ids too
    assert dbt_project.query("select skip_reason from fct_call_summaries where call_id is null") == [
        ("null_id: the id column is null or empty",)]
    assert_all_passed(dbt_project.dbt(["run", "--select", "fct_call_summaries", "--full-refresh"],
                                      max_attempts=4))
    assert dbt_project.query(summaries) == everything

    # A 0.3 table (no content_hash / settings_fingerprint, a full table then) is recomputed once
    # and upgraded; a row it holds for an input row that no longer exists is deleted.
    with duckdb.connect(str(dbt_project.database)) as con:
        gone = "select 'call_summaries' as task_name, 'gone#1' as input_row_id, 'gone' as input_id, 'k' as request_key"
        con.execute(f"insert into int_bedrock_requests by name {gone}")
        con.execute(f"insert into fct_bedrock_results by name {gone}, 'skipped' as status")
        con.execute("alter table int_bedrock_requests drop column content_hash")
        con.execute("alter table fct_bedrock_results drop column settings_fingerprint")
    assert_all_passed(dbt_project.dbt(["build"], poll_interval_s=0.05, max_attempts=4))
    for table, column in (("int_bedrock_requests", "content_hash"), ("fct_bedrock_results", "settings_fingerprint")):
        assert dbt_project.query(f"select count(*) from {table} where input_row_id = 'gone#1'") == [(0,)]
        assert dbt_project.query(f"select count(*) = count({column}) from {table}") == [(True,)]
    assert dbt_project.query("select count(*) from fct_bedrock_results") == [(len(after),)]
