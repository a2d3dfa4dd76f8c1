"""dbt in the test process, as the test projects (tests/dbt/conftest.py, tests/dbt/foreign.py) run it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from tests.dbt.parse_cache import reused_parse

# dbt's debug file log and its JSON artifacts (manifest.json, run_results.json), which no test reads
# but the one looking for credentials in everything a build writes: ~12% of a no-op build's CPU.
# A test passes its own --log-level-file / --write-json to get them.
_LEAN = ("--log-level-file", "info", "--no-write-json")


def lean(args: Sequence[str]) -> list[str]:
    """``args`` with dbt's file log at info and no JSON artifacts, unless they set either."""
    if any(a in {"--log-level-file", "--write-json", "--no-write-json"} for a in args):
        return list(args)
    return [*args, *_LEAN]


def dbt_in_process(root: Path, args: Sequence[str], variables: dict[str, object]) -> dbtRunnerResult:
    """``dbt <args>`` on the project at ``root`` (its profiles.yml beside it) with ``variables`` as
    --vars; the DuckDB file is released afterwards (stack.md F7)."""
    dirs = ["--project-dir", str(root), "--profiles-dir", str(root)]
    extra = ["--vars", json.dumps(variables)] if variables else []
    with reused_parse(root, [*args, *extra]):
        result = dbtRunner().invoke([*lean(args), *dirs, *extra, "--quiet"])
    DuckDBConnectionManager.close_all_connections()
    return result
