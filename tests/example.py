"""The example project's call_summaries task, read from its dbt_project.yml (its one definition),
for the tests that build records of it without dbt."""

from __future__ import annotations

from pathlib import Path

import yaml

from bedrock_ext.request.task import project_task

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
EXAMPLE_TASK = project_task(EXAMPLE_PROJECT, "call_summaries")


def without_evaluation(project_yml: Path) -> None:
    """A copy of the example's dbt_project.yml without its tasks' evaluation blocks (their
    candidates would add requests to every count, and the judge a job to every rebuild)."""
    config = yaml.safe_load(project_yml.read_text())
    for spec in config["vars"]["bedrock_ext_tasks"].values():
        spec.pop("evaluation", None)
    project_yml.write_text(yaml.safe_dump(config, sort_keys=False))
