"""Tasks declared in yml (issue 14), outside in: two tasks coexisting in a project that is not
ours, each with its typed result model; editing a prompt re-requests exactly that task's rows;
schema-invalid answers are kept with their reason and retried; both request formats end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager

from bedrock_ext.warehouse.plugin import shutdown_local_emulators
from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS, assert_all_passed
from tests.dbt.tasks_examples import TICKET_LANGUAGE, TICKET_TRIAGE, task

ROWS = 120
FAST = {"poll_interval_s": 0.05}
PACKAGE_VARS = {"min_records_per_job": 1, "max_attempts": 2}
INPUT = {"source": "helpdesk", "table": "tickets"}


@pytest.fixture
def helpdesk(tmp_path: Path) -> Iterator[foreign.ForeignProject]:
    yield _helpdesk(tmp_path, {"ticket_triage": task(TICKET_TRIAGE, input=INPUT),
                               "ticket_language": task(TICKET_LANGUAGE, input=INPUT)})
    DuckDBConnectionManager.close_all_connections()
    shutdown_local_emulators()


def _helpdesk(tmp_path: Path, tasks: dict, faults: dict | None = None) -> foreign.ForeignProject:
    models = {f"{name}.sql": f"{{{{ bedrock_ext.task_results('{name}') }}}}\n" for name in tasks}
    project = foreign.create(tmp_path / "helpdesk", name="helpdesk", schema="support", tasks=tasks,
                             package_vars={**PACKAGE_VARS, "s3_bucket": f"helpdesk-{uuid.uuid4().hex[:12]}"},
                             sources=[{"name": "helpdesk", "schema": "raw", "tables": [{"name": "tickets"}]}],
                             models=models, emulator={"quotas": {"min_records_per_job": 1}, "timings": FAST_JOBS,
                                                      "faults": faults or {}})
    project.sql("create schema raw")
    project.sql("create table raw.tickets as select i as ticket_id, 'Ticket ' || i || ': my billing statement shows a charge '"
                " || 'I did not make' || case when i % 3 = 0 then ', please refund it' else '' end || '.' as body, "
                "['low', 'high'][1 + i % 2] as priority from range(?) t(i)", [ROWS])
    assert project.dbt(["deps"]).success
    return project


def _job_requests(project: foreign.ForeignProject) -> list[dict]:
    state = json.loads((project.root / "target" / "emulator" / "bedrock_jobs.json").read_text())
    return [j["request"] for j in state["jobs"]]


def test_two_tasks_coexist_each_with_its_typed_result_model(helpdesk: foreign.ForeignProject) -> None:
    assert_all_passed(helpdesk.dbt(["build"], **FAST))
    assert helpdesk.query("select task_name, status, count(*) from fct_bedrock_results group by all order by 1") == [
        ("ticket_language", "answered", ROWS), ("ticket_triage", "answered", ROWS)]
    types = dict(helpdesk.query("select table_name || '.' || column_name, data_type from information_schema.columns "
                                "where table_name in ('ticket_triage', 'ticket_language')"))
    assert {k: types[k] for k in ("ticket_triage.category", "ticket_triage.urgency", "ticket_triage.needs_refund",
                                  "ticket_triage.reply_draft", "ticket_language.tone",
                                  "ticket_language.mentions_competitor", "ticket_language.keywords")} == {
        "ticket_triage.category": "VARCHAR", "ticket_triage.urgency": "BIGINT",
        "ticket_triage.needs_refund": "BOOLEAN", "ticket_triage.reply_draft": "VARCHAR",
        "ticket_language.tone": "VARCHAR", "ticket_language.mentions_competitor": "BOOLEAN",
        "ticket_language.keywords": "VARCHAR[]"}
    (refunds, bounded, short, billing), = helpdesk.query(
        "select count(*) filter (where needs_refund), bool_and(urgency between 1 and 5), "
        "bool_and(length(reply_draft) <= 400), count(*) filter (where category = 'billing') from ticket_triage")
    assert refunds == ROWS // 3 and bounded and short and billing == ROWS  # the text says "billing"
    # One job per task, each tagged with its task and sent as Converse.
    requests = _job_requests(helpdesk)
    assert sorted(next(t["value"] for t in r["tags"] if t["key"] == "bedrock-ext:task") for r in requests) == [
        "ticket_language", "ticket_triage"]
    assert {r["modelInvocationType"] for r in requests} == {"Converse"}


def test_editing_a_prompt_requests_that_task_again_and_nothing_else(helpdesk: foreign.ForeignProject) -> None:
    assert_all_passed(helpdesk.dbt(["build"], **FAST))
    assert_all_passed(helpdesk.dbt(["build"], **FAST))  # unchanged: nothing new
    assert helpdesk.query("select task_name, count(*) from bedrock_batch_input group by all order by 1") == [
        ("ticket_language", ROWS), ("ticket_triage", ROWS)]
    edited = task(TICKET_TRIAGE, input=INPUT)
    edited["prompt"]["user"] = edited["prompt"]["user"].replace("Ticket:", "The ticket:")
    foreign.write_project_yml(helpdesk.root, "helpdesk", {**PACKAGE_VARS, "s3_bucket": _bucket(helpdesk)},
                              {"ticket_triage": edited, "ticket_language": task(TICKET_LANGUAGE, input=INPUT)})
    assert_all_passed(helpdesk.dbt(["build"], **FAST))
    assert helpdesk.query("select task_name, count(*) from bedrock_batch_input group by all order by 1") == [
        ("ticket_language", ROWS), ("ticket_triage", 2 * ROWS)]
    assert len(_job_requests(helpdesk)) == 3
    assert helpdesk.query("select count(*) from ticket_triage where status = 'answered'") == [(ROWS,)]


def _bucket(project: foreign.ForeignProject) -> str:
    import yaml

    return yaml.safe_load((project.root / "dbt_project.yml").read_text())["vars"]["bedrock_ext"]["s3_bucket"]


def test_schema_invalid_answers_keep_their_reason_and_are_retried(tmp_path: Path) -> None:
    project = _helpdesk(tmp_path, {"ticket_triage": task(TICKET_TRIAGE, input=INPUT)},
                        faults={"invalid_answer_rate": 0.6, "seed": 3})
    try:
        assert_all_passed(project.dbt(["build"], **FAST))
        errors = [e for (e,) in project.query("select parse_error from int_bedrock_answers where parse_error is not null")]
        kinds = {e.split(":")[0].split(" is ")[-1].split(" (")[0] for e in errors}
        assert any(e.startswith("unknown key(s): confidence") for e in errors)
        assert any("is not one of the accepted values: something_else" in e for e in errors)
        assert any(e.startswith("category is not string: OBJECT") for e in errors)
        assert any(e.startswith("reply_draft is longer than 400 characters") for e in errors)
        assert any(e.startswith("answer is not a JSON object") for e in errors), kinds
        (pending, due, raw), = project.query(
            "select count(*), count(*) filter (where is_retry_due), count(*) filter (where raw_answer_text is null) "
            "from fct_bedrock_results where status = 'pending'")
        assert pending == len(errors) and due == pending  # invalid answers are transient: retried
        answered = project.query("select count(*) from fct_bedrock_results where status = 'answered'")[0][0]
        assert answered + pending == ROWS  # prose-wrapped JSON counts as answered (today's rule)
        assert_all_passed(project.dbt(["build"], **FAST))  # the retries (max_attempts 2: the last one)
        assert project.query("select max(attempt_number), count(*) filter (where attempt_number = 2) "
                             "from bedrock_batch_input") == [(2, pending)]
        failed = project.query("select count(*), count(raw_answer_text), count(failure_message) "
                               "from fct_bedrock_results where status = 'failed'")[0]
        assert failed[0] > 0 and failed[0] == failed[1] == failed[2]  # raw text kept, never silently nulled
    finally:
        DuckDBConnectionManager.close_all_connections()
        shutdown_local_emulators()


def test_invoke_model_bodies_still_work_end_to_end(tmp_path: Path) -> None:
    project = _helpdesk(tmp_path, {"ticket_triage": task(TICKET_TRIAGE, input=INPUT, invocation_type="InvokeModel",
                                                         bedrock_model_id="amazon.nova-lite-v1:0")})
    try:
        assert_all_passed(project.dbt(["build"], **FAST))
        assert {r["modelInvocationType"] for r in _job_requests(project)} == {"InvokeModel"}
        assert project.query("select status, count(*), min(input_tokens) > 0, min(output_tokens) > 0 "
                             "from fct_bedrock_results group by all") == [("answered", ROWS, True, True)]
        assert project.query("select distinct model_id from fct_bedrock_results") == [("amazon.nova-lite-v1:0",)]
    finally:
        DuckDBConnectionManager.close_all_connections()
        shutdown_local_emulators()
