-- Every source row is exactly one of summarized / failed / pending / skipped, with what that
-- status needs. Rows returned here break the accounting invariant.
with source_rows as (
    select transcript_row_id from {{ ref('stg_call_center__transcripts') }}
),
summaries as (
    select * from {{ ref('fct_call_summaries') }}
)
select coalesce(s.transcript_row_id, r.transcript_row_id) as transcript_row_id, 'missing or extra row' as problem
from source_rows r
full outer join summaries s on r.transcript_row_id = s.transcript_row_id
where r.transcript_row_id is null or s.transcript_row_id is null
union all
select transcript_row_id, 'status without its detail: ' || summary_status
from summaries
where (summary_status = 'summarized' and (summary is null or intent is null))
   or (summary_status = 'failed' and (failure_code is null or failure_message is null))
   or (summary_status = 'pending' and pending_reason is null)
   or (summary_status = 'skipped' and skip_reason is null)
