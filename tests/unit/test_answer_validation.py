"""int_bedrock_answers validates each answer against its task's answer_schema, in SQL generated
from the declaration (the package's model and macros, run on DuckDB): every kind of invalid
answer gets its reason, a valid one gets none, and the raw text is never lost."""

from __future__ import annotations

import json

import duckdb

from tests.dbt.tasks_examples import TICKET_LANGUAGE, TICKET_TRIAGE
from tests.sql import package_sql
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
    con.execute("create table outputs (output_line_id varchar, output_group_id varchar, batch_job_id varchar, "
                "record_id varchar, "
                "inference_mode varchar, answer_text varchar, response_model varchar, stop_reason varchar, "
                "error_code varchar, error_message varchar, input_tokens bigint, output_tokens bigint, "
                "max_tokens integer, temperature double, top_p double, top_k integer, is_error boolean, "
                "is_error_retryable boolean, is_malformed boolean, output_file_uri varchar, "
                "loaded_at timestamptz)")
    con.execute("create table exports (record_id varchar, task_name varchar)")
    for rid, (text, _) in cases.items():
        stop = "max_tokens" if rid == cut else "end_turn"
        con.execute("insert into outputs values (?, 'j', 'j', ?, 'batch', ?, null, ?, null, null, 1, 1, 10, 0, null, "
                    "null, false, false, false, 's3://b/o/j/f.jsonl.out', now())", [f"line-{rid}", rid, text, stop])
        con.execute("insert into exports values (?, ?)", [rid, task])
    tasks = {"ticket_triage": TICKET_TRIAGE, "ticket_language": TICKET_LANGUAGE}
    sql = render_model("intermediate/int_bedrock_answers.sql", tasks,
                       {"stg_bedrock__batch_outputs": "outputs", "bedrock_batch_input": "exports"})
    con.execute(f"create table verdicts as {sql}")
    # The readers' view: the verdict with the answer taken from the staging's text.
    env, context = package_sql.environment(tasks, {"int_bedrock_answers": "verdicts",
                                                   "stg_bedrock__batch_outputs": "outputs"})
    answers = env.from_string("{{ bedrock_ext.answers_with_text() }}").render(**context)
    return {r[0]: r[1:] for r in con.execute(
        f"select record_id, parse_error, is_answered, answer_text, answer from ({answers})").fetchall()}


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


# Every keyword a task may use (bedrock_ext.request.task), optional properties among them.
KITCHEN = {
    "type": "object", "additionalProperties": False, "required": ["label", "score", "tags"],
    "properties": {
        "label": {"type": "string", "enum": ["yes", "no", "a b", "ça"], "minLength": 1},
        "note": {"type": "string", "minLength": 3, "maxLength": 8},
        "score": {"type": "integer", "minimum": 1, "maximum": 5, "enum": [1, 2, 3, 5]},
        "count": {"type": "integer"},
        "comment": {"type": "string"},
        "ratio": {"type": "number", "minimum": -1.5, "maximum": 2},
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3, "minItems": 1},
        "codes": {"type": "array", "items": {"type": "string", "enum": ["x", "y z"]}},
        "words": {"type": "array", "items": {"type": "string", "minLength": 2}},
        "counts": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "levels": {"type": "array", "items": {"type": "number"}},
        "bits": {"type": "array", "items": {"type": "boolean"}},
    },
}
KITCHEN_VALID = {"label": "yes", "score": 3, "tags": ["a"]}
KITCHEN_VALUES = {  # each property's values: some valid, some not, some only the exact checks can clear
    "label": ["yes", "no", "a b", "ça", "maybe", "", 1, None, ["yes"], "y\u0065s"],
    "note": ["a\n", "\"b", "abc", "abcdefgh", "ab", "abcdefghi", "a\"c", "a\\nb", "ééé", 3, None, "\u00e9\u00e9\u00e9\u00e9"],
    "score": [1, 5, 4, 0, 6, 3.0, "3", True, None, 2e0, -0, 10**20],
    "comment": ["x", "", 1, True, [1], {"a": 1}, None],
    "count": [1, -3, 1.5, 2.0, 1e2, "1", 10**19, None],
    "ratio": [0, -1.5, 2, 2.5, -2, 1e-3, "1", None, 1e300, -0.0],
    "flag": [True, False, "true", 0, None],
    "tags": [["a"], [], ["abcd", "b", "c"], ["abcde"], ["a", "b", "c", "d"], [1], ["a\"b"], ["\u00e9\u00e9"], "a",
             [None], [["a"]], ["a\\b"]],
    "codes": [["x"], ["y z", "x"], ["z"], [], [1], "x", ["x", None]],
    "words": [["ab"], ["a"], [], ["a\nb"], ["abc", "d"]],
    "counts": [[0, 1], [-1], [], [1.5], ["1"]],
    "levels": [[1, 2.5, -3e10], [], ["1"], [True], [1e400 if False else 1e300]],
    "bits": [[True, False], [], [1], ["true"], [None]],
}


