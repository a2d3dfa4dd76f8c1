-- Every input row is exactly one of answered / failed / pending / skipped, with what that status
-- needs. Rows returned here break the accounting invariant.
with input_rows as (
    select task_name || '/' || input_row_id as input_row_id from {{ ref('stg_bedrock_ext__input_rows') }}
),
-- The tasks' rows are in fct_bedrock_results, their evaluation candidates' in fct_bedrock_candidate_results.
results as (
    select * replace (task_name || '/' || input_row_id as input_row_id) from {{ ref('fct_bedrock_results') }}
    union all by name
    select * exclude (base_task_name, candidate_name) replace (task_name || '/' || input_row_id as input_row_id)
    from {{ ref('fct_bedrock_candidate_results') }}
)
select coalesce(r.input_row_id, i.input_row_id) as input_row_id, 'missing or extra row' as problem
from input_rows i
full outer join results r on i.input_row_id = r.input_row_id
where i.input_row_id is null or r.input_row_id is null
union all
select input_row_id, 'status without its detail: ' || status
from results
where (status = 'answered' and answer is null)
   or (status = 'failed' and (failure_code is null or failure_message is null))
   or (status = 'pending' and pending_reason is null)
   or (status = 'skipped' and skip_reason is null)
