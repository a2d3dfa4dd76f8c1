"""line_files: lines streamed as Arrow batches into one file per (job, file)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from bedrock_ext.pipeline import line_files
from bedrock_ext.pipeline.line_files import write_lines


def _batch(rows: list[tuple[str | None, int, int]], text: pa.DataType | None = None) -> pa.RecordBatch:
    lines, jobs, files = zip(*rows, strict=True)
    return pa.record_batch([pa.array(lines, text or pa.string()), pa.array(jobs, pa.int32()), pa.array(files, pa.int32())],
                           names=["line", "job_number", "file_number"])


@pytest.mark.parametrize("text", [pa.string(), pa.large_string(), pa.string_view()],
                         ids=["string", "large_string", "string_view"])
@pytest.mark.parametrize("max_open", [1, 64])
def test_each_line_lands_whole_in_its_file(tmp_path: Path, text: pa.DataType, max_open: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_files, "MAX_OPEN", max_open)
    paths = {(job, file): tmp_path / f"{job}-{file}" for job in (0, 1) for file in (0, 1, 2)}
    batches = [
        _batch([('{"a":"é"}\n', 1, 2), ("x0\n", 0, 0), ("y\n", 1, 0), ("x1\n", 0, 0), ("z" * 5000 + "\n", 0, 1)], text),
        _batch([("w\n", 1, 2)], text).slice(0, 1),
        _batch([("y2\n", 1, 0), ("x2\n", 0, 0)], text).slice(1),  # a slice: the buffers start before it
    ]
    assert write_lines(batches, paths) == 7
    got = {part: path.read_text() for part, path in paths.items()}
    assert sorted(got[(0, 0)].splitlines()) == ["x0", "x1", "x2"]
    assert got[(0, 1)] == "z" * 5000 + "\n"
    assert got[(0, 2)] == ""  # planned but given no line: created empty, the caller's count tells
    assert got[(1, 0)] == "y\n"
    assert sorted(got[(1, 2)].splitlines()) == sorted(['{"a":"é"}', "w"])
    assert got[(1, 1)] == ""


def test_a_null_line_is_neither_written_nor_counted(tmp_path: Path) -> None:
    paths = {(0, 0): tmp_path / "f"}
    assert write_lines([_batch([("a\n", 0, 0), (None, 0, 0), ("b\n", 0, 0)])], paths) == 2
    assert sorted(paths[(0, 0)].read_text().splitlines()) == ["a", "b"]


def test_a_line_of_a_file_not_planned_raises(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        write_lines([_batch([("a\n", 3, 0)])], {(0, 0): tmp_path / "f"})


def test_empty_batches_write_empty_files(tmp_path: Path) -> None:
    paths = {(0, 0): tmp_path / "f"}
    assert write_lines([_batch([("a\n", 0, 0)]).slice(0, 0)], paths) == 0
    assert paths[(0, 0)].read_bytes() == b""
