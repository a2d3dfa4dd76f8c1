"""A task's records built in DuckDB SQL: the export's only path.

Every rule comes from ``records``: the line is the literal template of ``records.line_template``
with the recordId and the JSON-escaped user message spliced in; truncation, the blank rule, the
token estimate and the recordId are the same arithmetic. tests/unit/test_record_sql.py checks
that they equal a row-by-row Python reference (tests/record_oracle.py), adversarial texts included.
"""

from __future__ import annotations

import math

from bedrock_ext.request.records import (
    _BASE62,
    CHARS_PER_TOKEN,
    RECORD_ID_HEX_DIGITS,
    RECORD_ID_LENGTH,
    TEXT_SLOT,
    TRUNCATION_MARK,
    RecordSettings,
    line_template,
    request_fingerprint,
    truncation,
)
from bedrock_ext.request.task import PLACEHOLDER

# What Python's str.strip() removes (str.isspace), in RE2 syntax.
_BLANK_PATTERN = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]*"


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def record_number_sql(key_column: str) -> str:
    """The number a recordId encodes: the key's first 64 bits (null for a null key). A column of
    its own, read by :func:`record_id_sql`: DuckDB evaluates a repeated expression each time, and
    this cast eleven times per key took 0.3 s per 100,000 keys, five times the rest of the id."""
    return f"('0x' || substr({key_column}, 1, {RECORD_ID_HEX_DIGITS}))::UBIGINT"


def record_id_sql(number_column: str) -> str:
    """records.record_id in SQL from :func:`record_number_sql`'s column: its base62 digits, least
    significant first, as list lookups joined by one concat (null for a null number)."""
    alphabet = "[" + ", ".join(literal(c) for c in _BASE62) + "]"
    digits = [f"{alphabet}[(({number_column} // {62**i}) % 62)::INTEGER + 1]" for i in range(RECORD_ID_LENGTH)]
    return f"case when {number_column} is not null then concat({', '.join(digits)}) end"


def _tokens_sql(chars_sql: str) -> str:
    return f"ceil(({chars_sql}) / {CHARS_PER_TOKEN})::BIGINT"


def _fitted_sql(text: str, is_cut: str, settings: RecordSettings) -> str:
    """The text as sent: whole, or its head and tail around the truncation mark when ``is_cut``."""
    t = truncation(settings)
    cut = f"left({text}, {t.head}) || {literal(TRUNCATION_MARK)} || right({text}, {t.tail})"
    return f"case when {is_cut} then {cut} else {text} end"


def _line_sql(record_id: str, fitted: str, settings: RecordSettings, end: str = "") -> str:
    """The JSONL line followed by ``end``: the template's literal parts with the recordId and the
    text spliced in; the text is a JSON string, so the line takes to_json's quotes as its own. One
    concat (a chain of ``||`` copies the line once per operator: 0.07 s more per 100,000 lines);
    concat skips a null, so the caller guards a null recordId."""
    p0, p1, p2 = line_template(settings)
    assert TEXT_SLOT not in p0 + p1 + p2 and p1.endswith('"') and p2.startswith('"')
    json_text = f"to_json({fitted})::VARCHAR"
    return f"concat({literal(p0)}, {record_id}, {literal(p1[:-1])}, {json_text}, {literal(p2[1:] + end)})"


def records_sql(requests_sql: str, settings: RecordSettings) -> str:
    """A query over ``requests_sql`` (columns request_key, input_row_id, input_id,
    input_text, attempt_number) adding record_id, is_truncated, estimated_input_tokens,
    skip_reason (null when sent) and line (the JSONL line, no newline; null when skipped)."""
    t = truncation(settings)
    system_tokens = math.ceil(len(settings.system_prompt) / CHARS_PER_TOKEN)
    reject = settings.overlong_policy == "reject"
    over_context = f"'over_context: about ' || {_tokens_sql('_chars')} || ' tokens'"
    # A cut text's length is known: its head, the mark and its tail (no second count).
    fitted_chars = f"case when _is_cut then {t.head + len(TRUNCATION_MARK) + t.tail} else _chars end"
    tokens = f"{system_tokens} + {_tokens_sql(fitted_chars)}"
    return f"""
with source as (
    select *, coalesce(input_text, '') as _text from ({requests_sql})
),
counted as (
    select *, length(_text) as _chars from source
),
fitted as (
    select *,
        regexp_full_match(_text, {literal(_BLANK_PATTERN)}) as _is_blank,
        _chars > {t.allowed_chars} as _is_cut
    from counted
),
judged as (
    select *,
        case when _is_blank then 'blank_text'
             when _is_cut and {reject} then {over_context}
        end as skip_reason
    from fitted
),
numbered as (
    select *, case when skip_reason is null then {record_number_sql('request_key')} end as _number
    from judged
),
encoded as (
    select *, {record_id_sql('_number')} as record_id from numbered
)
select
    request_key, input_row_id, input_id, attempt_number, skip_reason, record_id,
    coalesce(skip_reason is null and _is_cut, false) as is_truncated,
    case when skip_reason is null
         then {tokens} else 0 end as estimated_input_tokens,
    case when record_id is not null
         then {_line_sql('record_id', _fitted_sql('_text', '_is_cut', settings), settings)} end as line
from encoded
"""


