"""Outside in: a dbt project that is not ours adopts the package the way the README says
(packages.yml, vars under bedrock_ext, `dbt deps && dbt build`) and runs its own input through it.

Everything here differs from the example project: the project's name, its schema (`analytics`,
not `main`), its input (a DuckDB table in schema `raw`, declared as a source), integer ids, a text
column of another name, its own pass-through columns, and the dbt CLI in its own process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dbt import foreign

ROWS = 200
EMULATOR = {"faults": {"record_error_rate": 0.3, "record_error_codes": [429, 500], "seed": 11},
            "quotas": {"min_records_per_job": 1},
            "timings": {"submitted_s": 0.02, "validating_s": 0.02, "scheduled_s": 0.02, "in_progress_s": 0.2}}
TICKETS_MODEL = """
select
    input_id::integer as ticket_id,
    status,
    summary,
    priority,
    opened_at,
    billed_cost_usd
from {{ ref('fct_bedrock_results') }}
"""


@pytest.fixture
def support_desk(tmp_path: Path) -> foreign.ForeignProject:
    project = foreign.create(
        tmp_path / "support_desk", name="support_desk", schema="analytics",
        package_vars={
            "input": {"source": "helpdesk", "table": "tickets"},
            "id_column": "ticket_id", "text_column": "body", "order_by_column": "opened_at",
            "passthrough_columns": ["priority", "opened_at"],
            "task_name": "ticket_summaries", "s3_bucket": "support-desk-llm", "s3_prefix": "tickets/v1",
            "min_records_per_job": 1, "max_attempts": 3, "poll_interval_s": 0.05},
        sources=[{"name": "helpdesk", "schema": "raw", "tables": [{"name": "tickets"}]}],
        models={"ticket_summaries.sql": TICKETS_MODEL},
        emulator=EMULATOR)
    project.sql("create schema raw")
    project.sql(
        "create table raw.tickets as select i as ticket_id, "
        "'Ticket ' || i || ': the customer says the router keeps dropping the connection since the '"
        " || 'firmware update and asks for a technician visit; order NW-' || (1000 + i) || '.' as body, "
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

    # The user's own columns and their own model over the package's results.
    assert project.query("select count(*), count(distinct priority), min(opened_at) is not null "
                         "from ticket_summaries where status = 'answered'")[0][1:] == (3, True)

    # Build 3: 10% of the input is deleted (retention); the build passes and says what happened.
    project.sql("delete from raw.tickets where ticket_id % 10 = 0")
    _build(project)
    assert project.query("select count(*) from fct_bedrock_results") == [(ROWS * 9 // 10,)]
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
