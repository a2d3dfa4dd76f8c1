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


def record_id_sql(key_column: str) -> str:
    """records.record_id in SQL: base62 digits of the key's first 64 bits, least significant first."""
    n = f"('0x' || substr({key_column}, 1, {RECORD_ID_HEX_DIGITS}))::UBIGINT"
    digits = [f"substr({literal(_BASE62)}, (({n} // {62**i}) % 62)::INTEGER + 1, 1)"
              for i in range(RECORD_ID_LENGTH)]
    return " || ".join(digits)


def _tokens_sql(chars_sql: str) -> str:
    return f"ceil(({chars_sql}) / {CHARS_PER_TOKEN})::BIGINT"


def records_sql(requests_sql: str, settings: RecordSettings) -> str:
    """A query over ``requests_sql`` (columns request_key, input_row_id, input_id,
    input_text, attempt_number) adding record_id, is_truncated, estimated_input_tokens,
    skip_reason (null when sent), line (the JSONL line, no newline) and line_bytes (its UTF-8
    size with the newline, computed without building the line)."""
    t = truncation(settings)
    p0, p1, p2 = line_template(settings)
    system_tokens = math.ceil(len(settings.system_prompt) / CHARS_PER_TOKEN)
    reject = settings.overlong_policy == "reject"
    over_context = f"'over_context: about ' || {_tokens_sql('length(_text)')} || ' tokens'"
    tokens = f"{system_tokens} + {_tokens_sql('length(_fitted)')}"
    # The text is a JSON string: the line takes to_json's quotes as its own.
    assert TEXT_SLOT not in p0 + p1 + p2 and p1.endswith('"') and p2.startswith('"')
    fixed_bytes = len((p0 + p1 + p2).encode()) + RECORD_ID_LENGTH + 1  # + the newline
    return f"""
with source as (
    select *, coalesce(input_text, '') as _text from ({requests_sql})
),
fitted as (
    select *,
        regexp_full_match(_text, {literal(_BLANK_PATTERN)}) as _is_blank,
        length(_text) > {t.allowed_chars} as _is_cut,
        case when length(_text) <= {t.allowed_chars} then _text
             else left(_text, {t.head}) || {literal(TRUNCATION_MARK)} || right(_text, {t.tail}) end as _fitted
    from source
),
judged as (
    select *,
        case when _is_blank then 'blank_text'
             when _is_cut and {reject} then {over_context}
        end as skip_reason
    from fitted
),
encoded as (
    select *,
        case when skip_reason is null then {record_id_sql('request_key')} end as record_id,
        case when skip_reason is null then to_json(_fitted)::VARCHAR end as _json_text
    from judged
)
select
    request_key, input_row_id, input_id, attempt_number, skip_reason, record_id,
    coalesce(skip_reason is null and _is_cut, false) as is_truncated,
    case when skip_reason is null
         then {tokens} else 0 end as estimated_input_tokens,
    {literal(p0)} || record_id || {literal(p1[:-1])} || _json_text || {literal(p2[1:])} as line,
    {fixed_bytes} + strlen(_json_text) - 2 as line_bytes
from encoded
"""


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
