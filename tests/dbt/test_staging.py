"""`dbt build` of the staging layer on a temp copy of the project."""

from __future__ import annotations

from tests.dbt.conftest import DbtProject, write_transcripts


def test_staging_builds_and_keeps_every_source_row(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=300, adversarial=True)
    result = dbt_project.dbt(["build", "--select", "stg_call_center__transcripts", "--indirect-selection", "cautious"])
    assert result.success, result.exception
    statuses = {r.node.name: str(r.status) for r in result.result}
    assert statuses["stg_call_center__transcripts"] == "success"
    assert all(s in {"success", "pass"} for s in statuses.values()), statuses

    (total, blank, dup, superseded), = dbt_project.query(
        "select count(*), count(*) filter (where is_transcript_blank),"
        " count(*) filter (where is_duplicate_call_id),"
        " count(*) filter (where not is_latest_for_call_id)"
        " from stg_call_center__transcripts"
    )
    assert total == 300 + 12  # nothing dropped: 10 adversarial kinds + 2 duplicate rows
    assert blank == 4  # empty, null, whitespace-only and the exact duplicate of the empty row
    assert (dup, superseded) == (4, 2)


def test_duplicate_rule_keeps_the_latest_row(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=50, adversarial=True)
    assert dbt_project.dbt(["build", "--select", "stg_call_center__transcripts", "--indirect-selection", "cautious"]).success
    rows = dbt_project.query(
        "select transcript_text from stg_call_center__transcripts"
        " where call_id = 'CALL-000000000' and is_latest_for_call_id"
    )
    # The generated CALL-000000000 starts 2026-01-05; the adversarial re-export the day before.
    assert len(rows) == 1 and rows[0][0].startswith("Agent: ")
    assert "calling back" not in rows[0][0]


def test_missing_transcripts_file_fails_with_the_path(dbt_project: DbtProject) -> None:
    result = dbt_project.dbt(["build", "--select", "stg_call_center__transcripts", "--indirect-selection", "cautious"])
    assert not result.success
    messages = " ".join(str(r.message) for r in result.result)
    assert "transcripts.parquet" in messages
