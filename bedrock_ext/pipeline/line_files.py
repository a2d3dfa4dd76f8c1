"""JSONL lines streamed from DuckDB into one local file per (job, file), as Arrow batches.

A query gives each line (its newline included) with the job and file it belongs to, in any
order. Each batch is sorted by (job, file) and every run of one file is written as one slice of
the batch's string buffer: Python handles buffers, never a record. This replaced DuckDB's
``COPY ... (FORMAT csv)`` of raw lines, which checks every byte of every line for characters to
quote and took 0.82-1.18 s where this takes 0.68-0.79 s per 100,000 lines in two files
(docs/benchmarks.md, 2026-12-04).

Memory: one batch (``BATCH_ROWS`` lines, about 5 MB at 2.4 KB per line) and its sorted copy;
at most ``MAX_OPEN`` files are open at once (a file closed to make room is reopened to append).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa

FilePart = tuple[int, int]  # (job number, file number)

BATCH_ROWS = 2048  # one DuckDB vector
MAX_OPEN = 64


def write_lines(batches: Iterable[pa.RecordBatch], paths: dict[FilePart, Path]) -> int:
    """Append every batch's lines (columns: line, job_number, file_number) to the file of its
    (job, file) in ``paths``, each file created empty first; returns the lines written. A null
    line is not written (nor counted); a (job, file) not in ``paths`` raises KeyError."""
    for path in paths.values():
        path.write_bytes(b"")
    written = 0
    with _Appender(paths) as files:
        for batch in batches:
            written += _write_batch(batch, files)
    return written


def _write_batch(batch: pa.RecordBatch, files: _Appender) -> int:
    if not batch.num_rows:
        return 0
    table = pa.Table.from_batches([batch])
    text = table.schema.field("line").type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text)):  # a string view: no offsets
        table = table.set_column(table.schema.get_field_index("line"), "line",
                                 table.column("line").cast(pa.large_string()))
    table = table.sort_by([("job_number", "ascending"), ("file_number", "ascending")])
    lines = table.column("line").combine_chunks()
    jobs = table.column("job_number").to_numpy()
    numbers = table.column("file_number").to_numpy()
    data, offsets = _buffers(lines)
    cuts = np.flatnonzero((np.diff(jobs) != 0) | (np.diff(numbers) != 0)) + 1
    bounds = [0, *cuts.tolist(), len(lines)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        files.write((int(jobs[start]), int(numbers[start])), data[offsets[start]:offsets[end]])
    return len(lines) - lines.null_count


def _buffers(lines: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The string array's bytes and its offsets (one more than its lines; a null line is empty)."""
    _, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(data if data is not None else b""), ends


class _Appender:
    """The files of ``paths``, opened to append as they are written to, at most MAX_OPEN at once
    (the least recently written is closed first)."""

    def __init__(self, paths: dict[FilePart, Path]) -> None:
        self.paths = paths
        self.open: OrderedDict[FilePart, IO[bytes]] = OrderedDict()

    def write(self, part: FilePart, data: memoryview) -> None:
        handle = self.open.pop(part, None) or self.paths[part].open("ab")
        self.open[part] = handle
        if len(self.open) > MAX_OPEN:
            self.open.popitem(last=False)[1].close()
        handle.write(data)

    def __enter__(self) -> _Appender:
        return self

    def __exit__(self, *_: object) -> None:
        while self.open:
            self.open.popitem()[1].close()
