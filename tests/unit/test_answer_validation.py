"""int_bedrock_answers validates each answer against its task's answer_schema, in SQL generated
from the declaration (the package's model and macros, run on DuckDB): every kind of invalid
answer gets its reason, a valid one gets none, and the raw text is never lost."""

from __future__ import annotations

import json

import duckdb

from tests.dbt.tasks_examples import TICKET_LANGUAGE, TICKET_TRIAGE
from tests.sql.package_sql import render_model

VALID = {"category": "billing", "urgency": 3, "needs_refund": True, "reply_draft": "We are on it."}
CASES = {
    "ok": (json.dumps(VALID), None),
    "prose": ("Sure! " + json.dumps(VALID) + " Anything else?", None),
    "extra": (json.dumps({**VALID, "confidence": "high"}), "unknown key(s): confidence"),
    "enum": (json.dumps({**VALID, "category": "weather"}), "category is not one of the accepted values: weather"),
    "type": (json.dumps({**VALID, "urgency": "3"}), "urgency is not integer: VARCHAR"),
    "bool": (json.dumps({**VALID, "needs_refund": "yes"}), "needs_refund is not boolean: VARCHAR"),
    "range": (json.dumps({**VALID, "urgency": 9}), "urgency is above its maximum 5: 9"),
    "long": (json.dumps({**VALID, "reply_draft": "x" * 401}), "reply_draft is longer than 400 characters: 401"),
    "missing": (json.dumps({k: v for k, v in VALID.items() if k != "urgency"}), "urgency is missing"),
    "array": ("[1, 2]", "answer is not a JSON object"),
    "text": ("I cannot help with that.", "answer is not a JSON object"),
    # A repeated key: the typed column would read the first value, Python's json the last (issue 27).
    "dup_enum": ('{"category":"billing","category":"EVIL_NOT_IN_ENUM","urgency":3,"needs_refund":true,'
                 '"reply_draft":"ok"}', "duplicate key(s): category"),
    "dup_object": ('{"category":"billing","urgency":3,"needs_refund":true,"reply_draft":"ok",'
                   '"reply_draft":{"text":"smuggled"}}', "duplicate key(s): reply_draft"),
}
LANGUAGE = {
    "items": (json.dumps({"tone": "calm", "mentions_competitor": False, "keywords": ["a", 2]}),
              "keywords has items that are not string"),
    "items_long": (json.dumps({"tone": "calm", "mentions_competitor": False, "keywords": ["y" * 41]}),
                   "keywords has items longer than 40 characters"),
    "items_many": (json.dumps({"tone": "calm", "mentions_competitor": False, "keywords": ["a", "b", "c", "d"]}),
                   "keywords has more than 3 items"),
    "language_ok": (json.dumps({"tone": "angry", "mentions_competitor": True, "keywords": ["refund"]}), None),
}


def _validate(cases: dict[str, tuple[str, str | None]], task: str, cut: str | None = None) -> dict[str, tuple]:
    con = duckdb.connect()
    con.execute("create table outputs (output_group_id varchar, batch_job_id varchar, record_id varchar, "
                "inference_mode varchar, answer_text varchar, response_model varchar, stop_reason varchar, "
                "error_code varchar, error_message varchar, input_tokens bigint, output_tokens bigint, "
                "max_tokens integer, temperature double, top_p double, top_k integer, is_error boolean, "
                "is_error_retryable boolean, is_malformed boolean, output_file_uri varchar, "
                "loaded_at timestamptz)")
    con.execute("create table exports (record_id varchar, task_name varchar)")
    for rid, (text, _) in cases.items():
        stop = "max_tokens" if rid == cut else "end_turn"
        con.execute("insert into outputs values ('j', 'j', ?, 'batch', ?, null, ?, null, null, 1, 1, 10, 0, null, "
                    "null, false, false, false, 's3://b/o/j/f.jsonl.out', now())", [rid, text, stop])
        con.execute("insert into exports values (?, ?)", [rid, task])
    sql = render_model("intermediate/int_bedrock_answers.sql",
                       {"ticket_triage": TICKET_TRIAGE, "ticket_language": TICKET_LANGUAGE},
                       {"stg_bedrock__batch_outputs": "outputs", "bedrock_batch_input": "exports"})
    return {r[0]: r[1:] for r in con.execute(
        f"select record_id, parse_error, is_answered, answer_text, answer from ({sql})").fetchall()}


def test_every_kind_of_invalid_answer_gets_its_reason() -> None:
    got = _validate(CASES, "ticket_triage")
    assert {rid: error for rid, (error, *_) in got.items()} == {rid: want for rid, (_, want) in CASES.items()}
    assert got["ok"][1] and got["prose"][1] and not got["extra"][1]
    assert json.loads(got["prose"][3]) == VALID  # the object inside the prose is the answer
    # The raw text is kept where no valid answer was found; a valid answer is kept once, as answer.
    assert all(row[2] == (None if row[1] else CASES[rid][0]) for rid, row in got.items())


def test_array_items_are_checked() -> None:
    got = _validate(LANGUAGE, "ticket_language")
    assert {rid: error for rid, (error, *_) in got.items()} == {rid: want for rid, (_, want) in LANGUAGE.items()}


def test_a_cut_answer_says_so() -> None:
    got = _validate({"cut": ('{"category": "bill', "x")}, "ticket_triage", cut="cut")
    assert got["cut"][0] == "answer is not a JSON object (cut at max_tokens)"
