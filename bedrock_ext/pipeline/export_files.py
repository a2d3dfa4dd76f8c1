"""The planned records of an export cut into jobs and files, and the files written to local disk
in one pass over the requests (``line_files``; ``pipeline.export`` plans, names the jobs and
uploads).

A record's job and file are columns of the plan table (``job_number``, ``file_number``), set
from its position: by record counts (``sharding.count_shape``), or by line sizes
(``sharding.ShardPlanner``) when a file or job cut by counts is over a byte quota.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from bedrock_ext.errors import ExportError
from bedrock_ext.pipeline.line_files import BATCH_ROWS, FilePart, write_lines
from bedrock_ext.pipeline.sharding import Quotas, count_shape, file_ranges, plan_shards, within_bytes

_RANGES = "bedrock_ext_export_file_ranges"


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
        """The files of these jobs (job number, file number, anything) written to ``tmp`` in one
        pass over the requests (``line_files``); each file's path by (job number, file number).
        Every planned record of those jobs must be written: one that is not had its text changed
        since the plan."""
        if not files:
            return {}
        jobs = ", ".join(str(n) for n in sorted({job for job, _, _ in files}))
        expected = self.con.execute(
            f"select count(*) from {self.plan} where job_number in ({jobs})").fetchone()[0]  # type: ignore[index]
        out = tmp / f"lines-{uuid.uuid4().hex}"
        out.mkdir()
        paths = {(job, file): out / f"job-{job}-file-{file}.jsonl" for job, file, _ in files}
        lines = f"select line, job_number, file_number from ({self.lines_sql}) where job_number in ({jobs})"
        written = write_lines(self.con.execute(lines).to_arrow_reader(BATCH_ROWS), paths)
        if written != expected:
            raise ExportError(f"{written} records written for {expected} planned: the requests changed during "
                              "the export. Re-run dbt build.")
        return paths

    def _count(self) -> int:
        return int(self.con.execute(f"select count(position) from {self.plan}").fetchone()[0])  # type: ignore[index]


def within_byte_quotas(written: dict[FilePart, Path], quotas: Quotas) -> bool:
    """Every written file, and every job of written files, is within its byte quota."""
    sizes = {part: path.stat().st_size for part, path in written.items()}
    jobs: dict[int, int] = {}
    for (job, _), size in sizes.items():
        jobs[job] = jobs.get(job, 0) + size
    return within_bytes(max(sizes.values(), default=0), max(jobs.values(), default=0), quotas)
