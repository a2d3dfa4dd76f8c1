-- The duplicate rule picks exactly one row per call id; any call id returned here breaks it.
select call_id, count(*) filter (where is_latest_for_call_id) as latest_rows
from {{ ref('stg_call_center__transcripts') }}
group by call_id
having count(*) filter (where is_latest_for_call_id) <> 1
