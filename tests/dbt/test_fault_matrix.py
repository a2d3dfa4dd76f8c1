"""The fault matrix (slow: `pytest -m slow`): each emulator fault x (wait / submit-only).

For every cell: the first build runs with the fault, later builds without it, each build running
all dbt tests (the accounting invariant among them); at the end every transcript is summarized,
or failed for a reason that is not transient, and no request was summarized twice."""

from __future__ import annotations

import time

import pytest

from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

SCENARIOS: dict[str, dict] = {
    "record_errors": {"faults": {"record_error_rate": 0.3, "record_error_codes": [429, 500]}},
    "partially_completed": {"faults": {"job_outcome": "PartiallyCompleted", "partial_fraction": 0.6}},
    "stopped": {"faults": {"job_outcome": "Stopped", "partial_fraction": 0.3}},
    "expired": {"faults": {"job_outcome": "Expired", "partial_fraction": 0.0}},
    "create_throttling": {"faults": {"create_throttle_count": 3}},
    "slow_job": {"faults": {"slow_job_s": 2.0}},
    "malformed_lines": {"faults": {"malformed_line_rate": 0.2}},
    "missing_manifest": {"faults": {"missing_manifest": True}},
}
VARS = {"poll_interval_s": 0.05, "min_records_per_job": 1, "max_attempts": 3}


def _wait_for_jobs(emulator: object) -> None:
    deadline = time.monotonic() + 60
    while any(j.status not in ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
              for j in emulator.backend.jobs.values()):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("wait", [True, False], ids=["wait", "submit_only"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_fault_matrix(dbt_project: DbtProject, scenario: str, wait: bool) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")
    emulator.configure(quotas={"min_records_per_job": 1}, **SCENARIOS[scenario])
    write_transcripts(dbt_project, rows=120)
    for build in range(4):
        assert_all_passed(dbt_project.dbt(["build"], **VARS, wait=wait))
        if build == 0:
            emulator.configure(faults={"record_error_rate": 0.0, "job_outcome": None, "create_throttle_count": 0,
                                       "slow_job_s": 0.0, "malformed_line_rate": 0.0, "missing_manifest": False})
        _wait_for_jobs(emulator)
        if dbt_project.query("select count(*) from fct_call_summaries where summary_status = 'pending'") == [(0,)]:
            break
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries group by all") == [
        ("summarized", 120)]
    (summarized_twice,), = dbt_project.query(  # summaries per request, through the job that carried it
        "select count(*) from (select i.request_key from bedrock_batch_input i"
        " join bedrock_batch_jobs j on j.job_key = i.job_key"
        " join int_bedrock_answers p on p.output_group_id = j.job_id and p.record_id = i.record_id"
        " where p.is_answered group by i.request_key having count(*) > 1)")
    assert summarized_twice == 0
