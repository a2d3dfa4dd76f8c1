"""The judge's requests: the previous build's answered evaluation rows, each candidate's answer
(the fields the judge reads) with the request it answered, as the user message of ``<task>:judge``.

A judge reads answers, so it is sent in the build after they arrive; an answer judged once is
never judged again (its request key hashes the candidate, the row, the judged text and the judge's
settings), and a new answer (an edited candidate) is judged anew.
"""

from __future__ import annotations

from bedrock_ext.request.evaluation import Evaluation, split_task_name
from bedrock_ext.request.record_sql import literal
from bedrock_ext.request.records import RecordSettings, request_fingerprint


def judge_requests_sql(evaluated: str, exported: str | None, records: RecordSettings,
                       evaluation: Evaluation) -> str:
    """The judge's requests not exported yet, with the columns SqlExport reads."""
    task = split_task_name(records.task.name)[0]
    assert evaluation.judge is not None
    fields = ", ".join(f"{literal(f)}, e.answer::json -> {literal('$.' + f)}" for f in evaluation.judge.fields)
    judged = (f"'The request:' || chr(10) || coalesce(e.request_text, '') || chr(10) || chr(10) || "
              f"'The answer to grade:' || chr(10) || json_object({fields})::varchar")
    rows = (f"select e.candidate_name || '/' || e.input_row_id as input_row_id, e.input_id, "
            f"{judged} as input_text from {evaluated} e "
            f"where e.task_name = {literal(task)} and e.status = 'answered'")
    fingerprint = literal(request_fingerprint(records))
    keyed = (f"select sha256(concat_ws(chr(31), input_row_id, input_text, {fingerprint})) as request_key, "
             f"input_row_id, input_id, input_text, 1 as attempt_number from ({rows})")
    if exported is None:
        return keyed
    return f"select * from ({keyed}) j anti join {exported} x using (request_key)"
