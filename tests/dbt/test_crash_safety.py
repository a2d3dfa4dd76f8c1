"""A real `dbt build` killed with SIGKILL at several points, then re-run: it re-attaches to the jobs
it created, never creates a duplicate, and every transcript ends up accounted for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

EMULATOR = {"quotas": {"min_records_per_job": 1}, "timings": {"in_progress_s": 3.0}}
VARS = {"poll_interval_s": 0.05, "min_records_per_job": 1, "max_records_per_job": 100}


def _jobs(root: Path) -> list[dict]:
    state = root / "target" / "emulator" / "bedrock_jobs.json"
    try:
        return list(json.loads(state.read_text())["jobs"])
    except (FileNotFoundError, ValueError):
        return []


def _input_objects(root: Path) -> list[Path]:
    return [p for p in (root / "target" / "emulator" / "s3").rglob("*input*") if p.is_file()]


KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    "during_export": lambda root: len(_input_objects(root)) >= 1 and not _jobs(root),
    "after_create": lambda root: len(_jobs(root)) >= 1,
    "mid_wait": lambda root: any(j["status"] == "InProgress" for j in _jobs(root)),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_then_rerun_reattaches(dbt_project: DbtProject, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps(EMULATOR))
    write_transcripts(dbt_project, rows=300)  # 3 jobs of 100
    root = dbt_project.root
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [str(dbt), "build", "--project-dir", str(root), "--profiles-dir", str(root), "--vars", json.dumps(VARS)]
    child = subprocess.Popen(cmd, cwd=root, env=dict(os.environ), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not KILL_POINTS[point](root):
        assert child.poll() is None, f"dbt build ended before the kill point {point}"
        assert time.monotonic() < deadline, f"kill point {point} never reached"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    jobs_at_kill = {j["job_id"] for j in _jobs(root)}

    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # the re-run, emulator restarted from state
    jobs_after = _jobs(root)
    assert jobs_at_kill <= {j["job_id"] for j in jobs_after}  # re-attached, nothing lost
    assert len(jobs_after) == 3  # one job per shard: no duplicate was created
    assert len({j["request"]["jobName"] for j in jobs_after}) == 3
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries group by all") == [
        ("summarized", 300)]
