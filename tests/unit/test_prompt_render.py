"""The user message is rendered in two places, the package's `render_prompt` macro (dbt) and
`record_sql.render_sql` (the CLI estimate): both must give the same text for the same row,
values that look like placeholders included."""

from __future__ import annotations

import duckdb

from bedrock_ext.request.record_sql import render_sql
from bedrock_ext.request.task import Task
from tests.sql.package_sql import environment

SPEC = {"id_column": "id", "text_column": "body",
        "prompt": {"system": "s", "user": "Priority {priority} ({priority}).\n{body}\n-- end {x}"},
        "answer_schema": {"type": "object", "additionalProperties": False,
                          "properties": {"a": {"type": "string"}}}}
ROWS = [("high", "plain text", "1"), (None, "a {priority} inside the text", "{body}"), ("lo'w", None, None)]


def test_the_macro_and_the_python_renderer_give_the_same_message() -> None:
    _, context = environment({"t": SPEC}, {})
    macro_sql = context["bedrock_ext"].render_prompt("t", "body")
    task = Task.from_spec("t", SPEC)
    python_sql = render_sql(task.user, {name: name for name in task.placeholders})
    with duckdb.connect() as con:
        con.execute("create table r (priority varchar, body varchar, x varchar)")
        con.executemany("insert into r values (?, ?, ?)", ROWS)
        got = con.execute(f"select {macro_sql}, {python_sql} from r").fetchall()
    assert all(a == b for a, b in got), got
    assert got[1][0] == "Priority  ().\na {priority} inside the text\n-- end {body}"
