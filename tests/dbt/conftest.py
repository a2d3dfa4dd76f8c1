"""dbt fixtures: a throwaway copy of dbt_project/ (and the dbt_package/ it installs) per test,
built in-process with dbtRunner."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunnerResult

from bedrock_ext.transcripts.generator import GenerateSpec, write_dataset
from bedrock_ext.warehouse.plugin import shutdown_local_emulators
from tests.conftest import use_test_credentials
from tests.dbt.invoke import dbt_in_process
from tests.example import without_evaluation

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
PACKAGE_DIR = REPO / "dbt_package"
# Emulated jobs take ~0.3 s instead of ~2 s (tests that need slower jobs set their own).
FAST_JOBS = {"submitted_s": 0.02, "validating_s": 0.02, "scheduled_s": 0.02, "in_progress_s": 0.2}


@dataclass(frozen=True)
class DbtProject:
    """A copy of dbt_project/ in a temp dir, with helpers to build it and query its DuckDB file."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "target" / "call_summaries.duckdb"

    def dbt(self, args: Sequence[str], **variables: object) -> dbtRunnerResult:
        return dbt_in_process(self.root, args, variables)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


@contextmanager
def prepared_project(root: Path, monkeypatch: pytest.MonkeyPatch, evaluation: bool = False) -> Iterator[DbtProject]:
    """A copy of dbt_project/ at ``root``, the working directory, with an S3 bucket of its own and fast
    emulated jobs; its embedded emulators are stopped on exit. Without ``evaluation`` the example's
    task loses its evaluation block (its candidates would add their own requests to every count)."""
    ignore = shutil.ignore_patterns("target", "logs", "data", "dbt_packages", "package-lock.yml")
    shutil.copytree(PROJECT_DIR, root, ignore=ignore)
    if not evaluation:
        without_evaluation(root / "dbt_project.yml")
    # What `dbt deps` does for packages.yml's `local: ../dbt_package` (a symlink to the package), without
    # a dbt run per test; tests/dbt/test_adoption.py and test_input_contract.py run the real `dbt deps`.
    (root / "dbt_packages").mkdir()
    (root / "dbt_packages" / "bedrock_ext").symlink_to(PACKAGE_DIR, target_is_directory=True)
    monkeypatch.chdir(root)
    for name in ("TRANSCRIPTS_PATH", "DBT_DUCKDB_PATH", "DBT_TARGET", "BEDROCK_EXT_ENDPOINT_URL",
                 "BEDROCK_EXT_S3_PREFIX", "BEDROCK_EXT_ROLE_ARN", "BEDROCK_EXT_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)
    # moto's S3 is process-wide: a bucket of this test's own keeps builds from seeing each other.
    monkeypatch.setenv("BEDROCK_EXT_S3_BUCKET", f"calls-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("BEDROCK_EXT_EMULATOR_CONFIG", json.dumps({"timings": FAST_JOBS}))
    try:
        yield DbtProject(root)
    finally:
        DuckDBConnectionManager.close_all_connections()
        shutdown_local_emulators()


@pytest.fixture
def dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DbtProject]:
    with prepared_project(tmp_path / "dbt_project", monkeypatch) as project:
        yield project


@contextmanager
def shared_project(factory: pytest.TempPathFactory, name: str) -> Iterator[DbtProject]:
    """A project for a module's tests that only read one build (build it once, share it), with the
    same environment as ``dbt_project``: for module-scoped fixtures. Its tests must not change it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_test_credentials(monkeypatch)
        with prepared_project(factory.mktemp(name) / "dbt_project", monkeypatch) as project:
            yield project


def write_transcripts(project: DbtProject, rows: int, adversarial: bool = False) -> Path:
    out = project.root / "data" / "transcripts.parquet"
    write_dataset(GenerateSpec(rows=rows, adversarial=adversarial), out)
    return out


def statuses(result: dbtRunnerResult) -> dict[str, str]:
    return {r.node.name: str(r.status) for r in result.result}


def assert_all_passed(result: dbtRunnerResult) -> None:
    bad = {name: s for name, s in statuses(result).items() if s not in {"success", "pass", "no-op"}}
    messages = [str(r.message) for r in result.result if str(r.status) not in {"success", "pass", "no-op"}]
    assert result.success and not bad, (bad, messages, result.exception)
