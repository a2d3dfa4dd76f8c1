"""The crash-safe JobRunner: one job per spec, submitted or re-attached by name (``aws.jobs``
gives each job a deterministic name and clientRequestToken), at most ``max_concurrent`` in flight,
throttling and quota errors waited out, capped exponential backoff with jitter between status
checks, progress logs with the time left, and a Failed job resubmitted as its next generation.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bedrock_ext.aws.jobs import BatchJob, BedrockBatchClient, JobSpec, JobStatus, same_input, split_generation
from bedrock_ext.errors import JobTimeoutError, QuotaExceededError, ThrottledError

log = logging.getLogger("bedrock_ext.aws.runner")


@dataclass(frozen=True, kw_only=True)
class PollPolicy:
    """Capped exponential backoff with jitter between status checks."""

    initial_s: float = 5.0
    max_s: float = 60.0
    multiplier: float = 1.5
    jitter: float = 0.1
    log_every_s: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_s, self.initial_s * self.multiplier ** attempt)
        return base * (1 + rng.uniform(-self.jitter, self.jitter))


def duration(seconds: float) -> str:
    """``45s``, ``12m05s``, ``3h20m``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class JobRunner:
    """Submits one job per spec with at most ``max_concurrent`` in flight, then waits for them.

    Throttling and the concurrent-job quota are waited out, not failed. ``wait=False`` submits
    what fits and returns at once (collect later with another run: it re-attaches by name).
    """

    def __init__(self, client: BedrockBatchClient, *, max_concurrent: int = 20,
                 poll: PollPolicy | None = None, timeout_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, max_generations: int = 3) -> None:
        self.client, self.max_concurrent, self.max_generations = client, max_concurrent, max_generations
        self.poll, self.timeout_s = poll or PollPolicy(), timeout_s
        self.clock, self.sleep, self.rng = clock, sleep, rng or random.Random(0)
        self.api_calls = 0
        self._rate_origin: tuple[float, int] | None = None  # (time, records) when processing began

    def attach_existing(self, specs: Sequence[JobSpec]) -> tuple[list[JobSpec], dict[str, BatchJob]]:
        """Jobs already created for these specs, found by listing by name prefix.

        Returns the specs to run (a spec whose newest job Failed comes back as the next
        generation, to be resubmitted, up to ``max_generations`` in all) and the jobs to re-attach to,
        keyed by job name.
        """
        wanted = {name: s for s in specs for name in (s.base_name, s.legacy_base_name)}
        newest: dict[str, tuple[int, BatchJob]] = {}  # by the spec's job key
        for prefix in sorted({s.name_prefix for s in specs}):
            self.api_calls += 1
            for job in self.client.list_jobs(name_contains=prefix):
                base, gen = split_generation(job.job_name)
                mine = wanted.get(base)
                if mine is not None and same_input(job, mine) and gen > newest.get(mine.job_key, (0, job))[0]:
                    newest[mine.job_key] = (gen, job)
        out_specs, found = [], {}
        for spec in specs:
            gen, job = newest.get(spec.job_key, (0, None))  # type: ignore[assignment]
            if job is not None and split_generation(job.job_name)[0] != spec.base_name:
                spec = dataclasses.replace(spec, legacy=True)  # an older version's job: keep its name
            if job is not None and job.status == JobStatus.FAILED and gen < self.max_generations:
                log.warning("job %s Failed (%s); resubmitting its input as attempt %d of %d",
                            job.job_name, job.message, gen + 1, self.max_generations)
                spec = dataclasses.replace(spec, generation=gen + 1)
            elif job is not None:
                spec = dataclasses.replace(spec, generation=gen)
                found[spec.job_name] = job
                log.info("re-attached to %s", job.progress())
            out_specs.append(spec)
        return out_specs, found

    def run(self, specs: Sequence[JobSpec], *, wait: bool = True) -> list[BatchJob]:
        """Submit (or re-attach to) every spec; with ``wait``, return when all are terminal.

        Without ``wait``, submits what fits under ``max_concurrent`` and returns the jobs that
        exist; the rest are submitted by a later run.
        """
        specs, jobs = self.attach_existing(specs)
        queue = [s for s in specs if s.job_name not in jobs]
        if not wait:
            self._submit(queue, jobs)
        else:
            self._drive(jobs, queue)
        return [jobs[s.job_name] for s in specs if s.job_name in jobs]

    def wait(self, identifiers: Iterable[str]) -> list[BatchJob]:
        """Wait for existing jobs (by ARN or id) to reach a terminal status."""
        jobs: dict[str, BatchJob] = {}
        for identifier in identifiers:
            self.api_calls += 1
            job = self.client.get_job(identifier)
            jobs[job.job_arn] = job
        self._drive(jobs, [])
        return list(jobs.values())

    def _drive(self, jobs: dict[str, BatchJob], queue: list[JobSpec]) -> None:
        start, attempt, last_log = self.clock(), 0, self.clock()
        self._rate_origin = None
        while True:
            submitted = self._submit(queue, jobs)
            before = {name: j.status for name, j in jobs.items()}
            changed = self._refresh(jobs) or submitted
            if not queue and all(j.status.is_terminal for j in jobs.values()):
                return
            moved = submitted or any(jobs[n].status != s for n, s in before.items())
            if moved or self.clock() - last_log >= self.poll.log_every_s:
                self._log_progress(jobs, len(queue), start)
                last_log = self.clock()
            self._check_timeout(start, jobs, len(queue))
            attempt = 0 if changed else attempt + 1
            self.sleep(self.poll.delay(attempt, self.rng))

    def _submit(self, queue: list[JobSpec], jobs: dict[str, BatchJob]) -> bool:
        submitted = False
        while queue and sum(not j.status.is_terminal for j in jobs.values()) < self.max_concurrent:
            spec = queue[0]
            try:
                self.api_calls += 1
                arn = self.client.create_job(spec)
            except (QuotaExceededError, ThrottledError) as err:
                log.warning("waiting to submit %s: %s", spec.job_name, err)
                return submitted
            self.api_calls += 1
            jobs[spec.job_name] = self.client.get_job(arn)
            log.info("submitted %s from %s", jobs[spec.job_name].progress(), spec.input_s3_uri)
            queue.pop(0)
            submitted = True
        return submitted

    def _refresh(self, jobs: dict[str, BatchJob]) -> bool:
        changed = False
        for name, job in list(jobs.items()):
            if job.status.is_terminal:
                continue
            self.api_calls += 1
            fresh = self.client.get_job(job.job_arn)
            if (fresh.status, fresh.processed_record_count) != (job.status, job.processed_record_count):
                changed = True
                if fresh.status.is_terminal:
                    log.log(logging.WARNING if fresh.status != JobStatus.COMPLETED else logging.INFO,
                            "finished %s%s", fresh.progress(), f": {fresh.message}" if fresh.message else "")
            jobs[name] = fresh
        return changed

    def _log_progress(self, jobs: Mapping[str, BatchJob], queued: int, start: float) -> None:
        running = [j for j in jobs.values() if not j.status.is_terminal]
        done = sum(j.processed_record_count or 0 for j in jobs.values())
        total = sum(j.total_record_count or 0 for j in jobs.values())
        log.info("batch progress after %s: %d running, %d finished, %d queued; %d/%d records processed%s%s",
                 duration(self.clock() - start), len(running), len(jobs) - len(running), queued, done, total,
                 self._time_left(done, total), "".join(f"\n  {j.progress()}" for j in running))

    def _time_left(self, done: int, total: int) -> str:
        """``; about 4m left at 120 records/s``, from the records processed since processing began."""
        now = self.clock()
        if self._rate_origin is None:
            if done > 0:
                self._rate_origin = (now, done)
            return ""
        since, base = self._rate_origin
        if done <= base or now <= since or total <= done:
            return ""
        rate = (done - base) / (now - since)
        return f"; about {duration((total - done) / rate)} left at {rate:,.1f} records/s"

    def _check_timeout(self, start: float, jobs: Mapping[str, BatchJob], queued: int) -> None:
        if self.timeout_s is not None and self.clock() - start > self.timeout_s:
            running = [j.progress() for j in jobs.values() if not j.status.is_terminal]
            raise JobTimeoutError(
                f"batch jobs still running after {self.timeout_s:.0f}s ({queued} not yet submitted): "
                f"{'; '.join(running)}. They keep running in Bedrock; re-run to re-attach, "
                "raise job_timeout_s, or stop them with `bedrock-ext jobs stop`.", dict(jobs))
