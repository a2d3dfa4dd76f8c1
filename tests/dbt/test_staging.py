"""`dbt build` of the staging layer on a temp copy of the project: the project's own staging and
the package's input rows over it."""

from __future__ import annotations

from tests.dbt.conftest import DbtProject, write_transcripts


def test_staging_builds_and_keeps_every_source_row(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=300, adversarial=True)
    result = dbt_project.dbt(["build", "--select", "stg_call_center__transcripts", "stg_bedrock_ext__input_rows",
                              "--indirect-selection", "cautious"])
    assert result.success, result.exception
    statuses = {r.node.name: str(r.status) for r in result.result}
    assert statuses["stg_call_center__transcripts"] == statuses["stg_bedrock_ext__input_rows"] == "success"
    assert all(s in {"success", "pass"} for s in statuses.values()), statuses

    assert dbt_project.query("select count(*) from stg_call_center__transcripts") == [(312,)]
    reasons = dict(dbt_project.query(
        "select coalesce(split_part(skip_reason, ':', 1), 'requested'), count(*)"
        " from stg_bedrock_ext__input_rows group by all"))
    # nothing dropped: 300 + 10 adversarial kinds + 2 duplicate rows; blank: empty, null and
    # whitespace-only (the exact duplicate of the empty row is a duplicate first)
    assert reasons == {"requested": 307, "blank_text": 3, "duplicate_id": 2}
    assert dbt_project.query("select count(*) filter (where is_duplicate_id) from stg_bedrock_ext__input_rows") == [(4,)]


def test_duplicate_rule_keeps_the_latest_row(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=50, adversarial=True)
    assert dbt_project.dbt(["build", "--select", "+stg_bedrock_ext__input_rows", "--indirect-selection", "cautious"]).success
    rows = dbt_project.query(
        "select text_value from stg_bedrock_ext__input_rows"
        " where input_id = 'CALL-000000000' and is_requestable"
    )
    # The generated CALL-000000000 starts 2026-01-05; the adversarial re-export the day before.
    assert len(rows) == 1 and rows[0][0].startswith("Agent: ")
    assert "calling back" not in rows[0][0]


def test_missing_transcripts_file_fails_with_the_path(dbt_project: DbtProject) -> None:
    result = dbt_project.dbt(["build", "--select", "stg_call_center__transcripts", "--indirect-selection", "cautious"])
    assert not result.success
    messages = " ".join(str(r.message) for r in result.result)
    assert "transcripts.parquet" in messages
