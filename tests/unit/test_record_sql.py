"""record_sql builds in DuckDB exactly the records that records.prepare builds in Python."""

from __future__ import annotations

import json

import duckdb
import pytest

from bedrock_ext.request.record_sql import (
    planned_lines_sql,
    record_id_sql,
    record_number_sql,
    records_sql,
    table_requests_sql,
)
from bedrock_ext.request.records import (
    PreparedRecord,
    RecordSettings,
    record_id,
    request_fingerprint,
    request_key,
)
from bedrock_ext.transcripts.adversarial import ADVERSARIAL_TEXTS
from tests.example import EXAMPLE_TASK
from tests.record_oracle import prepare_row, render_row

MODELS = ["anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-1-8b-instruct-v1:0"]
COLUMNS = "request_key, record_id, is_truncated, estimated_input_tokens, skip_reason, line"


def _sql_records(settings: RecordSettings, rows: list[tuple[str, str | None]]) -> dict[str, tuple]:
    con = duckdb.connect()
    con.execute("create table t (call_id varchar, transcript varchar)")
    con.executemany("insert into t values (?, ?)", rows)
    sql = records_sql(table_requests_sql("t", settings), settings)
    return {r[0]: r for r in con.execute(f"select {COLUMNS} from ({sql})").fetchall()}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("policy", ["truncate", "reject"])
def test_sql_records_equal_python_records_on_adversarial_text(model: str, policy: str) -> None:
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=model, overlong_policy=policy)  # type: ignore[arg-type]
    rows = [(f"{kind}-{i}", text) for i, (kind, text) in enumerate(ADVERSARIAL_TEXTS)]
    got = _sql_records(settings, rows)
    assert len(got) == len(rows)
    kinds = set()
    for call_id, text in rows:
        expected = prepare_row(call_id, text, settings)
        key, rid, cut, tokens, reason, line = got[request_key(call_id, render_row(settings, text) or "", request_fingerprint(settings))]
        if isinstance(expected, PreparedRecord):
            assert reason is None
            assert (rid, cut, tokens) == (expected.record_id, expected.is_truncated, expected.estimated_input_tokens)
            assert json.loads(line) == json.loads(expected.line)
            assert "\n" not in line
            kinds.add("truncated" if cut else "sent")
        else:
            assert (reason, rid, line) == (expected.reason, None, None)
            kinds.add(reason.split(":")[0])
    assert {"sent", "blank_text"} <= kinds
    assert ("over_context" if policy == "reject" else "truncated") in kinds


def test_record_id_in_sql_equals_python() -> None:
    keys = [request_key(f"C{i}", "t", "fp") for i in range(2_000)] + ["f" * 64, "0" * 64]
    con = duckdb.connect()
    con.execute("create table k (request_key varchar)")
    con.executemany("insert into k values (?)", [(k,) for k in keys])
    got = dict(con.execute(f"select request_key, {record_id_sql('n')} "
                           f"from (select *, {record_number_sql('request_key')} as n from k)").fetchall())
    assert got == {k: record_id(k) for k in keys}


def test_request_key_in_sql_equals_python() -> None:
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=MODELS[0])
    got = _sql_records(settings, [("C1", "héllo \x00 \"x\""), ("C2", None)])
    fp = request_fingerprint(settings)
    message = render_row(settings, "héllo \x00 \"x\"") or ""
    assert set(got) == {request_key("C1", message, fp), request_key("C2", "", fp)}


@pytest.mark.parametrize("model", MODELS)
def test_planned_lines_are_the_records_lines_byte_for_byte(model: str) -> None:
    """The export's files encode each text once from the plan (planned_lines_sql): the same bytes
    as records_sql's line and a newline, truncated texts included, and nothing for a skipped
    request."""
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=model)
    con = duckdb.connect()
    con.execute("create table t (call_id varchar, transcript varchar)")
    con.executemany("insert into t values (?, ?)", [(f"{kind}-{i}", text) for i, (kind, text)
                                                    in enumerate(ADVERSARIAL_TEXTS)])
    requests = table_requests_sql("t", settings)
    con.execute(f"create table plan as select * exclude (line), case when skip_reason is null then "
                f"row_number() over (partition by skip_reason is null order by request_key) - 1 end as position, "
                f"0 as job_number, 0 as file_number from ({records_sql(requests, settings)})")
    expected = con.execute(f"select line || chr(10) from ({records_sql(requests, settings)}) r join plan p using (request_key) "
                           "where p.position is not null order by p.position").fetchall()
    got = con.execute(f"select line from ({planned_lines_sql(requests, 'plan', settings)}) order by position").fetchall()
    assert got == expected and len(got) == con.execute("select count(position) from plan").fetchone()[0]
    truncated, skipped = con.execute("select count(*) filter (is_truncated), count(*) filter "
                                     "(skip_reason is not null) from plan").fetchone()
    assert truncated > 0 and skipped > 0
