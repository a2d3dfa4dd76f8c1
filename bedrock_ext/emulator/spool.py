"""A running job's output lines, on local disk rather than in memory.

A job of 50,000 records produces 100+ MB of output lines, and up to the concurrent-job quota of
jobs are InProgress at once in the emulator (which shares the dbt process on the local target).
Kept as Python objects they cost about 100 MB per job held (a probe of 8 jobs held together:
853 MB peak, 809 MB with the spool; most of the emulator's former 5 GB was moto reading whole
objects per GET, see s3_reads.py). The spool writes each line to an unnamed temporary file as it
is produced and keeps, per record, only what the job's counters and the output order need.
"""

from __future__ import annotations

import hashlib
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """The counters of a job's first ``processed`` records (its manifest's figures)."""

    processed: int
    errors: int
    input_tokens: int
    output_tokens: int


class ResultSpool:
    """Output lines of one job in the order they were produced; read back in output order."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.file_names: list[str] = []  # the input files with records, in the order first seen
        self._file = tempfile.TemporaryFile(prefix="bedrock-ext-emulator-")  # deleted on close or exit
        self._offsets = array("q")
        self._files = array("I")
        # Running totals (errors, input tokens, output tokens) after each record: the counters of
        # the first n records are read on every lifecycle tick while the job is InProgress.
        self._totals = (array("q"), array("q"), array("q"))
        self._order: list[bytes] = []

    def __len__(self) -> int:
        return len(self._offsets)

    def add(self, file_name: str, line: str, is_error: bool, input_tokens: int, output_tokens: int) -> None:
        self._offsets.append(self._file.tell())
        self._file.write(line.encode("utf-8", "surrogatepass") + b"\n")
        if not self.file_names or self.file_names[-1] != file_name:
            self.file_names.append(file_name)  # records come file by file
        self._files.append(len(self.file_names) - 1)
        for total, value in zip(self._totals, (int(is_error), input_tokens, output_tokens), strict=True):
            total.append((total[-1] if total else 0) + value)
        # Bedrock does not keep the input order: a deterministic order unrelated to it.
        self._order.append(hashlib.blake2b(f"{self.job_id}{line[-40:]}".encode(), digest_size=6).digest())

    def counts(self, processed: int) -> Counts:
        if not processed:
            return Counts(0, 0, 0, 0)
        errors, input_tokens, output_tokens = (total[processed - 1] for total in self._totals)
        return Counts(processed, errors, input_tokens, output_tokens)

    def lines(self, processed: int, file_name: str) -> Iterator[bytes]:
        """The lines (with their newline) of the first ``processed`` records from ``file_name``, in
        output order."""
        number = self.file_names.index(file_name)
        chosen = sorted((i for i in range(processed) if self._files[i] == number), key=self._order.__getitem__)
        self._file.flush()
        end = self._file.tell()
        for i in chosen:
            stop = self._offsets[i + 1] if i + 1 < len(self._offsets) else end
            self._file.seek(self._offsets[i])
            yield self._file.read(stop - self._offsets[i])
        self._file.seek(end)

    def close(self) -> None:
        self._file.close()
