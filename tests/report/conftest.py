"""A published-marts file with a few hand-made rows (hostile model text included), no dbt needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

HOSTILE_SUMMARY = '<script>alert("x")</script> =HYPERLINK("http://evil.example","click")'


def make_marts(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            create table fct_call_summaries as select * from (values
              ('r1', 'summarized', 'billing', 'billing_dispute', 'negative', 'resolved', ['Refund the fee', 'Call back'],
               'The customer disputed a fee.', null, null, null, 900, 120, 0.0001, 0.0002, 0.0001),
              ('r2', 'summarized', 'retention', 'cancellation', 'neutral', 'escalated', ['=HYPERLINK("x")'],
               '"""
            + HOSTILE_SUMMARY.replace("'", "''")
            + """', null, null, null, 1100, 150, 0.0001, 0.0002, 0.0001),
              ('r3', 'failed', 'billing', null, null, null, null, null, null, 'record_error_400', null, null, null,
               null, null, null),
              ('r4', 'skipped', 'billing', null, null, null, null, null, 'blank_transcript', null, null, null, null,
               null, null, null),
              ('r5', 'pending', 'tech', null, null, null, null, null, null, null,
               'waiting for batch job abcdefabcdef (InProgress)', null, null, null, null, null)
            ) t(transcript_row_id, summary_status, queue_name, intent, sentiment, resolution, action_items, summary,
                skip_reason, failure_code, pending_reason, input_tokens, output_tokens, batch_cost_usd,
                on_demand_cost_usd, billed_cost_usd)"""
        )
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


@pytest.fixture
def marts(tmp_path: Path) -> Path:
    return make_marts(tmp_path / "marts_bi.duckdb")