def _kitchen_answers() -> list[str]:
    answers = [json.dumps(KITCHEN_VALID)]
    for key, values in KITCHEN_VALUES.items():
        for value in values:
            answers.append(json.dumps({**KITCHEN_VALID, key: value}))
            answers.append(json.dumps({**KITCHEN_VALID, key: value}, ensure_ascii=False, indent=1))
    answers += [json.dumps({k: v for k, v in KITCHEN_VALID.items() if k != "tags"}), '{"label":"yes","label":"yes",'
                '"score":3,"tags":["a"]}', json.dumps({**KITCHEN_VALID, "other": 1}), "[]", "{}", "null", '"yes"',
                '{"label":"yes","score":3,"tags":["a"],"note":null}', '{"label":"yes","score":3,"tags":null}',
                '{"label":"y\\u0065s","score":3,"tags":["a"]}', '{"label":"yes","score":3,"tags":["a"],"ratio":1E400}']
    return answers


def _kitchen(answers: list[str]) -> list[tuple[str, bool, str | None]]:
    """(answer, answer_passes, answer_errors) of each answer that is JSON, for the KITCHEN task."""
    tasks = {"kitchen": {"id_column": "id", "prompt": {"system": "s", "user": "{body}"}, "answer_schema": KITCHEN}}
    env, context = package_sql.environment(tasks, {})
    quick = env.from_string("{{ bedrock_ext.answer_passes('kitchen', bedrock_ext.answer_map('j')) }}").render(**context)
    exact = env.from_string("{{ bedrock_ext.answer_errors('kitchen', bedrock_ext.answer_facts('kitchen', 'j')) }}"
                            ).render(**context)
    con = duckdb.connect()
    con.execute("create table a (n integer, text varchar)")
    con.executemany("insert into a values (?, ?)", list(enumerate(answers)))
    return con.execute(f"select text, {quick}, {exact} from (select n, text, try_cast(text as json) as j from a) "
                       "where j is not null order by n").fetchall()


def test_the_quick_test_clears_only_answers_the_exact_checks_accept() -> None:
    """answer_passes (one parse, for most rows) never calls valid what answer_errors rejects, on
    answers built to probe each keyword's edges; and the two agree on most of them (the quick test
    is worth its parse)."""
    rows = _kitchen(_kitchen_answers())
    wrongly_cleared = [(text, error) for text, passes, error in rows if passes and error is not None]
    assert wrongly_cleared == []
    cleared = sum(1 for _, passes, _ in rows if passes)
    valid = sum(1 for *_, error in rows if error is None)
    assert len(rows) > 150 and valid > 50 and cleared >= 0.8 * valid, (len(rows), valid, cleared)


def test_every_bound_on_array_items_is_checked() -> None:
    cases = {"tags": ([], "tags has fewer than 1 items"), "words": (["abc", "d"], "words has items shorter than 2 "
             "characters"), "counts": ([3, -1], "counts has items below its minimum 0"),
             "codes": (["x", "q"], "codes has items that are not accepted values")}
    rows = _kitchen([json.dumps({**KITCHEN_VALID, key: value}) for key, (value, _) in cases.items()])
    assert [error for *_, error in rows] == [want for _, want in cases.values()]
