"""S3 is the record, the warehouse a cache (issue 27): a build over a lost warehouse reads what
the bucket already holds (the exports of earlier builds, their jobs and answers) before exporting,
and pays only for requests with no export on record. Paid records are counted from the emulated
AWS's own output files, line by line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts
from tests.emulator.conftest import clients_for

EMULATOR = {"quotas": {"min_records_per_job": 1}, "timings": {"submitted_s": 0.05, "validating_s": 0.05,
                                                             "scheduled_s": 0.05, "in_progress_s": 0.3}}
VARS = {"poll_interval_s": 0.05, "min_records_per_job": 1}
ON_DEMAND = {**VARS, "min_records_per_job": 50, "small_batch_policy": "on_demand"}
STATUSES = "select input_row_id, status from fct_bedrock_results order by input_row_id"


def _paid_records(root: Path) -> int:
    """Output lines the emulated Bedrock wrote (batch jobs and on-demand answers): records paid."""
    files = [p for p in (root / "target" / "emulator" / "s3").rglob("*.jsonl.out")
             if p.is_file() and "%etags" not in p.parts]  # the mirror keeps each object's ETag beside it
    return sum(len([line for line in p.read_text().splitlines() if line.strip()]) for p in files)


def _lose_the_warehouse(project: DbtProject) -> None:
    """A new machine, a lost disk, a dev warehouse rebuilt: every DuckDB file goes; the bucket and
    the (emulated) AWS account stay."""
    for path in (project.root / "target").glob("*.duckdb*"):
        path.unlink()


def _transcripts(project: DbtProject, rows: int, first: int) -> None:
    path = write_transcripts(project, rows=rows)
    pq.write_table(pq.read_table(path).slice(0, first), path)


def test_a_lost_warehouse_pays_only_for_the_new_rows(dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(EMULATOR))
    _transcripts(dbt_project, rows=110, first=100)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert _paid_records(dbt_project.root) == 100

    _lose_the_warehouse(dbt_project)
    _transcripts(dbt_project, rows=110, first=110)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert _paid_records(dbt_project.root) == 110  # the 10 new rows only
    assert dbt_project.query("select status, count(*) from fct_bedrock_results group by 1") == [("answered", 110)]
    assert dbt_project.query("select count(distinct batch_job_id) from dim_batch_jobs") == [(2,)]

    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # and the rebuilt warehouse is a cache like any
    assert _paid_records(dbt_project.root) == 110


def test_a_lost_warehouse_after_retries_and_on_demand_answers_pays_nothing_again(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    faulty = {**EMULATOR, "faults": {"record_error_rate": 0.3, "record_error_codes": [429, 500], "seed": 5}}
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(faulty))
    _transcripts(dbt_project, rows=130, first=120)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # 120 records, about 30% errors
    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # their retries: a second job
    _transcripts(dbt_project, rows=130, first=130)  # 10 new rows, sent on-demand (below a batch's minimum)
    assert_all_passed(dbt_project.dbt(["build"], **ON_DEMAND))
    on_demand = dbt_project.query("select count(*) from bedrock_batch_input where inference_mode = 'on_demand'")
    assert on_demand[0][0] >= 10
    before, paid = dbt_project.query(STATUSES), _paid_records(dbt_project.root)
    exports = dbt_project.query("select count(*), count(distinct job_key) from bedrock_batch_input "
                                "where job_key is not null")

    _lose_the_warehouse(dbt_project)
    assert_all_passed(dbt_project.dbt(["build"], **ON_DEMAND))
    assert _paid_records(dbt_project.root) == paid  # nothing paid again
    assert dbt_project.query(STATUSES) == before  # every row as the lost warehouse had it
    assert dbt_project.query("select count(*), count(distinct job_key) from bedrock_batch_input "
                             "where job_key is not null") == exports


def test_a_warehouse_from_before_records_its_exports_then_survives_its_loss(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports made before they were recorded in S3 (a 0.4 warehouse): its next build records them,
    once; a loss after that pays for nothing."""
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(EMULATOR))
    _transcripts(dbt_project, rows=100, first=100)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert len(_exports(dbt_project.root)) == 1
    s3, _, _ = clients_for(local_emulator(dbt_project.root / "target" / "emulator").endpoint_url)
    bucket = os.environ["BEDROCK_EXT_S3_BUCKET"]
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="call-summaries/exports/")["Contents"]:
        s3.delete_object(Bucket=bucket, Key=obj["Key"])  # as a 0.4 build left the bucket: no record
    assert not _exports(dbt_project.root)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # nothing new to export: records the old one
    assert len(_exports(dbt_project.root)) == 1 and _paid_records(dbt_project.root) == 100
    _lose_the_warehouse(dbt_project)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert _paid_records(dbt_project.root) == 100  # nothing paid again
    assert dbt_project.query("select status, count(*) from fct_bedrock_results group by 1") == [("answered", 100)]


def _exports(root: Path) -> list[Path]:
    return [p for p in (root / "target" / "emulator" / "s3").rglob("*exports*.parquet")
            if p.is_file() and "%etags" not in p.parts]


def test_a_build_killed_mid_wait_then_its_warehouse_lost_pays_each_record_once(
        dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL while the job runs (exported, recorded, submitted, not yet read), then the warehouse
    is lost too: the next build re-attaches to the running job from the bucket's record, creates no
    second job and pays each record once."""
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps({**EMULATOR, "timings": {
        **EMULATOR["timings"], "in_progress_s": 3.0}}))
    _transcripts(dbt_project, rows=120, first=120)
    root = dbt_project.root
    state = root / "target" / "emulator" / "bedrock_jobs.json"
    cmd = [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(root), "--profiles-dir",
           str(root), "--vars", json.dumps(VARS)]
    child = subprocess.Popen(cmd, cwd=root, env=dict(os.environ), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not (state.exists() and any(j["status"] == "InProgress" for j in _job_states(state))):
        assert child.poll() is None and time.monotonic() < deadline, "the job never ran"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    _lose_the_warehouse(dbt_project)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert len(_job_states(state)) == 1  # re-attached, no second job
    assert _paid_records(root) == 120
    assert dbt_project.query("select status, count(*) from fct_bedrock_results group by 1") == [("answered", 120)]


def _job_states(state: Path) -> list[dict]:
    try:
        return list(json.loads(state.read_text())["jobs"])
    except ValueError:  # being written
        return []
