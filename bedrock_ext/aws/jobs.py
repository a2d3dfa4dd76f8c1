"""Bedrock batch jobs: typed job state, a thin client wrapper, and the crash-safe JobRunner.

Identity is deterministic: a job's name and clientRequestToken derive from the hash of its
records and its input location, so a re-run (after a crash, a kill, or in a later `dbt build`)
finds the job it created before (ListModelInvocationJobs by name) and re-attaches instead of
submitting a duplicate, and two projects of one account (dev and prod) that send the same
records from their own prefixes never share a job. Jobs named by an older version (the records'
hash alone) are re-attached when their input location is this spec's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_ext.aws.client import ClientError, error_code, error_message
from bedrock_ext.errors import (
    BedrockRequestError,
    JobNotFoundError,
    JobTimeoutError,
    QuotaExceededError,
    ThrottledError,
)

log = logging.getLogger("bedrock_ext.aws.jobs")


class JobStatus(enum.StrEnum):
    SUBMITTED = "Submitted"
    VALIDATING = "Validating"
    SCHEDULED = "Scheduled"
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    PARTIALLY_COMPLETED = "PartiallyCompleted"
    FAILED = "Failed"
    STOPPED = "Stopped"
    EXPIRED = "Expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED,
                       JobStatus.STOPPED, JobStatus.EXPIRED})


@dataclass(frozen=True, kw_only=True)
class BatchJob:
    """A GetModelInvocationJob response (or list summary), parsed once at the boundary."""

    job_arn: str
    job_name: str
    model_id: str
    status: JobStatus
    message: str | None
    submitted_at: dt.datetime
    ended_at: dt.datetime | None
    input_s3_uri: str
    output_s3_uri: str
    total_record_count: int | None
    processed_record_count: int | None
    success_record_count: int | None
    error_record_count: int | None
    kms_key_id: str | None = None
    timeout_hours: int | None = None
    uses_vpc: bool = False

    @property
    def job_id(self) -> str:
        return self.job_arn.rsplit("/", 1)[-1]

    @property
    def output_prefix_uri(self) -> str:
        """Where Bedrock writes this job's files: ``<output s3Uri>/<jobId>/``."""
        return self.output_s3_uri.rstrip("/") + f"/{self.job_id}/"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BatchJob:
        return cls(
            job_arn=data["jobArn"], job_name=data["jobName"], model_id=data["modelId"],
            status=JobStatus(data["status"]), message=data.get("message"),
            submitted_at=data["submitTime"], ended_at=data.get("endTime"),
            input_s3_uri=data["inputDataConfig"]["s3InputDataConfig"]["s3Uri"],
            output_s3_uri=data["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"],
            total_record_count=data.get("totalRecordCount"),
            processed_record_count=data.get("processedRecordCount"),
            success_record_count=data.get("successRecordCount"),
            error_record_count=data.get("errorRecordCount"),
            kms_key_id=data["outputDataConfig"]["s3OutputDataConfig"].get("s3EncryptionKeyId"),
            timeout_hours=data.get("timeoutDurationInHours"),
            uses_vpc=bool(data.get("vpcConfig")),
        )

    def progress(self) -> str:
        done, total = self.processed_record_count, self.total_record_count
        counts = f" {done or 0}/{total} records" if total else ""
        return f"{self.job_name} [{self.job_id}] {self.status.value}{counts}"


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """What to submit for one shard; name and token are derived from the shard's content hash."""

    job_key: str
    input_s3_uri: str
    output_s3_uri: str
    model_id: str
    role_arn: str
    name_prefix: str = "bedrock-ext"
    timeout_hours: int | None = None
    kms_key_id: str | None = None  # encrypts the job's output (s3EncryptionKeyId)
    tags: tuple[tuple[str, str], ...] = ()
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    generation: int = 1  # 2, 3, ... when the same input is resubmitted after a Failed job
    invocation_type: str = "InvokeModel"  # modelInvocationType: the records' body shape (or Converse)

    legacy: bool = False  # named as before 0.5 (the records' hash alone): a job an older version submitted

    @property
    def identity(self) -> str:
        """The hash a job's name and token derive from: its records' and its input location's."""
        if self.legacy:
            return self.job_key
        return hashlib.sha256(f"{self.job_key}\x1f{self.input_s3_uri}".encode()).hexdigest()[:32]

    @property
    def base_name(self) -> str:
        return f"{self.name_prefix}-{self.identity[:24]}"

    @property
    def legacy_base_name(self) -> str:
        return f"{self.name_prefix}-{self.job_key[:24]}"

    @property
    def job_name(self) -> str:
        return self.base_name if self.generation == 1 else f"{self.base_name}-g{self.generation}"

    @property
    def client_request_token(self) -> str:
        suffix = "" if self.generation == 1 else f"-g{self.generation}"
        return f"{self.name_prefix}-{self.identity}{suffix}"[:256]


