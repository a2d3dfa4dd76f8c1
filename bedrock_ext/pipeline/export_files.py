"""The planned records of an export cut into jobs and files, and the files written to local disk
by one partitioned COPY (``pipeline.export`` plans, names the jobs and uploads).

A record's job and file are columns of the plan table (``job_number``, ``file_number``), set
from its position: by record counts (``sharding.count_shape``), or by line sizes
(``sharding.ShardPlanner``) when a file or job cut by counts is over a byte quota.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from bedrock_ext.errors import ExportError
from bedrock_ext.pipeline.sharding import Quotas, count_shape, file_ranges, plan_shards, within_bytes
from bedrock_ext.request.record_sql import literal

# COPY writes each row's one BLOB column as it is, nothing between rows: the lines (their newline
# included, as UTF-8 bytes: encode(), not a cast, which would read backslashes as escapes). It
# replaced FORMAT csv without quoting, which checks every byte for characters to quote: per
# 100,000 lines in two files 0.47-0.51 s against 0.82-1.18 s; at 1M lines in 20 partitions
# 4.0-4.5 s against 11.8-13.3 s (docs/benchmarks.md, 2026-12-04).
_RAW_LINES = "FORMAT blob"
# Rows a partitioned COPY buffers per file before writing (DuckDB's default, 524,288, would hold
# about 1 GB of 2 KB lines per file in memory).
_FLUSH_ROWS = 20_000
_RANGES = "bedrock_ext_export_file_ranges"
# Up to this many files, a COPY per file (see PlanFiles.write_local).
_COPY_PER_FILE = 4

FilePart = tuple[int, int]  # (job number, file number)


class PlanFiles:
    """The files of the plan in table ``plan`` (position, job_number, file_number, ...), whose
    lines ``lines_sql`` gives (record_sql.planned_lines_sql: line with its newline, position,
    job_number, file_number)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, plan: str, lines_sql: str) -> None:
        self.con, self.plan, self.lines_sql = con, plan, lines_sql

    def assign_by_count(self, quotas: Quotas) -> None:
        """Set job_number and file_number of every record to send by arithmetic on its position
        (sharding.count_shape): ShardPlanner's plan whenever no file or job is over a byte quota."""
        per_job, per_file = count_shape(self._count(), quotas)
        self.con.execute(f"update {self.plan} set job_number = position // {per_job}, "
                         f"file_number = position % {per_job} // {per_file} where position is not null")

    def assign_by_size(self, quotas: Quotas) -> None:
        """Set job_number and file_number by ShardPlanner over the line sizes (measured here)."""
        count = self._count()
        cursor = self.con.execute(f"select strlen(line) from ({self.lines_sql}) order by position")
        # Streamed in batches; no other query runs on this connection meanwhile.
        sizes = (size for batch in iter(lambda: cursor.fetchmany(100_000), []) for (size,) in batch)
        ranges = file_ranges(plan_shards(sizes, count, quotas))
        self.con.register(_RANGES, pa.table(list(zip(*ranges, strict=True)) if ranges else [[]] * 4,
                                            names=["job_number", "file_number", "first", "last"]))
        try:
            # Each file is a contiguous range of positions: an ASOF join finds each record's file.
            self.con.execute(
                f"create or replace temp table {self.plan} as select p.* exclude (job_number, file_number), "
                f"f.job_number, f.file_number from {self.plan} p "
                f"asof left join {_RANGES} f on p.position >= f.first")
        finally:
            self.con.unregister(_RANGES)

    def write_local(self, files: list[tuple[int, int, str]], tmp: Path) -> dict[FilePart, Path]:
        """The files of these jobs (job number, file number, anything) written to ``tmp``; each
        file's path by (job number, file number). Every planned record of those jobs must be
        written: one that is not had its text changed since the plan.

        Up to ``_COPY_PER_FILE`` files: one plain COPY per file; more: one partitioned COPY (one
        partition per file), a single pass over the requests. Per 100,000 records in two files
        the plain COPYs took 0.47-0.51 s where the partitioned one took 0.66-0.75 s
        (docs/benchmarks.md); but each COPY reads every request, so with many files one pass is
        cheaper."""
        if not files:
            return {}
        jobs = ", ".join(str(n) for n in sorted({job for job, _, _ in files}))
        expected = self.con.execute(
            f"select count(*) from {self.plan} where job_number in ({jobs})").fetchone()[0]  # type: ignore[index]
        out = tmp / f"copy-{uuid.uuid4().hex}"
        parts = [(job, file) for job, file, _ in files]
        written, paths = self._copy_each(parts, out) if len(parts) <= _COPY_PER_FILE \
            else self._copy_partitioned(parts, jobs, out)
        if written != expected:
            raise ExportError(f"{written} records written for {expected} planned: the requests changed during "
                              "the export. Re-run dbt build.")
        return paths

    def _copy_each(self, parts: list[FilePart], out: Path) -> tuple[int, dict[FilePart, Path]]:
        out.mkdir()
        written, paths = 0, {}
        for job, file in parts:
            paths[(job, file)] = path = out / f"job-{job}-file-{file}.jsonl"
            lines = (f"select encode(line) from ({self.lines_sql}) "
                     f"where job_number = {job} and file_number = {file}")
            written += self.con.execute(f"COPY ({lines}) TO {literal(str(path))} ({_RAW_LINES})").fetchone()[0]  # type: ignore[index]
        return written, paths

    def _copy_partitioned(self, parts: list[FilePart], jobs: str, out: Path
                          ) -> tuple[int, dict[FilePart, Path]]:
        lines = (f"select encode(line) as line, job_number, file_number from ({self.lines_sql}) "
                 f"where job_number in ({jobs})")
        partitions = "PARTITION_BY (job_number, file_number)"
        with _setting(self.con, "partitioned_write_flush_threshold", _FLUSH_ROWS):
            copy = f"COPY ({lines}) TO {literal(str(out))} ({_RAW_LINES}, {partitions})"
            written = self.con.execute(copy).fetchone()[0]  # type: ignore[index]
        return written, {(job, file): _one_file(out / f"job_number={job}" / f"file_number={file}")
                         for job, file in parts}

    def _count(self) -> int:
        return int(self.con.execute(f"select count(position) from {self.plan}").fetchone()[0])  # type: ignore[index]


def within_byte_quotas(written: dict[FilePart, Path], quotas: Quotas) -> bool:
    """Every written file, and every job of written files, is within its byte quota."""
    sizes = {part: path.stat().st_size for part, path in written.items()}
    jobs: dict[int, int] = {}
    for (job, _), size in sizes.items():
        jobs[job] = jobs.get(job, 0) + size
    return within_bytes(max(sizes.values(), default=0), max(jobs.values(), default=0), quotas)


@contextmanager
def _setting(con: duckdb.DuckDBPyConnection, name: str, value: int) -> Iterator[None]:
    """A DuckDB setting for the duration of a block, then the session's own value again."""
    previous = con.execute("select current_setting(?)", [name]).fetchone()[0]  # type: ignore[index]
    con.execute(f"SET {name} = {int(value)}")
    try:
        yield
    finally:
        con.execute(f"SET {name} = {literal(str(previous))}")


def _one_file(folder: Path) -> Path:
    """The partition's file (DuckDB may split a partition into several; they are joined)."""
    parts = sorted(folder.iterdir())
    for extra in parts[1:]:
        with parts[0].open("ab") as out, extra.open("rb") as src:
            shutil.copyfileobj(src, out)
        extra.unlink()
    return parts[0]
