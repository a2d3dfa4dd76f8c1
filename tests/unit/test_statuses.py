"""The job status set is defined once per language (issue 26): Python's JobStatus, the package's
job_statuses / ended_job_statuses macros (read by every SQL model through is_job_ended), and the
yml accepted_values of job_status agree."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from bedrock_ext.aws.jobs import JobStatus
from bedrock_ext.pipeline.submission import TERMINAL_STATUSES
from tests.sql.package_sql import environment

PACKAGE = Path(__file__).resolve().parents[2] / "dbt_package"


def _macros() -> object:
    return environment({}, {})[1]["bedrock_ext"]


def test_sql_and_python_statuses_agree() -> None:
    macros = _macros()
    assert macros.job_statuses() == [s.value for s in JobStatus]  # type: ignore[attr-defined]
    assert set(macros.ended_job_statuses()) == {s.value for s in JobStatus if s.is_terminal} == set(  # type: ignore[attr-defined]
        TERMINAL_STATUSES)
    with duckdb.connect() as con:
        ended = {s for s, e in con.execute(f"select s, {macros.is_job_ended('s')} from unnest(?) t(s)",  # type: ignore[attr-defined]
                                             [[s.value for s in JobStatus]]).fetchall() if e}
    assert ended == set(TERMINAL_STATUSES)


def _accepted_job_statuses(path: Path) -> list[list[str]]:
    found = []
    for model in yaml.safe_load(path.read_text())["models"]:
        for column in model.get("columns", []):
            if column["name"] == "job_status":
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        found.append(test["accepted_values"]["arguments"]["values"])
    return found


def test_the_yml_tests_accept_exactly_the_statuses() -> None:
    lists = [*_accepted_job_statuses(PACKAGE / "models" / "marts" / "_marts__models.yml"),
             *_accepted_job_statuses(PACKAGE / "models" / "batch" / "_batch__models.yml")]
    assert len(lists) == 2 and all(sorted(v) == sorted(s.value for s in JobStatus) for v in lists)
