"""sharding.py, property-tested with seeded random inputs (every record in exactly one shard,
no shard over any limit, no job under the minimum unless flagged)."""

from __future__ import annotations

import random

import pytest

from bedrock_ext.errors import ConfigError, ShardingError
from bedrock_ext.pipeline.sharding import (
    FileRange,
    Quotas,
    count_shape,
    file_ranges,
    plan_shards,
    within_bytes,
)


def _random_case(rng: random.Random) -> tuple[list[int], Quotas]:
    quotas = Quotas(max_records_per_file=rng.randint(1, 60), max_bytes_per_file=rng.randint(500, 5_000),
                    max_records_per_job=rng.randint(20, 200), max_bytes_per_job=rng.randint(5_000, 40_000),
                    min_records_per_job=rng.randint(1, 10))
    sizes = [rng.randint(10, 400) for _ in range(rng.randint(0, 1_500))]
    return sizes, quotas


@pytest.mark.parametrize("seed", range(150))
def test_plan_respects_every_quota(seed: int) -> None:
    sizes, q = _random_case(random.Random(seed))
    jobs = plan_shards(sizes, len(sizes), q)
    positions = [p for job in jobs for f in job.files for p in f]
    assert positions == list(range(len(sizes)))  # every record once, in order
    for job in jobs:
        assert job.record_count <= q.max_records_per_job
        assert job.byte_count <= q.max_bytes_per_job
        for f, nbytes in zip(job.files, job.file_bytes, strict=True):
            assert 0 < len(f) <= q.max_records_per_file
            assert nbytes == sum(sizes[p] for p in f) <= q.max_bytes_per_file
        assert job.below_minimum == (job.record_count < q.min_records_per_job)


def count_ranges(total_records: int, quotas: Quotas) -> list[FileRange]:
    """The arithmetic plan of sharding.count_shape written out as file ranges, job by job and file
    by file (an independent statement of it, to hold against the per-record arithmetic and the
    greedy planner)."""
    per_job, per_file = count_shape(total_records, quotas)
    ranges = []
    for job, job_start in enumerate(range(0, total_records, per_job)):
        job_end = min(job_start + per_job, total_records)
        for file, start in enumerate(range(job_start, job_end, per_file)):
            ranges.append((job, file, start, min(start + per_file, job_end) - 1))
    return ranges


@pytest.mark.parametrize("seed", range(150))
def test_closed_form_plan_is_the_greedy_plan_when_its_files_and_jobs_are_within_the_byte_quotas(seed: int) -> None:
    rng = random.Random(seed)
    _, q = _random_case(rng)
    n = rng.randint(0, 1_500)
    size = rng.randint(1, 400)
    sizes = [rng.randint(1, size) for _ in range(n)]
    ranges = count_ranges(n, q)
    per_job, per_file = count_shape(n, q)  # the export's arithmetic, per record
    assert [(p // per_job, p % per_job // per_file) for p in range(n)] == [
        (j, f) for j, f, first, last in ranges for _ in range(first, last + 1)]
    file_bytes = [sum(sizes[first:last + 1]) for _, _, first, last in ranges]
    job_bytes = [sum(sizes[first:last + 1]) for j in {j for j, *_ in ranges}
                 for first, last in [(min(r[2] for r in ranges if r[0] == j), max(r[3] for r in ranges if r[0] == j))]]
    try:
        greedy = file_ranges(plan_shards(sizes, n, q))
    except ShardingError:  # one record over a byte quota: then its file is too
        assert not within_bytes(max(file_bytes), max(job_bytes), q)
        return
    assert (ranges == greedy) == within_bytes(max(file_bytes, default=0), max(job_bytes, default=0), q)


def test_closed_form_plan_at_a_million_records() -> None:
    ranges = count_ranges(1_000_000, Quotas())
    assert len(ranges) == 20
    assert ranges[0] == (0, 0, 0, 49_999) and ranges[-1] == (19, 0, 950_000, 999_999)


def test_jobs_are_balanced_so_none_falls_under_the_minimum() -> None:
    q = Quotas(max_records_per_job=50_000, min_records_per_job=100)
    jobs = plan_shards([100] * 100_050, 100_050, q)
    assert [j.record_count for j in jobs] == [33_350, 33_350, 33_350]
    assert not any(j.below_minimum for j in jobs)


def test_small_input_is_one_job_flagged_below_minimum() -> None:
    (job,) = plan_shards([50] * 40, 40, Quotas())
    assert job.record_count == 40 and job.below_minimum


def test_a_record_above_the_file_limit_is_an_error() -> None:
    with pytest.raises(ShardingError, match="record #1 is 900 bytes"):
        plan_shards([10, 900], 2, Quotas(max_bytes_per_file=500, max_bytes_per_job=5_000))


def test_invalid_quotas_name_the_key() -> None:
    with pytest.raises(ConfigError, match="max_records_per_file"):
        Quotas(max_records_per_file=0)
    with pytest.raises(ConfigError, match="min_records_per_job"):
        Quotas(min_records_per_job=10, max_records_per_job=5)
