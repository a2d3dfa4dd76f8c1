"""A dbt project that is not ours, generated from scratch in a temp dir: its own name, profile,
schema and input, with the bedrock_ext package installed through packages.yml ``local:`` from
this repository, as a user would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml
from dbt.cli.main import dbtRunnerResult

from tests.dbt.invoke import dbt_in_process

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "dbt_package"
DBT = Path(sys.executable).parent / "dbt"


@dataclass(frozen=True)
class ForeignProject:
    """``root`` holds dbt_project.yml, profiles.yml, packages.yml and models/; the warehouse is
    ``root/warehouse.duckdb``; the project's models build into ``schema``."""

    root: Path
    name: str
    schema: str

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """Run SQL on the warehouse (read-write: the test's own input tables)."""
        with duckdb.connect(str(self.database)) as con:
            return con.execute(sql, params or []).fetchall()

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            con.execute(f"use warehouse.{self.schema}")
            return con.execute(sql).fetchall()

    def dbt(self, args: Sequence[str], **variables: object) -> dbtRunnerResult:
        """dbt in this process (fast); see ``dbt_cli`` for a separate process."""
        return dbt_in_process(self.root, args, variables)

    def dbt_cli(self, args: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The ``dbt`` command in its own process, as a user runs it."""
        return subprocess.run([str(DBT), *args, *self._dirs()], cwd=self.root, capture_output=True, text=True,
                              env=env, timeout=600, check=False)

    def _dirs(self) -> list[str]:
        return ["--project-dir", str(self.root), "--profiles-dir", str(self.root)]


def create(root: Path, *, name: str, schema: str, package_vars: dict[str, Any], tasks: dict[str, Any],
           sources: Any = None, models: dict[str, str] | None = None,
           emulator: dict[str, Any] | None = None) -> ForeignProject:
    """Write a fresh dbt project: ``package_vars`` go under ``vars: bedrock_ext:``, ``tasks``
    into the global var ``bedrock_ext_tasks``; ``sources`` is a sources.yml body; ``models`` maps
    file names under models/ to their text (a ``.yml`` name is written as is); ``emulator``
    (faults, timings, quotas) goes into the plugin config of the local target."""
    root.mkdir(parents=True, exist_ok=True)
    write_project_yml(root, name, package_vars, tasks)
    _write_yaml(root / "packages.yml", {"packages": [{"local": str(PACKAGE_DIR)}]})
    _write_yaml(root / "profiles.yml", {name: {"target": "local", "outputs": {"local": {
        "type": "duckdb", "path": str(root / "warehouse.duckdb"), "schema": schema, "threads": 2,
        "config_options": {"extension_directory": str(root / "target" / "duckdb_extensions"),
                           "autoinstall_known_extensions": False},
        "extensions": ["httpfs"],
        "plugins": [{"module": "bedrock_ext.plugin", "alias": "bedrock", "config": {
            "mode": "local", "state_dir": str(root / "target" / "emulator"), "emulator": emulator or {}}}],
    }}}})
    (root / "models").mkdir(exist_ok=True)
    if sources:
        _write_yaml(root / "models" / "sources.yml", {"version": 2, "sources": sources})
    for file_name, text in (models or {}).items():
        (root / "models" / file_name).write_text(text)  # .sql, or a .yml properties file
    return ForeignProject(root=root, name=name, schema=schema)


def write_project_yml(root: Path, name: str, package_vars: dict[str, Any], tasks: dict[str, Any]) -> None:
    """dbt_project.yml (written again by tests that edit a task between builds)."""
    _write_yaml(root / "dbt_project.yml", {
        "name": name, "version": "1.0.0", "config-version": 2, "profile": name,
        "model-paths": ["models"], "seed-paths": ["seeds"],
        "vars": {"bedrock_ext": package_vars, "bedrock_ext_tasks": tasks}})


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
