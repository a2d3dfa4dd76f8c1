"""Past one machine (issue 31, first part): the example's `lake` target, a DuckLake warehouse whose
catalog is a real PostgreSQL and whose data files are in S3 (the embedded emulator's here). Every
package model builds there, a second build is a no-op, and a reader in another process queries the
marts while a build writes, without the BI copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from bedrock_ext.warehouse.duckdb_s3 import ensure_extensions
from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, prepared_project, write_transcripts
from tests.emulator.conftest import clients_for
from tests.postgres import Postgres, running_postgres

ROWS, NEW = 150, 120
# Several processes on one lake: off by default (`pytest -m slow` runs them). DuckLake 1.5.5 failed
# now and then under them here (docs/scaling.md lists the errors); the default suite stays
# deterministic with the one-build test.
CONCURRENT = pytest.mark.slow
VARS = {"poll_interval_s": 0.05}
READER = """
import sys, time, duckdb
ext, catalog, bucket_endpoint, deadline = sys.argv[1], sys.argv[2], sys.argv[3], time.time() + float(sys.argv[4])
con = duckdb.connect(config={"extension_directory": ext, "autoinstall_known_extensions": False})
con.execute("load ducklake; load postgres_scanner; load httpfs")
con.execute(f"create secret (type s3, key_id 'emulator', secret 'emulator', region 'us-east-1', "
            f"endpoint '{bucket_endpoint}', use_ssl false, url_style 'path')")
con.execute(f"attach 'ducklake:postgres:{catalog}' as lake (read_only)")
counts = []
while time.time() < deadline:
    counts.append(con.execute("select count(*) from lake.main.fct_bedrock_results").fetchone()[0])
    time.sleep(0.1)
print(",".join(map(str, counts)))
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def lake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres: Postgres) -> Iterator[DbtProject]:
    with prepared_project(tmp_path / "dbt_project", monkeypatch) as project:
        monkeypatch.setenv("DBT_TARGET", "lake")
        monkeypatch.setenv("BEDROCK_EXT_LAKE_CATALOG", postgres.libpq(postgres.create_database()))
        yield project


def _query(project: DbtProject, sql: str, endpoint: str | None = None) -> list[tuple]:
    """SQL over the lake, read-only, as any DuckDB reader: the catalog in PostgreSQL, the data
    through the S3 endpoint (the build's embedded emulator unless ``endpoint`` is given)."""
    endpoint = endpoint or local_emulator(project.root / "target" / "emulator").endpoint_url
    con = duckdb.connect(config={"extension_directory": str(project.root / "target" / "duckdb_extensions"),
                                 "autoinstall_known_extensions": False})
    try:
        con.execute("load ducklake; load postgres_scanner; load httpfs")
        con.execute(f"create secret (type s3, key_id 'k', secret 's', region 'us-east-1', "
                    f"endpoint '{endpoint.split('://', 1)[1]}', use_ssl false, url_style 'path')")
        con.execute(f"attach 'ducklake:postgres:{os.environ['BEDROCK_EXT_LAKE_CATALOG']}' as lake (read_only)")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _lake_tables(project: DbtProject) -> dict[str, str]:
    return dict(_query(project, "select table_name, table_type from information_schema.tables "
                                "where table_catalog = 'lake' and table_schema = 'main'"))


def _lake_files(project: DbtProject) -> list[Path]:
    """The lake's data files in the embedded emulator's S3 (its objects mirrored on disk)."""
    return [p for p in (project.root / "target" / "emulator" / "s3").rglob("*.parquet")
            if "lake" in p.name and "%etags" not in p.parts]


def test_every_model_builds_in_the_lake_and_a_second_build_is_a_no_op(lake_project: DbtProject) -> None:
    write_transcripts(lake_project, rows=ROWS)
    assert_all_passed(lake_project.dbt(["build"], **VARS))
    tables = _lake_tables(lake_project)
    for model in ("stg_bedrock_ext__input_rows", "int_bedrock_requests", "bedrock_batch_input", "bedrock_batch_jobs",
                  "stg_bedrock__batch_outputs", "int_bedrock_answers", "fct_bedrock_results", "dim_batch_jobs",
                  "fct_batch_job_costs", "dim_bedrock_models", "dim_bedrock_tasks", "fct_call_summaries"):
        assert model in tables, model
    assert _query(lake_project, "select status, count(*) from lake.main.fct_bedrock_results group by 1") == \
        [("answered", ROWS)]
    assert _lake_files(lake_project), "the lake's data files are in S3"
    with duckdb.connect(str(lake_project.root / "target" / "lake_local.duckdb"), read_only=True) as con:
        local = con.execute("select count(*) from information_schema.tables where table_catalog = 'lake_local'")
        assert local.fetchone() == (0,)  # the local scratch database holds no model

    log = lake_project.root / "logs" / "dbt.log"
    assert "DuckLake lake: 0 snapshot(s) older than 168 h expired" in log.read_text()  # the default keeps a week

    counts = "select (select count(*) from lake.main.bedrock_batch_input), (select count(*) from lake.main.bedrock_batch_jobs)"
    before = _query(lake_project, counts)
    log.unlink()
    assert_all_passed(lake_project.dbt(["build"], **VARS, lake_retention_hours=0))
    assert _query(lake_project, counts) == before  # nothing exported, no job
    # With no retention the maintenance leaves in S3 exactly the files the current snapshot reads:
    # the replaced tables' files of both builds are gone.
    done = re.search(r"DuckLake lake: (\d+) snapshot\(s\) older than 0 h expired, \d+ file group\(s\) merged, "
                     r"(\d+) old file\(s\) deleted", log.read_text())
    assert done and int(done.group(1)) > 0 and int(done.group(2)) > 0, done
    live = _query(lake_project, "select (select count(*) from __ducklake_metadata_lake.ducklake_data_file "
                                "where end_snapshot is null) + (select count(*) from "
                                "__ducklake_metadata_lake.ducklake_delete_file where end_snapshot is null)")[0][0]
    assert len(_lake_files(lake_project)) == live


