-- Per job, the records' own token usage adds up to the manifest's totals. Jobs with malformed
-- output lines are excluded: those lines' usage cannot be read (their tokens are in the manifest).
select batch_job_id, input_token_count, record_input_tokens, output_token_count, record_output_tokens
from {{ ref('fct_batch_job_costs') }}
where has_manifest
  and malformed_line_count = 0
  and (input_token_count <> record_input_tokens or output_token_count <> record_output_tokens)
