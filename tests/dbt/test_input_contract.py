"""The package's input contract, each item on a project that is not ours: any relation (a view, a
seed, a Parquet glob), and one bad row never blocks the rest (a null id, an id crafted to collide
with another row's request key, a duplicate id, values that are not text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager

from bedrock_ext.transcripts.generator import generate_chunk
from bedrock_ext.warehouse.plugin import shutdown_local_emulators
from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS, DbtProject, assert_all_passed

FAST = {"poll_interval_s": 0.05, "min_records_per_job": 1}
EMULATOR = {"quotas": {"min_records_per_job": 1},
            "timings": FAST_JOBS}
TEXT = "Agent: thanks for calling. Customer: my invoice shows a charge I did not make, please refund it."


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    DuckDBConnectionManager.close_all_connections()
    shutdown_local_emulators()


GIST = {"type": "object", "additionalProperties": False, "required": ["gist"],
        "properties": {"gist": {"type": "string", "maxLength": 200}}}


def _project(root: Path, input_: object, id_column: str, text_column: str,
             **kwargs: object) -> foreign.ForeignProject:
    """A project with one task, `gist`, over ``input_``."""
    tasks = {"gist": {"input": input_, "id_column": id_column, "answer_schema": GIST,
                      "prompt": {"system": "You sum up a text in a few words.", "user": "{" + text_column + "}"}}}
    project = foreign.create(root, name="acme_ops", schema="ops", emulator=EMULATOR, tasks=tasks,
                             package_vars={"s3_bucket": f"acme-{root.name}".lower()[:60]},
                             **kwargs)  # type: ignore[arg-type]
    assert project.dbt(["deps"]).success
    return project


def _outcomes(project: foreign.ForeignProject) -> dict[str, tuple[str, str | None]]:
    return {rid: (status, reason) for rid, status, reason in project.query(
        "select input_row_id, status, split_part(skip_reason, ':', 1) from fct_bedrock_results")}


def test_bad_rows_are_skipped_with_a_reason_and_never_block_the_rest(workspace: Path) -> None:
    """Input: a view (a model of the project) over a table with a JSON text column."""
    project = _project(workspace / "acme", "calls_view", "ref", "body",
                       models={"calls_view.sql": "{{ config(materialized='view') }} select * from raw.calls"})
    project.sql("create schema raw; create table raw.calls (ref varchar, body json)")
    good = [(f"C{i}", f'"{TEXT} Case {i}."') for i in range(30)]
    bad = [
        (None, f'"{TEXT} no id"'), (None, f'"{TEXT} no id either"'), ("", f'"{TEXT} empty id"'),
        # concat_ws(chr(31), id, text) of these two is the same string: a crafted key collision
        ("X\x1fpart", f'"tail {TEXT}"'), ("X", f'"part\\u001ftail {TEXT}"'),
        ("C0", f'"{TEXT} Case 0, exported again."'),  # a duplicate id
        ("N1", "42"), ("N2", '{"text": "an object"}'), ("N3", '["a", "list"]'),  # not text
    ]
    project.sql("insert into raw.calls select * from (values " + ", ".join(["(?, ?)"] * len(good + bad)) + ")",
                [v for row in good + bad for v in row])
    assert_all_passed(project.dbt(["build"], **FAST))

    outcomes = _outcomes(project)
    assert len(outcomes) == len(good) + len(bad)  # every input row accounted for
    reasons = sorted(r for s, r in outcomes.values() if s == "skipped")
    assert reasons == ["duplicate_id", "invalid_id", "non_text_value", "non_text_value", "non_text_value",
                       "null_id", "null_id", "null_id"]
    assert sum(s == "answered" for s, _ in outcomes.values()) == 31  # 30 good + X (its crafted twin skipped)
    assert outcomes["X#1"] == ("answered", None)


def test_a_seed_is_an_input(workspace: Path) -> None:
    project = _project(workspace / "seeded", "faq_questions", "question_no", "question")
    (project.root / "seeds").mkdir()
    rows = "\n".join(f'{i},"How do I change the address on invoice {i}?"' for i in range(1, 26))
    (project.root / "seeds" / "faq_questions.csv").write_text("question_no,question\n" + rows + "\n")
    assert_all_passed(project.dbt(["build"], **FAST))
    assert project.query("select status, count(*) from fct_bedrock_results group by all") == [("answered", 25)]


def test_a_parquet_glob_with_one_file_name_per_folder_is_one_row_each(dbt_project: DbtProject,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """data/day=*/part-0.parquet: the file name repeats, the rows are distinct (the row identity
    used to be `<file name>:<row>`, which made 592 rows 412 ids and blocked the build)."""
    for day, first in ((1, 0), (2, 60)):
        folder = dbt_project.root / "data" / f"day={day}"
        folder.mkdir(parents=True)
        pq.write_table(generate_chunk(seed=day, chunk_index=0, first_row=first, n=60), folder / "part-0.parquet")
    monkeypatch.setenv("TRANSCRIPTS_PATH", str(dbt_project.root / "data" / "day=*" / "part-0.parquet"))
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    assert dbt_project.query("select count(*), count(distinct transcript_row_id) from fct_call_summaries") == [
        (120, 120)]
    assert dbt_project.query("select summary_status, count(*) from fct_call_summaries group by all") == [
        ("summarized", 120)]


def test_a_task_without_input_is_a_clear_error(workspace: Path) -> None:
    project = _project(workspace / "unset", None, "id", "text")
    (project.root / "models" / "placeholder.sql").write_text("select 1 as id, 'x' as text")
    result = project.dbt(["build"])
    assert not result.success
    assert "task 'gist' input must name the relation" in str(result.exception)


def test_no_task_declared_is_a_clear_error(workspace: Path) -> None:
    project = foreign.create(workspace / "none", name="acme_ops", schema="ops", package_vars={}, tasks={})
    assert project.dbt(["deps"]).success
    result = project.dbt(["build"])
    assert not result.success and "no task is declared" in str(result.exception)
