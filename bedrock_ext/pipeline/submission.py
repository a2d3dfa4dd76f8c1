"""The submission policy of ``bedrock_batch_jobs``: one job per exported shard, submitted or
re-attached (``aws.runner.JobRunner``: by name and clientRequestToken, so a crash never pays twice),
awaited unless ``wait`` is false. A settled job is never polled again; a Failed one is resubmitted
until ``max_attempts``. A Failed job never blocks the others: the build warns and goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pyarrow as pa

from bedrock_ext.aws import runtime
from bedrock_ext.aws.jobs import BatchJob, BedrockBatchClient, JobSpec, JobStatus, split_generation
from bedrock_ext.aws.runner import JobRunner, PollPolicy
from bedrock_ext.pipeline import prefix
from bedrock_ext.pipeline.config import BatchConfig

log = logging.getLogger("bedrock_ext.dbt")

JOBS_SCHEMA = pa.schema([
    ("job_key", pa.string()), ("job_id", pa.string()), ("job_arn", pa.string()), ("job_name", pa.string()),
    ("model_id", pa.string()), ("job_status", pa.string()), ("status_message", pa.string()),
    ("submitted_at", pa.timestamp("us", tz="UTC")), ("ended_at", pa.timestamp("us", tz="UTC")),
    ("input_s3_uri", pa.string()), ("output_s3_uri", pa.string()), ("total_record_count", pa.int64()),
    ("processed_record_count", pa.int64()), ("success_record_count", pa.int64()),
    ("error_record_count", pa.int64()), ("endpoint", pa.string()), ("is_local_emulator", pa.bool_()),
    ("checked_at", pa.timestamp("us", tz="UTC")), ("output_kms_key_id", pa.string()), ("job_tags", pa.string()),
    ("is_in_vpc", pa.bool_()), ("job_timeout_hours", pa.int64()), ("task_name", pa.string()),
])
TERMINAL_STATUSES = tuple(s.value for s in JobStatus if s.is_terminal)


def submit_and_await(session: Any, config: BatchConfig, inputs: str, this: str | None) -> pa.Table:
    """bedrock_batch_jobs's rows: every job of ``inputs`` (bedrock_batch_input, a FROM clause) not
    settled in ``this`` (the model's table so far; None on the first build), submitted or
    re-attached, and awaited unless ``wait`` is false."""
    rt = runtime.current()
    done = ""
    if this is not None:  # settled jobs are never polled again; a Failed one only after its last attempt
        statuses = ", ".join(f"'{s}'" for s in TERMINAL_STATUSES)
        generation = "coalesce(try_cast(regexp_extract(job_name, '-g(\\d+)$', 1) as integer), 1)"
        done = (f"and job_key not in (select job_key from {this} where job_status in ({statuses}) "
                f"and (job_status <> 'Failed' or {generation} >= {int(config.max_attempts)}))")
    rows = session.execute(
        f"select job_key, any_value(input_s3_uri), any_value(model_id), any_value(task_name), "
        f"coalesce(any_value(invocation_type), 'InvokeModel') from {inputs} "
        f"where job_key is not null and inference_mode = 'batch' {done} group by job_key order by job_key"
    ).fetchall()
    if not rows:
        prefix.release(rt, config.s3_bucket, config.s3_prefix)
        log.info("no batch jobs to submit or wait for")
        return JOBS_SCHEMA.empty_table()
    specs = [JobSpec(job_key=k, input_s3_uri=uri, output_s3_uri=config.output_s3_uri, model_id=model,
                     role_arn=config.role_arn, kms_key_id=config.output_kms_key_id,
                     tags=config.tags_for(k, task or "unknown"), subnet_ids=config.vpc_subnet_ids,
                     security_group_ids=config.vpc_security_group_ids, timeout_hours=config.job_timeout_hours,
                     invocation_type=invocation) for k, uri, model, task, invocation in rows]
    poll = PollPolicy(initial_s=config.poll_interval_s, max_s=max(60.0, config.poll_interval_s))
    runner = JobRunner(BedrockBatchClient(rt.aws.client("bedrock")), max_concurrent=config.max_concurrent_jobs,
                       poll=poll, timeout_s=config.job_timeout_s, max_generations=config.max_attempts)
    jobs = runner.run(specs, wait=config.wait)
    prefix.release(rt, config.s3_bucket, config.s3_prefix)
    _warn_failed(jobs, config.max_attempts)
    by_name = {name: s for s in specs for name in (s.base_name, s.legacy_base_name)}  # older jobs: legacy names
    task_of = {k: task for k, _, _, task, _ in rows}
    specs_of = (by_name[split_generation(j.job_name)[0]] for j in jobs)
    rows = [_job_row(spec, j, rt, task_of[spec.job_key]) for spec, j in zip(specs_of, jobs, strict=True)]
    return pa.Table.from_pylist(rows, schema=JOBS_SCHEMA)


def _warn_failed(jobs: list[BatchJob], max_attempts: int) -> None:
    """A Failed job (bad input, role, quota) never blocks the other jobs' results: the build warns
    and goes on. Its records stay pending and the next build resubmits the input; after the last
    attempt they are failed in the marts with AWS's message."""
    for job in (j for j in jobs if j.status == JobStatus.FAILED):
        generation = split_generation(job.job_name)[1]
        then = (f"the next build resubmits it (attempt {generation + 1} of {max_attempts})"
                if generation < max_attempts else
                f"that was the last of {max_attempts} attempts: its records are failed in the marts")
        log.warning("Bedrock batch job %s [%s] Failed: %s. Fix the cause (the service role's S3 access and "
                    "trust policy, the input files, the model's quotas); %s.", job.job_name, job.job_id,
                    (job.message or "no message").rstrip("."), then)


def _job_row(spec: JobSpec, job: BatchJob, rt: runtime.Runtime, task_name: str | None) -> dict[str, Any]:
    return {"job_key": spec.job_key, "job_id": job.job_id, "job_arn": job.job_arn, "job_name": job.job_name,
            "model_id": job.model_id, "job_status": job.status.value, "status_message": job.message,
            "submitted_at": job.submitted_at, "ended_at": job.ended_at, "input_s3_uri": job.input_s3_uri,
            "output_s3_uri": job.output_prefix_uri, "total_record_count": job.total_record_count,
            "processed_record_count": job.processed_record_count,
            "success_record_count": job.success_record_count, "error_record_count": job.error_record_count,
            "endpoint": rt.endpoint_label, "is_local_emulator": rt.is_local,
            "checked_at": dt.datetime.now(dt.UTC), "output_kms_key_id": job.kms_key_id,
            "job_tags": json.dumps(dict(spec.tags), sort_keys=True), "is_in_vpc": job.uses_vpc,
            "job_timeout_hours": job.timeout_hours, "task_name": task_name}
