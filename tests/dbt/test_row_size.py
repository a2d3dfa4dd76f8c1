"""A warehouse row stays small (issue 32): int_bedrock_requests keeps no copy of the text (the
export reads it from the input rows for the requests it sends), int_bedrock_answers none of the
answer (its readers take it from the output staging's text), and a warehouse built before that
loses its copies on its next build without requesting anything again."""

from __future__ import annotations

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tests.dbt.conftest import DbtProject, assert_all_passed, write_transcripts

VARS = {"poll_interval_s": 0.05}


def _columns(project: DbtProject, table: str) -> set[str]:
    return {name for (name,) in project.query(
        "select column_name from information_schema.columns where table_name = ?", [table])}


def test_a_table_of_the_previous_shape_loses_its_text_copy_and_requests_nothing_again(
        dbt_project: DbtProject) -> None:
    data = write_transcripts(dbt_project, rows=150)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert "input_text" not in _columns(dbt_project, "int_bedrock_requests")
    assert not {"answer", "answer_text"} & _columns(dbt_project, "int_bedrock_answers")
    exported = dbt_project.query("select count(*) from bedrock_batch_input")
    results = "select input_row_id, status, answer from fct_bedrock_results order by input_row_id"
    answers = dbt_project.query(results)

    # The shape a 0.4 warehouse has: the rendered text kept beside each request, the answer (valid
    # as JSON, else its raw text) beside each verdict, and no output_line_id there.
    with duckdb.connect(str(dbt_project.database)) as con:
        con.execute("alter table int_bedrock_requests add column input_text varchar")
        con.execute("update int_bedrock_requests set input_text = repeat('kept text ', 200)")
        con.execute("alter table int_bedrock_answers drop column output_line_id")
        con.execute("alter table int_bedrock_answers add column answer json")
        con.execute("alter table int_bedrock_answers add column answer_text varchar")
        con.execute("update int_bedrock_answers set answer = '{}', answer_text = 'stale'")
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    assert "input_text" not in _columns(dbt_project, "int_bedrock_requests")
    assert not {"answer", "answer_text"} & _columns(dbt_project, "int_bedrock_answers")
    # Every line validated again (its output_line_id filled), nothing requested again.
    assert dbt_project.query("select count(*), count(output_line_id) from int_bedrock_answers") == [(150, 150)]
    assert dbt_project.query("select count(*) from bedrock_batch_input") == exported
    assert dbt_project.query("select status, count(*) from fct_bedrock_results group by 1") == [("answered", 150)]
    assert_all_passed(dbt_project.dbt(["run", "--select", "fct_bedrock_results", "--full-refresh"], **VARS))
    assert dbt_project.query(results) == answers  # every answer again, from the staging's text

    # An edited row is sent with its new text, read from the input rows.
    table = pq.read_table(data)
    texts = table.column("transcript").to_pylist()
    texts[0] = "Agent: a transcript edited after its first answer, about a refund. Customer: thanks."
    pq.write_table(table.set_column(table.schema.get_field_index("transcript"), "transcript",
                                    pc.cast(texts, table.schema.field("transcript").type)), data)
    assert_all_passed(dbt_project.dbt(["build"], **VARS, small_batch_policy="on_demand"))
    assert dbt_project.query("select count(*) from bedrock_batch_input")[0][0] == exported[0][0] + 1
    assert dbt_project.query("select count(*) from fct_bedrock_results where status = 'answered'") == [(150,)]
