"""The example project's call_summaries task, read from its dbt_project.yml (its one definition),
for the tests that build records of it without dbt."""

from __future__ import annotations

from pathlib import Path

from bedrock_ext.request.task import project_task

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
EXAMPLE_TASK = project_task(EXAMPLE_PROJECT, "call_summaries")
