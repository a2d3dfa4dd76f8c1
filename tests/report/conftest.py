"""Files with the package's marts and a few hand-made rows (hostile model text included), no dbt
needed: the example's call_summaries task (read from the example project's yml) and, for the
outside-in checks, any other task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HOSTILE_SUMMARY = '<script>alert("x")</script> =HYPERLINK("http://evil.example","click")'


def example_task() -> dict[str, Any]:
    """The call_summaries task as the example project declares it (its one definition)."""
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    return project["vars"]["bedrock_ext_tasks"]["call_summaries"]


def _answer(**values: Any) -> str:
    return json.dumps(values)


CALL_ROWS = [  # input_row_id, status, answer, skip, failure, pending, tokens in/out, costs (batch, on-demand, billed)
    ("r1", "answered", _answer(summary="The customer disputed a fee.", intent="billing_dispute",
                               sentiment="negative", resolution="resolved",
                               action_items=["Refund the fee", "Call back"]), None, None, None, 900, 120),
    ("r2", "answered", _answer(summary=HOSTILE_SUMMARY, intent="cancellation", sentiment="neutral",
                               resolution="escalated", action_items=['=HYPERLINK("x")']), None, None, None, 1100, 150),
    ("r3", "failed", None, None, "record_error_400", None, None, None),
    ("r4", "skipped", None, "blank_text", None, None, None, None),
    ("r5", "pending", None, None, None, "waiting for batch job abcdefabcdef (InProgress)", None, None),
]
QUEUES = {"r1": "billing", "r2": "retention", "r3": "billing", "r4": "billing", "r5": "tech"}


def write_marts(path: Path, tasks: dict[str, dict[str, Any]], rows: dict[str, list[tuple]],
                typed: dict[str, str] | None = None) -> Path:
    """The package's marts for ``tasks`` with ``rows`` per task, and optional typed models (SQL)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create table dim_bedrock_tasks (task_name varchar, prompt_version varchar, model_id varchar, "
                    "results_model varchar, answer_schema json, report json, passthrough_columns json)")
        for name, spec in tasks.items():
            con.execute("insert into dim_bedrock_tasks values (?, 'v1', 'anthropic.claude-3-haiku-20240307-v1:0', "
                        "?, ?, ?, '[]')", [name, spec.get("results_model"), json.dumps(spec["answer_schema"]),
                                           json.dumps(spec.get("report") or {})])
        con.execute("create table fct_bedrock_results (task_name varchar, input_row_id varchar, status varchar, "
                    "answer json, skip_reason varchar, failure_code varchar, pending_reason varchar, "
                    "input_tokens bigint, output_tokens bigint, batch_cost_usd double, on_demand_cost_usd double, "
                    "billed_cost_usd double)")
        for name, task_rows in rows.items():
            for r in task_rows:
                cost = (r[6] or 0) * 1e-7 if r[6] else None
                con.execute("insert into fct_bedrock_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [name, *r, cost, cost and cost * 2, cost])
        for sql in (typed or {}).values():
            con.execute(sql)
        con.execute("""
            create table dim_batch_jobs as select * from (values
              ('abcdefabcdef', 'bedrock-ext-0123', 'Completed', timestamptz '2026-11-26 10:00:00+00',
               timestamptz '2026-11-26 10:20:00+00', 2, true),
              ('bcdefabcdefa', 'bedrock-ext-4567', 'InProgress', timestamptz '2026-11-26 10:05:00+00', null, 0, true)
            ) t(batch_job_id, job_name, job_status, submitted_at, ended_at, processed_record_count,
                is_local_emulator)""")
        con.execute("""
            create table fct_batch_job_costs as select * from (values
              ('abcdefabcdef', 2000, 270, 0.0004, 0.0008, 0.0004)
            ) t(batch_job_id, input_token_count, output_token_count, batch_cost_usd, on_demand_cost_usd,
                savings_usd)""")
    return path


def make_marts(path: Path) -> Path:
    queues = ", ".join(f"('{k}', '{q}')" for k, q in QUEUES.items())
    typed = {"fct_call_summaries": f"create table fct_call_summaries as select * from (values {queues}) "
                                   "t(transcript_row_id, queue_name)"}
    return write_marts(path, {"call_summaries": example_task()}, {"call_summaries": CALL_ROWS}, typed)


@pytest.fixture
def marts(tmp_path: Path) -> Path:
    return make_marts(tmp_path / "marts_bi.duckdb")