@pytest.fixture
def served_emulator(tmp_path: Path) -> Iterator[str]:
    """The emulator served apart (`bedrock-ext emulator serve`), as AWS is to two machines: every
    process reaches the same S3 and Bedrock. Its jobs run 12 s, long enough to be seen running."""
    config = tmp_path / "served.json"
    config.write_text(json.dumps({"timings": {"submitted_s": 0.1, "validating_s": 0.1, "scheduled_s": 0.1,
                                              "in_progress_s": 12.0}}))
    proc = subprocess.Popen([sys.executable, "-m", "bedrock_ext.cli.main", "emulator", "serve", "--port", "0",
                             "--state-dir", str(tmp_path / "served"), "--config", str(config)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().split(" at ", 1)[1].split(";", 1)[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@CONCURRENT
def test_a_reader_in_another_process_queries_the_marts_while_a_build_writes(
        lake_project: DbtProject, served_emulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_EXT_LAKE_MODE", "aws")  # the aws code path, against the served emulator
    monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", served_emulator)
    s3, _, _ = clients_for(served_emulator)
    s3.create_bucket(Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"])  # as a user creates theirs on AWS
    _transcripts(lake_project, ROWS + NEW, first=ROWS)
    assert_all_passed(lake_project.dbt(["build"], **VARS))
    _transcripts(lake_project, ROWS + NEW, first=ROWS + NEW)  # NEW new rows (a batch job: at least min_records_per_job): a build that writes the marts again
    build = subprocess.Popen([str(Path(sys.executable).parent / "dbt"), "build", "--project-dir",
                              str(lake_project.root), "--profiles-dir", str(lake_project.root), "--vars",
                              json.dumps(VARS)], cwd=lake_project.root, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reader = subprocess.run([sys.executable, "-c", READER, str(lake_project.root / "target" / "duckdb_extensions"),
                             os.environ["BEDROCK_EXT_LAKE_CATALOG"], served_emulator.split("://", 1)[1], "8"],
                            capture_output=True, text=True, timeout=120, check=False)
    out, _ = build.communicate(timeout=300)
    assert build.returncode == 0, out[-3000:]
    assert reader.returncode == 0, reader.stderr[-2000:]
    counts = [int(c) for c in reader.stdout.strip().split(",")]
    assert len(counts) > 10 and set(counts) <= {ROWS, ROWS + NEW}, counts  # a snapshot each read
    assert _query(lake_project, "select count(*) from lake.main.fct_bedrock_results where status = 'answered'",
                  served_emulator) == [(ROWS + NEW,)]


def _transcripts(project: DbtProject, rows: int, first: int) -> None:
    path = write_transcripts(project, rows=rows)
    pq.write_table(pq.read_table(path).slice(0, first), path)


def _dbt(project_root: Path, **env: str) -> subprocess.Popen[str]:
    """`dbt build` in its own process: a machine of its own (its own directory and target/)."""
    return subprocess.Popen([str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(project_root),
                             "--profiles-dir", str(project_root), "--vars", json.dumps(VARS)],
                            cwd=project_root, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@CONCURRENT
def test_two_machines_share_one_lake_one_build_at_a_time_and_pay_once(
        lake_project: DbtProject, served_emulator: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BEDROCK_EXT_LAKE_MODE", "aws")
    monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", served_emulator)
    bucket = os.environ["BEDROCK_EXT_S3_BUCKET"]
    s3, _, _ = clients_for(served_emulator)
    s3.create_bucket(Bucket=bucket)
    first = lake_project.root
    second = tmp_path / "machine2" / "dbt_project"  # another checkout, its own target/ and scratch file
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("target", "logs"), symlinks=True)
    _transcripts(lake_project, ROWS, first=ROWS)
    (second / "data").mkdir(exist_ok=True)
    shutil.copy(first / "data" / "transcripts.parquet", second / "data" / "transcripts.parquet")

    one = _dbt(first)
    deadline = time.monotonic() + 120
    while not _leases(s3, bucket):
        assert one.poll() is None and time.monotonic() < deadline, "the first build never took the lease"
        time.sleep(0.05)
    waiting = _dbt(second, BEDROCK_EXT_BUILD_LEASE_WAIT_S="240")  # willing to wait its turn
    third = tmp_path / "machine3" / "dbt_project"
    shutil.copytree(second, third, ignore=shutil.ignore_patterns("target", "logs"), symlinks=True)
    refused = subprocess.run([str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", str(third),
                              "--profiles-dir", str(third), "--vars", json.dumps(VARS)], cwd=third,
                             capture_output=True, text=True, timeout=300, check=False)  # not willing to wait
    assert refused.returncode != 0
    assert "another build holds s3://" in refused.stdout and "locks/build.json" in refused.stdout
    out_one, _ = one.communicate(timeout=300)
    out_two, _ = waiting.communicate(timeout=300)
    assert one.returncode == 0, out_one[-3000:]
    assert waiting.returncode == 0, out_two[-3000:]
    assert "waiting for the build lease" in out_two
    assert "to export: 0 records" in out_two  # the first machine's exports and jobs are in the lake
    answered = "select count(*) from lake.main.fct_bedrock_results where status = 'answered'"
    assert _query(lake_project, answered, served_emulator) == [(ROWS,)]
    assert _query(lake_project, "select count(*), count(distinct job_key) from lake.main.bedrock_batch_input",
                  served_emulator) == [(ROWS, 1)]
    _, bedrock, _ = clients_for(served_emulator)
    assert len(bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) == 1  # paid once
    assert not _leases(s3, bucket)  # released


@CONCURRENT
def test_two_projects_in_one_lake_take_turns_and_never_share_a_job(
        lake_project: DbtProject, served_emulator: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two projects (their own schema and S3 prefix; dev and prod of one project, say) share one lake:
    their builds take turns on the lake's lease (concurrent builds in one DuckLake catalog, even in
    separate schemas, failed here now and then), and the same rows never share a job."""
    monkeypatch.setenv("BEDROCK_EXT_LAKE_MODE", "aws")
    monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", served_emulator)
    s3, _, _ = clients_for(served_emulator)
    s3.create_bucket(Bucket=os.environ["BEDROCK_EXT_S3_BUCKET"])
    # one catalog has one data path (DuckLake refuses a second): both projects write there
    data_path = f"s3://{os.environ['BEDROCK_EXT_S3_BUCKET']}/lake/"
    monkeypatch.setenv("BEDROCK_EXT_LAKE_DATA_PATH", data_path)
    # the lake is created once, before builds on several machines start: two first ATTACHes of an
    # empty catalog at the same moment race in PostgreSQL ("duplicate key ... ducklake_metadata")
    with duckdb.connect(config={"extension_directory": str(lake_project.root / "target" / "duckdb_extensions"),
                                "autoinstall_known_extensions": False}) as con:
        ensure_extensions(str(lake_project.root / "target" / "duckdb_extensions"), ["ducklake", "postgres_scanner"])
        con.execute("load ducklake; load postgres_scanner")
        con.execute(f"attach 'ducklake:postgres:{os.environ['BEDROCK_EXT_LAKE_CATALOG']}' as lake "
                    f"(data_path '{data_path}')")
    other = tmp_path / "team2" / "dbt_project"
    shutil.copytree(lake_project.root, other, ignore=shutil.ignore_patterns("target", "logs"), symlinks=True)
    # the same rows in both (dev and prod of one project, say): their jobs must not be shared
    _transcripts(lake_project, ROWS, first=ROWS)
    (other / "data").mkdir(exist_ok=True)
    shutil.copy(lake_project.root / "data" / "transcripts.parquet", other / "data" / "transcripts.parquet")
    builds = [_dbt(root, BEDROCK_EXT_LAKE_SCHEMA=name, BEDROCK_EXT_S3_PREFIX=name, BEDROCK_EXT_BUILD_LEASE_WAIT_S="240")
              for root, name in ((lake_project.root, "sales"), (other, "support"))]
    outputs = [b.communicate(timeout=300)[0] for b in builds]
    assert [b.returncode for b in builds] == [0, 0], [o[-1500:] for o in outputs]
    assert "waiting for the build lease" in outputs[1] + outputs[0]  # one of them took its turn
    for schema in ("sales", "support"):
        assert _query(lake_project, f"select count(*) from lake.{schema}.fct_bedrock_results where status = 'answered'",
                      served_emulator) == [(ROWS,)]
    _, bedrock, _ = clients_for(served_emulator)
    assert len(bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) == 2


def _leases(s3: Any, bucket: str) -> list[str]:
    """The build leases in the bucket (a lake's is under its data path)."""
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if o["Key"].endswith("locks/build.json")]
