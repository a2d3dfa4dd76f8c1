"""The export reads a pending request's text from the input rows, under the key it was given:
a row whose text changed after int_bedrock_requests keyed it is not sent under the stale key."""

from __future__ import annotations

import duckdb

from bedrock_ext.pipeline.policy import _with_text

INPUTS = "(select * from (values ('t', 'a#1', 'a', 'hello'), ('t', 'b#1', 'b', 'edited since'), "\
         "('other', 'a#1', 'a', 'hello')) v(task_name, input_row_id, input_id, input_text))"


def _pending(con: duckdb.DuckDBPyConnection) -> str:
    """Two requests keyed on their texts of the time: 'hello' and 'before'."""
    return ("select 'k1' as request_key, 'a#1' as input_row_id, 'a' as input_id, 'fp' as request_fingerprint, "
            "hash('a', 'hello', 'fp') as content_hash, 1 as attempt_number union all "
            "select 'k2', 'b#1', 'b', 'fp', hash('b', 'before', 'fp'), 1")


def test_pending_requests_get_their_text_and_a_changed_one_waits() -> None:
    con = duckdb.connect()
    sql = _with_text(con, _pending(con), INPUTS, "t")
    assert con.execute(sql).fetchall() == [("k1", "a#1", "a", "hello", 1)]


def test_no_pending_request_reads_no_input_row() -> None:
    con = duckdb.connect()
    failing = "(select error('the input rows were read') as input_text)"
    sql = _with_text(con, f"select * from ({_pending(con)}) where false", failing, "t")
    assert con.execute(sql).fetchall() == []
