"""The package version has one source (pyproject.toml): Python and SQL read it, nothing restates it."""

from __future__ import annotations

import pathlib
import tomllib

import duckdb

import bedrock_ext
from bedrock_ext.warehouse.sql_functions import register_functions

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_python_and_sql_read_the_version_from_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    con = duckdb.connect()
    register_functions(con)
    assert bedrock_ext.__version__ == declared
    assert con.execute("select bedrock_ext_version()").fetchone() == (declared,)


def test_no_file_of_the_package_restates_the_version() -> None:
    version = bedrock_ext.__version__
    holders = [str(p.relative_to(ROOT)) for folder in ("bedrock_ext", "dbt_package")
               for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in {".py", ".sql", ".yml", ".csv"}
               and version in p.read_text(errors="replace")]
    assert holders == []