def planned_lines_sql(requests_sql: str, plan: str, settings: RecordSettings) -> str:
    """The JSONL line of every request of ``plan`` (a table of records_sql's columns without the
    line, plus position, job_number and file_number), from its text in ``requests_sql`` and what
    the plan already decided (record_id, is_truncated): the text is encoded once, here. Columns:
    line (records_sql's line and its newline), position, job_number, file_number. A request whose
    text changed since the plan has a new request_key and is not found (the caller checks the
    count)."""
    text = "coalesce(r.input_text, '')"
    return f"""
select {_line_sql('p.record_id', _fitted_sql(text, 'p.is_truncated', settings), settings, end=chr(10))} as line,
    p.position, p.job_number, p.file_number
from ({requests_sql}) r join {plan} p using (request_key)
where p.position is not null"""


def quoted(name: str) -> str:
    """A column or table name (optionally schema.table) as quoted DuckDB identifiers."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def render_sql(template: str, columns: dict[str, str]) -> str:
    """The task's user template over a row, in SQL: literal parts and the placeholders' columns
    (``columns`` maps a placeholder to a SQL expression), concatenated in one pass, so a value
    that contains ``{name}`` stays as it is. Twin of the package's ``render_prompt`` macro."""
    parts, pos = [], 0
    for m in PLACEHOLDER.finditer(template):
        parts += [literal(template[pos:m.start()]), f"coalesce({columns[m.group(1)]}::varchar, '')"]
        pos = m.end()
    parts.append(literal(template[pos:]))
    return "concat(" + ", ".join(parts) + ")"


def table_requests_sql(source: str, settings: RecordSettings, id_column: str = "call_id",
                       text_column: str = "transcript", latest_by: str | None = None,
                       columns: dict[str, str] | None = None) -> str:
    """Requests (first attempts) for the rows of ``source`` (a table name or a table function) that a
    build would request, keyed like int_bedrock_requests and ``records.request_key``: for exports
    and estimates outside dbt (the CLI, tests, benchmarks). The rules are the package's
    ``task_input_rows`` (its twin; tests/dbt/test_estimate_rules.py holds them equal): a row
    without an id, with an id holding a control character, or whose text is not text is not
    requested; of the rows sharing an id, one is (usable rows first, then the latest by
    ``latest_by``, then the greatest text). A placeholder of the task's template reads its column in
    ``columns`` (placeholder -> column), else ``text_column``; blank text gives no message
    (skipped as blank_text by the plan)."""
    ident, text = quoted(id_column), quoted(text_column)
    message = render_sql(settings.task.user, {name: quoted((columns or {}).get(name, text_column))
                                              for name in settings.task.placeholders})
    message = f"case when coalesce(regexp_full_match(_text, {literal(_BLANK_PATTERN)}), true) " \
              f"then null else {message} end"
    latest = f"{quoted(latest_by)} desc nulls last, " if latest_by else ""
    return f"""
select sha256(concat_ws(chr(31), input_id, coalesce(input_text, ''),
       {literal(request_fingerprint(settings))})) as request_key, * from (
    select _id as input_row_id, _id as input_id, {message} as input_text, 1 as attempt_number
    from (
        select *, row_number() over (
            partition by _id order by _problem is not null, {latest}_text desc nulls last) as _rank
        from (
            select *,
                case when _id is null or _id = '' then 'null_id'
                     when regexp_matches(_id, '[\\x00-\\x1f\\x7f]') then 'invalid_id'
                     when not _is_text then 'non_text_value' end as _problem
            from (
                select *, {ident}::varchar as _id,
                    case when typeof({text}) = 'VARCHAR' then {text}::varchar
                         when typeof({text}) = 'JSON' and json_type({text}::json) = 'VARCHAR'
                             then {text}::json ->> '$'
                    end as _text,
                    typeof({text}) in ('VARCHAR', 'JSON') and ({text} is null or typeof({text}) = 'VARCHAR'
                        or json_type({text}::json) in ('VARCHAR', 'NULL')) as _is_text
                from {source}))
    )
    where _rank = 1 and _problem is null)"""
