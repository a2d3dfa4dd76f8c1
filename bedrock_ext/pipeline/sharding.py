"""Split a stream of records into batch input files and jobs under Bedrock's quotas. Pure.

Records are assigned in order. Jobs are balanced by record count (every job gets about the same
number of records), so no job falls under the per-job minimum unless the whole input is smaller
than it, or byte limits force an early cut; such jobs are flagged ``below_minimum`` and the caller's
small-batch policy decides what to do with them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from bedrock_ext.errors import ConfigError, ShardingError

GB = 10**9  # AWS states Bedrock batch quotas in GB; decimal, the conservative reading of 1 GB


@dataclass(frozen=True, kw_only=True)
class Quotas:
    """Per-model batch quotas (Service Quotas); defaults are the commonly reported AWS defaults."""

    max_records_per_file: int = 50_000
    max_bytes_per_file: int = 1 * GB
    max_records_per_job: int = 50_000
    max_bytes_per_job: int = 5 * GB
    min_records_per_job: int = 100

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"quota {name} must be a positive integer, got {value!r}")
        if self.min_records_per_job > self.max_records_per_job:
            raise ConfigError(f"min_records_per_job ({self.min_records_per_job}) is above "
                              f"max_records_per_job ({self.max_records_per_job})")


@dataclass(kw_only=True)
class JobShard:
    """One job: its files, each a list of record positions in the input stream."""

    files: list[list[int]] = field(default_factory=list)
    file_bytes: list[int] = field(default_factory=list)
    below_minimum: bool = False

    @property
    def record_count(self) -> int:
        return sum(len(f) for f in self.files)

    @property
    def byte_count(self) -> int:
        return sum(self.file_bytes)


class ShardPlanner:
    """Assigns records one at a time (streaming); knows only the total count in advance."""

    def __init__(self, total_records: int, quotas: Quotas) -> None:
        self.quotas = quotas
        jobs = max(1, math.ceil(total_records / quotas.max_records_per_job))
        self.job_target = math.ceil(total_records / jobs) if total_records else 0
        self.jobs: list[JobShard] = []
        self._position = 0
        self._job_records = self._job_bytes = 0  # of the last job, kept as running sums

    def assign(self, size: int) -> tuple[int, int]:
        """Place the next record of ``size`` bytes (newline included): (job index, file index)."""
        q = self.quotas
        if size > min(q.max_bytes_per_file, q.max_bytes_per_job):
            raise ShardingError(f"record #{self._position} is {size} bytes, above the "
                                f"{min(q.max_bytes_per_file, q.max_bytes_per_job)}-byte file/job limit")
        job = self.jobs[-1] if self.jobs else None
        if job is None or self._job_records >= self.job_target or self._job_bytes + size > q.max_bytes_per_job:
            job = JobShard()
            self.jobs.append(job)
            self._job_records = self._job_bytes = 0
        if (not job.files or len(job.files[-1]) >= q.max_records_per_file
                or job.file_bytes[-1] + size > q.max_bytes_per_file):
            job.files.append([])
            job.file_bytes.append(0)
        job.files[-1].append(self._position)
        job.file_bytes[-1] += size
        self._job_records += 1
        self._job_bytes += size
        self._position += 1
        return len(self.jobs) - 1, len(job.files) - 1

    def finish(self) -> list[JobShard]:
        for job in self.jobs:
            job.below_minimum = job.record_count < self.quotas.min_records_per_job
        return self.jobs


def plan_shards(sizes: Iterable[int], total_records: int, quotas: Quotas) -> list[JobShard]:
    planner = ShardPlanner(total_records, quotas)
    for size in sizes:
        planner.assign(size)
    return planner.finish()


FileRange = tuple[int, int, int, int]  # job index, file index, first and last record position


def file_ranges(jobs: list[JobShard]) -> list[FileRange]:
    """Each file of a plan as the range of record positions it holds (they are contiguous)."""
    return [(j, f, positions[0], positions[-1]) for j, job in enumerate(jobs)
            for f, positions in enumerate(job.files)]


def count_shape(total_records: int, quotas: Quotas) -> tuple[int, int]:
    """ShardPlanner's plan when no byte quota binds, in closed form: (records per job, records per
    file). The record at position p is in job p // per_job, file p % per_job // per_file. It is
    ShardPlanner's plan exactly when none of its files and jobs is over its byte quota
    (:func:`within_bytes`): the planner cuts on bytes only where a running sum would exceed one."""
    return max(1, ShardPlanner(total_records, quotas).job_target), quotas.max_records_per_file


def within_bytes(max_file_bytes: int, max_job_bytes: int, quotas: Quotas) -> bool:
    """The largest file and job of a plan are within the byte quotas."""
    return max_file_bytes <= quotas.max_bytes_per_file and max_job_bytes <= quotas.max_bytes_per_job
