"""dbt fixtures: a throwaway copy of dbt_project/ per test, built in-process with dbtRunner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from bedrock_ext.transcripts.generator import GenerateSpec, write_dataset

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@dataclass(frozen=True)
class DbtProject:
    """A copy of dbt_project/ in a temp dir, with helpers to build it and query its DuckDB file."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "target" / "call_summaries.duckdb"

    def dbt(self, args: Sequence[str]) -> dbtRunnerResult:
        dirs = ["--project-dir", str(self.root), "--profiles-dir", str(self.root)]
        result = dbtRunner().invoke([*args, *dirs, "--quiet"])
        DuckDBConnectionManager.close_all_connections()  # release the file lock (stack.md F7)
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture
def dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DbtProject]:
    root = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, root, ignore=shutil.ignore_patterns("target", "logs", "data"))
    monkeypatch.chdir(root)
    monkeypatch.delenv("TRANSCRIPTS_PATH", raising=False)
    monkeypatch.delenv("DBT_DUCKDB_PATH", raising=False)
    yield DbtProject(root)
    DuckDBConnectionManager.close_all_connections()


def write_transcripts(project: DbtProject, rows: int, adversarial: bool = False) -> Path:
    out = project.root / "data" / "transcripts.parquet"
    write_dataset(GenerateSpec(rows=rows, adversarial=adversarial), out)
    return out
