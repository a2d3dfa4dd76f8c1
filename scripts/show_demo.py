"""Print what `make demo` built: summaries, job costs and the accounting of every transcript."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DATABASE = Path("target/call_summaries.duckdb")  # relative to PROJECT_DIR, as the views' paths are

EXCERPTS = (
    (
        "fct_call_summaries (excerpt)",
        "select call_id, intent, sentiment, resolution, left(summary, 90) || '...' as summary,"
        " len(action_items) as n_actions from fct_call_summaries"
        " where summary_status = 'summarized' order by call_id like 'ADV-%', call_id limit 8",
    ),
    (
        "every transcript accounted for",
        "select summary_status, coalesce(skip_reason, failure_code, pending_reason, '') as detail,"
        " count(*) as transcripts from fct_call_summaries group by all order by all",
    ),
    (
        "fct_batch_job_costs (totals)",
        "select count(*) as jobs, sum(processed_record_count) as records,"
        " sum(input_token_count) as input_tokens, sum(output_token_count) as output_tokens,"
        " round(sum(batch_cost_usd), 4) as batch_cost_usd,"
        " round(sum(on_demand_cost_usd), 4) as on_demand_cost_usd,"
        " round(sum(savings_usd), 4) as savings_usd from fct_batch_job_costs",
    ),
    ("who ran the jobs",
     "select distinct regexp_replace(endpoint, ':[0-9]+', '') as endpoint from dim_batch_jobs"),
    (
        "which candidate (fct_bedrock_evaluation_candidates: the task's evaluation, on a sample)",
        "select candidate_name as candidate, model_id, answered_rows || '/' || sample_rows as answered,"
        " round(mean_category_agreement, 3) as agreement, round(mean_category_accuracy, 3) as accuracy,"
        " round(mean_category_macro_f1, 3) as macro_f1, round(mean_judge_score, 2) as judge_1_to_5,"
        " round(input_tokens_per_row) as in_tokens,"
        " round(cost_per_1000_rows_usd, 4) as usd_per_1000_rows,"
        " round(projected_batch_cost_usd, 4) as projected_usd from fct_bedrock_evaluation_candidates"
        " order by candidate_name <> 'reference', candidate_name",
    ),
)


def main() -> int:
    os.chdir(PROJECT_DIR)
    if not DATABASE.exists():
        print(f"no database at {PROJECT_DIR / DATABASE}: run `make demo` first", file=sys.stderr)
        return 1
    with duckdb.connect(str(DATABASE), read_only=True) as con:
        local = con.execute("select bool_or(is_local_emulator) from dim_batch_jobs").fetchone()[0]
        for title, sql in EXCERPTS:
            print(f"\n== {title}")
            con.sql(sql).show(max_width=180)
    if local:
        print("\nNOTE: these summaries come from the LOCAL EMULATOR, a keyword heuristic, not an LLM; "
              "costs are what the same tokens would cost on Amazon Bedrock. Use the aws target for real "
              "summaries (README, 'Targets'). The candidates' scores measure the pipeline, not the models: "
              "the emulator answers every model alike, then changes a share of fields per model_fidelity "
              "(profiles.yml).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
