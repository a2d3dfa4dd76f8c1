"""The expected cost beside the upper bound (issue 15): after one build, the expected figure for
the next build's new rows comes from the realized tokens of the same task and model, and lands
within 15% of what those rows really cost on the emulator; the budget guard's basis is a setting."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from bedrock_ext.transcripts.generator import generate_chunk
from tests.dbt.conftest import DbtProject, assert_all_passed, statuses, write_transcripts

FAST = {"poll_interval_s": 0.05}
EXPECTED_VS_REALIZED = """
select
    sum((e.expected_input_tokens * p.batch_input_usd_per_million
         + e.expected_output_tokens * p.batch_output_usd_per_million) / 1e6) as expected_usd,
    sum(f.batch_cost_usd) as realized_usd,
    sum((e.estimated_input_tokens * p.batch_input_usd_per_million
         + {max_tokens} * p.batch_output_usd_per_million) / 1e6) as upper_bound_usd
from bedrock_batch_input e
join fct_call_summaries f using (request_key)
join dim_bedrock_models p on p.model_id = e.model_id
where e.job_key = ?
"""


def test_the_expected_cost_is_within_15_percent_after_one_build(dbt_project: DbtProject) -> None:
    data = write_transcripts(dbt_project, rows=300)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    new = generate_chunk(seed=9, chunk_index=0, first_row=300, n=300)
    base = pq.read_table(data)
    pq.write_table(pa.concat_tables([base, new.select(base.column_names).cast(base.schema)]), data)
    assert_all_passed(dbt_project.dbt(["build"], **FAST))
    (second_job,), = dbt_project.query("select job_key from bedrock_batch_input group by job_key "
                                       "order by min(exported_at) desc limit 1")
    expected, realized, bound = dbt_project.query(EXPECTED_VS_REALIZED.format(max_tokens=512), [second_job])[0]
    assert abs(expected / realized - 1) <= 0.15, (expected, realized)
    assert bound > 1.5 * realized  # the upper bound alone would overstate it (every record at max_tokens)


def test_the_budget_guard_can_use_the_expected_cost(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=200)
    # Between the expected cost (~$0.04 before history: max_tokens / 2) and the upper bound (~$0.12).
    refused = dbt_project.dbt(["build"], bedrock_budget_usd=0.07, **FAST)
    assert statuses(refused)["bedrock_batch_input"] == "error"
    message = next(str(r.message) for r in refused.result if r.node.name == "bedrock_batch_input")
    assert "the upper bound" in message and "expected batch $" in message
    assert_all_passed(dbt_project.dbt(["build"], bedrock_budget_usd=0.07, budget_basis="expected", **FAST))
