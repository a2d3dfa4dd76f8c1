"""The synthetic transcript generator: determinism, sizes, realism and adversarial coverage."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bedrock_ext.transcripts import phrases
from bedrock_ext.transcripts.adversarial import ADVERSARIAL_TEXTS, OVER_CONTEXT_CHARS
from bedrock_ext.transcripts.generator import SCHEMA, GenerateSpec, generate_chunk, write_dataset


def test_generate_chunk_is_deterministic() -> None:
    assert generate_chunk(7, 0, 0, 300).equals(generate_chunk(7, 0, 0, 300))
    assert not generate_chunk(7, 0, 0, 300).equals(generate_chunk(8, 0, 0, 300))


def test_write_dataset_same_bytes_of_data_whatever_the_workers(tmp_path: Path) -> None:
    spec = GenerateSpec(rows=2_500, chunk_rows=1_000)
    one = write_dataset(spec, tmp_path / "one.parquet", workers=1)
    two = write_dataset(spec, tmp_path / "two.parquet", workers=2)
    assert one == two == 2_500
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))


def test_rows_have_unique_ids_metadata_and_labelled_turns() -> None:
    rows = generate_chunk(7, 0, 0, 2_000).to_pylist()
    assert len({r["call_id"] for r in rows}) == 2_000
    for r in rows[:200]:
        lines = r["transcript"].split("\n")
        assert all(line.startswith(("Agent: ", "Customer: ")) for line in lines)
        assert r["queue"] == phrases.QUEUES[r["label_intent"]]
        assert r["duration_s"] > 0 and r["started_at"].tzinfo is not None


def test_every_intent_resolution_and_sentiment_occurs() -> None:
    table = generate_chunk(7, 0, 0, 3_000)
    assert set(table["label_intent"].to_pylist()) == set(phrases.INTENTS)
    assert set(table["label_resolution"].to_pylist()) == set(phrases.RESOLUTIONS)
    starts, ends = table["label_sentiment_start"], table["label_sentiment_end"]
    shifted = sum(s != e for s, e in zip(starts.to_pylist(), ends.to_pylist(), strict=True))
    assert shifted > 1_000  # sentiment shifts during most calls


def test_lengths_range_from_a_few_turns_to_very_long_calls() -> None:
    turns = [t.count("\n") + 1 for t in generate_chunk(7, 0, 0, 5_000)["transcript"].to_pylist()]
    assert min(turns) <= 10
    assert max(turns) >= 200


def test_escalated_and_unresolved_calls_carry_a_follow_up() -> None:
    for r in generate_chunk(7, 0, 0, 500).to_pylist():
        has_follow_up = "Agent: I will also " in r["transcript"]
        assert has_follow_up == (r["label_resolution"] != "resolved")


def test_adversarial_rows_cover_every_kind(tmp_path: Path) -> None:
    out = tmp_path / "adv.parquet"
    written = write_dataset(GenerateSpec(rows=100, adversarial=True), out)
    rows = pq.read_table(out).to_pylist()
    assert written == len(rows) == 100 + len(ADVERSARIAL_TEXTS) + 2
    kinds = {r["label_adversarial_kind"]: r for r in rows if r["label_adversarial_kind"]}
    expected = {kind for kind, _ in ADVERSARIAL_TEXTS} | {"duplicate_call_id", "duplicate_exact"}
    assert set(kinds) == expected
    assert kinds["null_text"]["transcript"] is None
    assert len(kinds["over_context"]["transcript"]) >= OVER_CONTEXT_CHARS
    assert "\x00" in kinds["control_characters"]["transcript"]
    ids = [r["call_id"] for r in rows]
    assert ids.count("CALL-000000000") == 2 and ids.count("ADV-0000") == 2


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_hold_every_row(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"t.{fmt}"
    assert write_dataset(GenerateSpec(rows=1_200, chunk_rows=500), out, fmt=fmt) == 1_200
    if fmt == "jsonl":
        lines = out.read_text().splitlines()
        assert len(lines) == 1_200 and set(json.loads(lines[0])) == set(SCHEMA.names)
    else:
        assert out.read_text().count("\nCALL-") >= 1_200 - 1


def test_unknown_format_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        write_dataset(GenerateSpec(rows=10), tmp_path / "t.xml", fmt="xml")
    assert not (tmp_path / "t.xml").exists()