def _same_input(job: BatchJob, spec: JobSpec) -> bool:
    """A listed job is this spec's only when it reads the spec's input (another project of the
    account may have sent the same records from its own prefix)."""
    return not job.input_s3_uri or job.input_s3_uri.rstrip("/") == spec.input_s3_uri.rstrip("/")


def split_generation(job_name: str) -> tuple[str, int]:
    """(generation-1 name, generation) of a job name: ``name-g2`` -> (``name``, 2), ``name`` -> 1."""
    match = re.fullmatch(r"(.*)-g(\d+)", job_name)
    return (match.group(1), int(match.group(2))) if match else (job_name, 1)


class BedrockBatchClient:
    """One method per API call over an injected boto3 `bedrock` client; errors mapped to ours."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def create_job(self, spec: JobSpec) -> str:
        params: dict[str, Any] = {
            "jobName": spec.job_name, "roleArn": spec.role_arn, "modelId": spec.model_id,
            "clientRequestToken": spec.client_request_token,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": spec.input_s3_uri, "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": spec.output_s3_uri}},
            "modelInvocationType": spec.invocation_type,
        }
        if spec.kms_key_id:
            params["outputDataConfig"]["s3OutputDataConfig"]["s3EncryptionKeyId"] = spec.kms_key_id
        if spec.timeout_hours:
            params["timeoutDurationInHours"] = spec.timeout_hours
        if spec.tags:
            params["tags"] = [{"key": k, "value": v} for k, v in spec.tags]
        if spec.subnet_ids:
            params["vpcConfig"] = {"subnetIds": list(spec.subnet_ids),
                                   "securityGroupIds": list(spec.security_group_ids)}
        return str(self._call("create_model_invocation_job", **params)["jobArn"])

    def get_job(self, identifier: str) -> BatchJob:
        return BatchJob.from_api(self._call("get_model_invocation_job", jobIdentifier=identifier))

    def list_jobs(self, *, name_contains: str | None = None, status: JobStatus | None = None) -> list[BatchJob]:
        params: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
        if name_contains:
            params["nameContains"] = name_contains
        if status:
            params["statusEquals"] = status.value
        try:
            pages = self._client.get_paginator("list_model_invocation_jobs").paginate(**params)
            return [BatchJob.from_api(s) for page in pages for s in page["invocationJobSummaries"]]
        except ClientError as err:
            raise _translate(err, "ListModelInvocationJobs") from None

    def stop_job(self, identifier: str) -> None:
        self._call("stop_model_invocation_job", jobIdentifier=identifier)

    def _call(self, method: str, **params: Any) -> Mapping[str, Any]:
        try:
            result: Mapping[str, Any] = getattr(self._client, method)(**params)
        except ClientError as err:
            raise _translate(err, method) from None
        return result


def _translate(err: ClientError, operation: str) -> BedrockRequestError:
    code, message = error_code(err), error_message(err)
    text = f"{getattr(err, 'operation_name', operation)} failed with {code}: {message}"
    if code == "ThrottlingException":
        return ThrottledError(f"{text} (botocore already retried; lower max_concurrent_jobs or retry later)")
    if code == "ServiceQuotaExceededException":
        return QuotaExceededError(text)
    if code == "ResourceNotFoundException":
        return JobNotFoundError(text)
    if code == "AccessDeniedException":
        return BedrockRequestError(f"{text}. Check the IAM permissions listed in the README.")
    return BedrockRequestError(text)


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
                if mine is not None and _same_input(job, mine) and gen > newest.get(mine.job_key, (0, job))[0]:
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
