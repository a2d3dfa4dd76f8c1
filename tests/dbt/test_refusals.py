"""Refusals before anything is paid (issue 27): an answer schema no answer can satisfy stops the
build with one line naming the property and the rule, and nothing in the emulated S3; a bad
setting's message reaches dbt's output as one line, without traceback frames."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.dbt.conftest import PROJECT_DIR, DbtProject, write_transcripts


def _example_tasks() -> dict:
    return yaml.safe_load((Path(PROJECT_DIR) / "dbt_project.yml").read_text())["vars"]["bedrock_ext_tasks"]


def _objects(root: Path) -> list[Path]:
    return [p for p in (root / "target" / "emulator" / "s3").rglob("*") if p.is_file() and "%etags" not in p.parts]


@pytest.mark.parametrize(("edit", "named"), [
    (lambda s: s["properties"]["summary"].update(minLength=2000), "minLength 2000 is above maxLength 1200"),
    (lambda s: s["required"].append("zzz"), "required names 'zzz', which is not one of its properties"),
], ids=["contradictory-lengths", "unknown-required"])
def test_an_impossible_schema_stops_before_anything_is_paid(dbt_project: DbtProject, edit, named: str) -> None:
    write_transcripts(dbt_project, rows=120)
    tasks = copy.deepcopy(_example_tasks())
    edit(tasks["call_summaries"]["answer_schema"])
    result = dbt_project.dbt(["build"], poll_interval_s=0.05, bedrock_ext_tasks=tasks)
    errors = [str(r.message) for r in (result.result or []) if str(r.status) == "error"] + [str(result.exception)]
    assert not result.success and any(named in e for e in errors), errors
    assert not [p for p in _objects(dbt_project.root) if "input" in p.name or "output" in p.name]


@pytest.mark.parametrize(("variables", "line"), [
    ({"temperature": 5.0}, "bedrock_ext.errors.ConfigError: temperature 5.0 is out of range"),
    ({"bedrock_budget_usd": 0.000001}, "bedrock_ext.errors.BudgetExceededError: estimated batch cost"),
], ids=["setting", "budget"])
def test_a_refusal_reads_as_one_line_in_dbts_output(dbt_project: DbtProject, variables: dict, line: str) -> None:
    write_transcripts(dbt_project, rows=120)
    result = dbt_project.dbt(["build"], poll_interval_s=0.05, **variables)
    (message,) = [str(r.message) for r in result.result if str(r.status) == "error"]
    assert "Python model failed:" in message and line in message, message
    assert "Traceback" not in message and 'File "' not in message and "During handling" not in message, message
