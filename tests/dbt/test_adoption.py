"""Outside in: a dbt project that is not ours adopts the package the way the README says
(packages.yml, vars under bedrock_ext, `dbt deps && dbt build`) and runs its own input through it.

Everything here differs from the example project: the project's name, its schema (`analytics`,
not `main`), its input (a DuckDB table in schema `raw`, declared as a source), integer ids, a text
column of another name, its own task (a ticket classifier: an enum, an integer 1-5, a boolean, a
string of at most 400 characters) with its typed result model (incremental, as README's step 5
shows) and pass-through columns, and the dbt CLI in its own process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS
from tests.dbt.tasks_examples import TICKET_TRIAGE, task

ROWS = 200
EMULATOR = {"faults": {"record_error_rate": 0.3, "record_error_codes": [429, 500], "seed": 11},
            "quotas": {"min_records_per_job": 1},
            "timings": FAST_JOBS}
# Incremental, exactly as README's step 5 shows (the package's pattern for a large task model).
TRIAGE_MODEL = """{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key='input_row_id', on_schema_change='sync_all_columns',
          post_hook="{{ bedrock_ext.delete_departed_rows('ticket_triage', 'input_row_id') }}") }}
{{ bedrock_ext.task_results('ticket_triage') }}
"""
TRIAGE_YML = """
version: 2
models:
  - name: ticket_triage
    description: The ticket_triage task's answers, typed from its answer_schema.
    data_tests:
      - bedrock_ext.answers_match_schema:
          arguments:
            task: ticket_triage
    columns:
      - name: input_row_id
        data_tests: [unique, not_null]
      - name: category
        data_tests:
          - accepted_values:
              arguments:
                values: [billing, outage, hardware, account, other]
              config:
                where: "status = 'answered'"
"""


@pytest.fixture
def support_desk(tmp_path: Path) -> foreign.ForeignProject:
    project = foreign.create(
        tmp_path / "support_desk", name="support_desk", schema="analytics",
        package_vars={"s3_bucket": "support-desk-llm", "s3_prefix": "tickets/v1",
                      "min_records_per_job": 1, "max_attempts": 3, "poll_interval_s": 0.05},
        tasks={"ticket_triage": task(TICKET_TRIAGE, input={"source": "helpdesk", "table": "tickets"},
                                     order_by_column="opened_at", passthrough_columns=["priority", "opened_at"])},
        sources=[{"name": "helpdesk", "schema": "raw", "tables": [{"name": "tickets"}]}],
        models={"ticket_triage.sql": TRIAGE_MODEL, "ticket_triage.yml": TRIAGE_YML},
        emulator=EMULATOR)
    project.sql("create schema raw")
    project.sql(
        "create table raw.tickets as select i as ticket_id, "
        "'Ticket ' || i || ': the customer says the router keeps dropping the connection since the '"
        " || 'firmware update and asks for a technician visit' || case when i % 4 = 0 then ' and a refund' "
        "else '' end || '; order NW-' || (1000 + i) || '.' as body, "
        "['low', 'normal', 'high'][1 + i % 3] as priority, "
        "timestamp '2026-03-01' + to_minutes(i) as opened_at from range(?) t(i)", [ROWS])
    return project


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("BEDROCK_EXT_", "DBT_"))}


def _build(project: foreign.ForeignProject) -> str:
    done = project.dbt_cli(["build"], env=_env())
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def test_a_foreign_project_adopts_the_package_retries_and_survives_deleted_rows(
        support_desk: foreign.ForeignProject) -> None:
    project = support_desk
    deps = project.dbt_cli(["deps"], env=_env())
    assert deps.returncode == 0, deps.stdout + deps.stderr

    # Build 1: record errors (30%, all transient) leave retries due.
    _build(project)
    counts = dict(project.query("select status, count(*) from fct_bedrock_results group by all"))
    assert sum(counts.values()) == ROWS and counts.get("pending", 0) > 20, counts
    due = project.query("select count(*) from fct_bedrock_results where is_retry_due")[0][0]
    assert due == counts["pending"]

    # Build 2: the retries are exported again (the previous build's verdicts are read from the
    # analytics schema), and every row is still accounted for.
    _build(project)
    assert project.query(
        "select count(*) from bedrock_batch_input where attempt_number = 2") == [(due,)]
    counts = dict(project.query("select status, count(*) from fct_bedrock_results group by all"))
    assert sum(counts.values()) == ROWS and counts["answered"] > ROWS - due, counts

    # The task's typed result model: its columns typed from the answer schema, the user's columns.
    types = dict(project.query("select column_name, data_type from information_schema.columns "
                               "where table_name = 'ticket_triage'"))
    assert {k: types[k] for k in ("category", "urgency", "needs_refund", "reply_draft", "priority")} == {
        "category": "VARCHAR", "urgency": "BIGINT", "needs_refund": "BOOLEAN", "reply_draft": "VARCHAR",
        "priority": "VARCHAR"}
    (answered, urgencies, longest, refunds, priorities), = project.query(
        "select count(*), count(distinct urgency) filter (where urgency between 1 and 5), max(length(reply_draft)), "
        "count(distinct needs_refund), count(distinct priority) from ticket_triage where status = 'answered'")
    assert answered == counts["answered"] and urgencies >= 2 and longest <= 400 and refunds == 2 and priorities == 3

    # Build 3: 10% of the input is deleted (retention); the build passes and says what happened.
    project.sql("delete from raw.tickets where ticket_id % 10 = 0")
    _build(project)
    assert project.query("select count(*) from fct_bedrock_results") == [(ROWS * 9 // 10,)]
    assert project.query("select count(*) from ticket_triage") == [(ROWS * 9 // 10,)]
    # The incremental typed model followed every build: the same rows, statuses and computed_at.
    assert project.query("select input_row_id, status, computed_at from ticket_triage order by 1") == project.query(
        "select input_row_id, status, computed_at from fct_bedrock_results order by 1")
    gone = project.query(
        "select count(distinct request_key) from bedrock_batch_input where inference_mode = 'batch' and "
        "request_key not in (select request_key from fct_bedrock_results where request_key is not null)")
    assert gone == [(ROWS // 10,)]
    assert project.query("select sum(superseded_record_count) >= 20 from fct_batch_job_costs") == [(True,)]

    # Everything lives in the project's schema, and no __dbt_tmp table is left behind.
    schemas = dict(project.query(
        "select table_schema, count(*) from information_schema.tables group by all"))
    assert set(schemas) == {"raw", "analytics"}, schemas
    assert project.query("select count(*) from information_schema.tables "
                         "where table_name like '%__dbt_tmp%'") == [(0,)]
