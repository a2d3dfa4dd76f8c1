"""Issue 17: BI reads the published marts at any moment, also while a build waits on a job, and
sees the new results once the build has finished; the report is written from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bedrock_ext.cli.main import main
from bedrock_ext.transcripts.generator import generate_chunk
from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

FAST = {"poll_interval_s": 0.05, "min_records_per_job": 1}


def _summarized(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return int(
            con.execute(
                "select count(*) from fct_call_summaries where summary_status = 'summarized'"
            ).fetchone()[0]
        )


def test_bi_reads_the_previous_marts_while_a_build_waits_then_the_new_ones(
    dbt_project: DbtProject, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps({"quotas": {"min_records_per_job": 1}}))
    write_transcripts(dbt_project, rows=40)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    bi = dbt_project.root / "target" / "call_summaries_bi.duckdb"
    assert _summarized(bi) == 40

    # A build with nothing new keeps the published file (its marts' fingerprint is the same).
    written = bi.stat()
    with duckdb.connect(str(bi), read_only=True) as con:
        published = con.execute("select published_at from bedrock_ext_published").fetchone()
    result = dbt_project.dbt(["build"], **FAST)
    assert_all_passed(result)
    assert (bi.stat().st_ino, bi.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert dbt_project.query("select distinct published_at from bedrock_bi_published_marts") == [published]

    old = pq.read_table(dbt_project.root / "data" / "transcripts.parquet")
    new = generate_chunk(seed=8, chunk_index=0, first_row=40, n=25)
    pq.write_table(pa.concat_tables([old, new]), dbt_project.root / "data" / "transcripts.parquet")
    monkeypatch.setenv(
        "BEDROCK_EXT_EMULATOR_CONFIG",
        json.dumps({"quotas": {"min_records_per_job": 1}, "timings": {"in_progress_s": 4.0}}),
    )
    from bedrock_ext.warehouse.plugin import shutdown_local_emulators

    shutdown_local_emulators()  # the child build runs its own emulator on the state dir
    state = dbt_project.root / "target" / "emulator" / "bedrock_jobs.json"
    root = str(dbt_project.root)
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--project-dir",
        root,
        "--profiles-dir",
        root,
        "--vars",
        json.dumps(FAST),
    ]
    child = subprocess.Popen(
        cmd, cwd=root, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not any(j["status"] == "InProgress" for j in json.loads(state.read_text())["jobs"]):
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    try:  # mid-wait: the warehouse file is locked by the build, the published marts are not
        duckdb.connect(str(dbt_project.database), read_only=True).close()
        raise AssertionError("expected the warehouse to be locked by the running build")
    except duckdb.IOException as err:
        assert "lock" in str(err).lower()
    assert _summarized(bi) == 40  # the previous build's marts, readable now
    assert child.wait(timeout=90) == 0
    assert _summarized(bi) == 65  # the new results, once the build has finished
    with duckdb.connect(str(bi), read_only=True) as con:
        assert con.execute("select published_at from bedrock_ext_published").fetchone() > published

    report = dbt_project.root / "target" / "report.html"
    assert main(["report", "--duckdb", str(bi), "--out", str(report)]) == 0
    assert "65" in report.read_text() and "Jobs over time" in report.read_text()
