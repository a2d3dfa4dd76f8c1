"""The CLI around a user's own project (issue 29): `bedrock-ext estimate` counts exactly the records
the build then sends (the build's rules for missing, hostile and repeated ids) and reads the
warehouse's history; `bedrock-ext jobs list --project-dir` shows a local build's jobs with no
server started by hand. Each command runs as a user runs it, in its own process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock_ext.warehouse.plugin import shutdown_local_emulators
from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS
from tests.dbt.tasks_examples import TICKET_TRIAGE, task

CLI = Path(sys.executable).parent / "bedrock-ext"
ROWS = 120


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> foreign.ForeignProject:
    root = tmp_path_factory.mktemp("estimate_rules") / "desk"
    project = foreign.create(
        root, name="desk", schema="support",
        package_vars={"s3_bucket": "desk-llm", "s3_prefix": "desk", "min_records_per_job": 1, "poll_interval_s": 0.05},
        tasks={"ticket_triage": task(TICKET_TRIAGE, input={"source": "helpdesk", "table": "tickets"},
                                     order_by_column="opened_at")},
        sources=[{"name": "helpdesk", "schema": "raw", "tables": [{"name": "tickets"}]}],
        emulator={"quotas": {"min_records_per_job": 1}, "timings": FAST_JOBS})
    project.sql("create schema raw")
    project.sql("create table raw.tickets as select i::varchar as ticket_id, 'Ticket ' || i || ': the router drops' "
                "as body, 'normal' as priority, timestamp '2026-03-01' + to_minutes(i) as opened_at from range(?) t(i)",
                [ROWS])
    project.sql("""insert into raw.tickets values
        (null, 'no id at all', 'high', timestamp '2026-03-02'),
        ('', 'an empty id', 'high', timestamp '2026-03-02'),
        ('bad' || chr(7) || 'id', 'a bell in the id', 'high', timestamp '2026-03-02'),
        ('5', 'ticket 5 again, edited later', 'low', timestamp '2026-04-01'),
        ('7', 'ticket 7 again, but older', 'low', timestamp '2026-01-01'),
        ('200', '   ', 'low', timestamp '2026-03-02')""")
    assert project.dbt(["deps"]).success
    return project


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=300, check=False)


def _estimate(project: foreign.ForeignProject) -> str:
    done = _cli("estimate", "--duckdb", str(project.database), "--table", "raw.tickets",
                "--project-dir", str(project.root), "--task", "ticket_triage")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_estimate_counts_what_the_build_sends_and_reads_its_history(desk: foreign.ForeignProject) -> None:
    before = _estimate(desk)
    estimated = int(re.match(r"(\d+) records", before).group(1))
    assert "no history yet" in before and "1 blank_text" in before
    done = desk.dbt(["build"])
    assert done.success, [str(r.message) for r in (done.result or []) if str(r.status) == "error"]
    sent = desk.query("select count(*) from bedrock_batch_input where inference_mode is not null")[0][0]
    assert estimated == sent == ROWS  # 120 ids, two of them repeated; the null, empty and bell ids not sent
    after = _estimate(desk)
    assert f"history of {ROWS} records" in after, after


def test_jobs_list_reads_a_local_projects_jobs(desk: foreign.ForeignProject) -> None:
    # Built by the test above when it ran on this worker; else build here (xdist may split them).
    if not desk.sql("select count(*) from information_schema.tables where table_name = 'bedrock_batch_jobs'")[0][0]:
        assert desk.dbt(["build"]).success
    shutdown_local_emulators()  # the build's process has ended, as after a user's `dbt build`
    job_ids = {j for (j,) in desk.query("select job_id from bedrock_batch_jobs")}
    done = _cli("jobs", "list", "--project-dir", str(desk.root), "--json")
    assert done.returncode == 0, done.stderr
    listed = {row["job_id"] for row in json.loads(done.stdout)}
    assert job_ids and job_ids <= listed
    missing = _cli("jobs", "list", "--project-dir", str(desk.root / "nowhere"))
    assert missing.returncode == 1 and "has no profiles.yml" in missing.stderr and missing.stderr.count("\n") == 1
