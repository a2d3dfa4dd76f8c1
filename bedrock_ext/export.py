"""Stream prepared records into batch input files in S3, one folder per job.

Memory is bounded by one record at a time: each job's files are written to a local temporary
directory first, then uploaded (multipart when large) under a key derived from the content,
``<prefix>/input/<job key>/part-NNNNN.jsonl`` where the job key hashes the job's request keys and
attempt numbers (a retry of the same records is a new job).
The same records always give the same keys, so a re-run finds them in S3 and uploads nothing.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bedrock_ext.aws import S3
from bedrock_ext.records import PreparedRecord
from bedrock_ext.sharding import Quotas, ShardPlanner

log = logging.getLogger("bedrock_ext.export")


@dataclass(frozen=True, kw_only=True)
class ExportedJob:
    """One job's input in S3."""

    job_key: str
    input_s3_uri: str
    record_count: int
    byte_count: int
    file_count: int
    estimated_input_tokens: int
    below_minimum: bool
    uploaded: bool  # False when the files were already in S3 (a re-run)


@dataclass(frozen=True, kw_only=True)
class Assignment:
    request_key: str
    record_id: str
    job_key: str


@dataclass(kw_only=True)
class _OpenJob:
    folder: Path
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    files: list[Path] = field(default_factory=list)
    members: list[tuple[str, str]] = field(default_factory=list)
    byte_count: int = 0
    tokens: int = 0


class Exporter:
    """Writes records job by job; call :meth:`add` per record, then :meth:`close`."""

    def __init__(self, s3: S3, bucket: str, prefix: str, total_records: int, quotas: Quotas) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/")
        self.quotas = quotas
        self.planner = ShardPlanner(total_records, quotas)
        self._tmp = tempfile.TemporaryDirectory(prefix="bedrock-export-")
        self._job: _OpenJob | None = None
        self._job_index = -1
        self.jobs: list[ExportedJob] = []
        self.assignments: list[Assignment] = []

    def add(self, record: PreparedRecord) -> None:
        data = (record.line + "\n").encode("utf-8", "surrogatepass")
        job_index, file_index = self.planner.assign(len(data))
        job = self._job
        if job is None or job_index != self._job_index:
            self._flush()
            self._job_index = job_index
            job = self._job = _OpenJob(folder=Path(self._tmp.name) / f"job-{job_index}")
            job.folder.mkdir()
        if file_index == len(job.files):
            job.files.append(job.folder / f"part-{file_index:05d}.jsonl")
        with job.files[file_index].open("ab") as fh:
            fh.write(data)
        job.hasher.update(f"{record.request_key}:{record.attempt};".encode())
        job.members.append((record.request_key, record.record_id))
        job.byte_count += len(data)
        job.tokens += record.estimated_input_tokens

    def close(self) -> list[ExportedJob]:
        self._flush()
        self._tmp.cleanup()
        return self.jobs

    def _flush(self) -> None:
        job = self._job
        if job is None:
            return
        key = job.hasher.hexdigest()[:32]
        folder = f"{self.prefix}/input/{key}/" if self.prefix else f"input/{key}/"
        uploaded = False
        if not self.s3.exists(self.bucket, folder + job.files[-1].name):
            for path in job.files:
                with path.open("rb") as fh:
                    self.s3.upload(self.bucket, folder + path.name, fh)
            uploaded = True
        for path in job.files:
            path.unlink()
        count = len(job.members)
        self.jobs.append(ExportedJob(
            job_key=key, input_s3_uri=f"s3://{self.bucket}/{folder}", record_count=count,
            byte_count=job.byte_count, file_count=len(job.files), estimated_input_tokens=job.tokens,
            below_minimum=count < self.quotas.min_records_per_job, uploaded=uploaded))
        self.assignments += [Assignment(request_key=k, record_id=r, job_key=key) for k, r in job.members]
        log.info("job input %s: %d records in %d file(s)%s", folder, count, len(job.files),
                 "" if uploaded else " (already in S3, nothing uploaded)")
        self._job = None


def export_records(records: Iterable[PreparedRecord], total_records: int, *, s3: S3, bucket: str,
                   prefix: str, quotas: Quotas) -> tuple[list[ExportedJob], list[Assignment]]:
    exporter = Exporter(s3, bucket, prefix, total_records, quotas)
    for record in records:
        exporter.add(record)
    return exporter.close(), exporter.assignments
