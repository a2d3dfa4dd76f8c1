"""The logic behind the Python dbt models; each model file is a thin call into this module.

- ``bedrock_batch_input``: export the summary requests not yet exported, as Bedrock JSONL in S3.
- ``bedrock_batch_jobs``: submit (or re-attach to) one job per exported shard and await them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, fields
from typing import Any

import pyarrow as pa

from bedrock_ext import runtime
from bedrock_ext.aws import S3
from bedrock_ext.errors import ConfigError, JobFailedError
from bedrock_ext.estimate import Estimate, check_budget
from bedrock_ext.export import SqlExport
from bedrock_ext.jobs import (
    BatchJob,
    BedrockBatchClient,
    JobRunner,
    JobSpec,
    JobStatus,
    PollPolicy,
    split_generation,
)
from bedrock_ext.on_demand import run_on_demand
from bedrock_ext.pricing import price_for
from bedrock_ext.records import RecordSettings
from bedrock_ext.sharding import Quotas

log = logging.getLogger("bedrock_ext.dbt")

INPUT_SCHEMA = pa.schema([
    ("request_key", pa.string()), ("transcript_row_id", pa.string()), ("call_id", pa.string()),
    ("record_id", pa.string()), ("job_key", pa.string()), ("input_s3_uri", pa.string()),
    ("model_id", pa.string()), ("prompt_version", pa.string()), ("inference_mode", pa.string()),
    ("is_truncated", pa.bool_()),
    ("estimated_input_tokens", pa.int64()), ("attempt_number", pa.int64()), ("skip_reason", pa.string()),
    ("exported_at", pa.timestamp("us", tz="UTC")),
])
JOBS_SCHEMA = pa.schema([
    ("job_key", pa.string()), ("job_id", pa.string()), ("job_arn", pa.string()), ("job_name", pa.string()),
    ("model_id", pa.string()), ("job_status", pa.string()), ("status_message", pa.string()),
    ("submitted_at", pa.timestamp("us", tz="UTC")), ("ended_at", pa.timestamp("us", tz="UTC")),
    ("input_s3_uri", pa.string()), ("output_s3_uri", pa.string()), ("total_record_count", pa.int64()),
    ("processed_record_count", pa.int64()), ("success_record_count", pa.int64()),
    ("error_record_count", pa.int64()), ("endpoint", pa.string()), ("is_local_emulator", pa.bool_()),
    ("checked_at", pa.timestamp("us", tz="UTC")),
])
TERMINAL_STATUSES = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")


@dataclass(frozen=True, kw_only=True)
class BatchConfig:
    """The dbt vars that drive a build (set as model config in dbt_project.yml)."""

    bedrock_model_id: str
    prompt_version: str
    max_tokens: int
    temperature: float
    s3_bucket: str
    s3_prefix: str
    role_arn: str
    wait: bool
    poll_interval_s: float
    job_timeout_s: float | None
    max_records_per_file: int
    max_records_per_job: int
    max_bytes_per_file: int
    max_bytes_per_job: int
    min_records_per_job: int
    max_concurrent_jobs: int
    max_attempts: int
    bedrock_budget_usd: float | None
    small_batch_policy: str
    overlong_policy: str

    @classmethod
    def from_dbt(cls, settings: Any) -> BatchConfig:
        """From the model's ``bedrock_ext`` config dict (set in models/batch/_batch__models.yml)."""
        if not isinstance(settings, dict):
            raise ConfigError("model config 'bedrock_ext' is missing: the batch models read their "
                              "settings from it (models/batch/_batch__models.yml)")
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = settings.get(f.name)
            if raw is None and f.name not in ("job_timeout_s", "bedrock_budget_usd"):
                raise ConfigError(f"dbt var/config {f.name!r} is not set; see README 'Configuration'")
            values[f.name] = _coerce(f.name, raw, str(f.type))
        config = cls(**values)
        if config.small_batch_policy not in ("defer", "fail", "on_demand"):
            raise ConfigError(f"small_batch_policy {config.small_batch_policy!r}: use defer, fail or on_demand")
        return config

    @property
    def quotas(self) -> Quotas:
        return Quotas(
            max_records_per_file=self.max_records_per_file, max_bytes_per_file=self.max_bytes_per_file,
            max_records_per_job=self.max_records_per_job, max_bytes_per_job=self.max_bytes_per_job,
            min_records_per_job=self.min_records_per_job)

    @property
    def records(self) -> RecordSettings:
        return RecordSettings(model_id=self.bedrock_model_id, prompt_version=self.prompt_version,
                              max_tokens=self.max_tokens, temperature=self.temperature,
                              overlong_policy=self.overlong_policy)  # type: ignore[arg-type]

    @property
    def output_s3_uri(self) -> str:
        return f"s3://{self.s3_bucket}/{self.s3_prefix.strip('/')}/output/"


def _coerce(name: str, raw: Any, type_name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        if type_name == "bool":
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes")
        if type_name == "int":
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"dbt var {name!r} must be a {type_name.split(' ')[0]}, got {raw!r}") from None
    return str(raw)


def _from(relation: Any) -> str:
    """A FROM clause for a dbt ref (a DuckDB relation) or a relation name (``dbt.this``)."""
    if hasattr(relation, "sql_query"):
        return f"({relation.sql_query()})"
    return str(relation)


def _pending_sql(requests: Any, this: Any | None, previous: Any | None, max_attempts: int) -> str:
    """Requests to export now: never exported, or due for a retry according to the previous build.

    A retry is due only when the previous build judged the request's latest attempt (its
    attempt_count equals the exports so far): if a build failed before the marts were rebuilt,
    the stale verdict cannot trigger a second export of the same attempt.
    """
    select = "select r.request_key, r.transcript_row_id, r.call_id, r.transcript_text"
    if this is None:
        return f"{select}, 1 as attempt_number from {_from(requests)} r"
    attempts = f"(select request_key, count(*) as attempts from {this} group by request_key)"
    sql = (f"{select}, coalesce(a.attempts, 0) + 1 as attempt_number from {_from(requests)} r "
           f"left join {attempts} a on a.request_key = r.request_key ")
    if previous is None:
        return sql + "where a.request_key is null"
    return sql + (
        f"left join {_from(previous)} p on p.request_key = r.request_key and p.is_retry_due "
        f"where a.request_key is null or (p.attempt_count = a.attempts and a.attempts < {int(max_attempts)})")


def batch_input(session: Any, requests: Any, this: Any | None, previous: Any | None,
                settings: Any) -> pa.Table:
    """Export the requests of ``int_summary_requests`` not exported yet, and the retries due.

    ``this`` is the model's own table on incremental runs (None on the first build);
    ``previous`` is fct_call_summaries as the previous build left it (None before there is one).
    """
    config = BatchConfig.from_dbt(settings)
    rt = runtime.current()
    s3 = S3(rt.aws)
    if rt.is_local:
        _ensure_bucket(s3, config.s3_bucket)
    export = SqlExport(session, _pending_sql(requests, this, previous, config.max_attempts), config.records)
    try:
        estimate = export.plan(price_for(config.bedrock_model_id))
        log.info("to export: %s", estimate.describe())
        if estimate.records == 0:
            return _table(export.rows([], "batch"))
        if estimate.records < config.min_records_per_job:
            if config.small_batch_policy != "on_demand":
                _small_batch(config, estimate.records)
                return _table(export.rows([], "batch"))  # the skipped ones only; the rest stay pending
            check_budget(_on_demand_priced(estimate, config), config.bedrock_budget_usd)
            key = export.assign_one_job()
            uri = run_on_demand(export.prepared(), key=key, runtime=rt.aws.client("bedrock-runtime"),
                                s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix,
                                model_id=config.bedrock_model_id)
            return _table(export.rows([(key, uri)], "on_demand"))
        check_budget(estimate, config.bedrock_budget_usd)
        jobs = export.write(s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix, quotas=config.quotas)
        log.info("exported %d records in %d job(s); %s", estimate.records, len(jobs),
                 "nothing uploaded (already in S3)" if not any(j.uploaded for j in jobs) else "uploaded")
        return _table(export.rows([(j.job_key, j.input_s3_uri) for j in jobs], "batch"))
    finally:
        export.close()


def _table(rows: pa.Table) -> pa.Table:
    return rows.select(INPUT_SCHEMA.names).cast(INPUT_SCHEMA)


def _on_demand_priced(estimate: Estimate, config: BatchConfig) -> Estimate:
    """The estimate at the on-demand price (no batch discount): what the on-demand path costs."""
    c = estimate.cost
    return dataclasses.replace(estimate, cost=dataclasses.replace(c, batch_usd=c.on_demand_usd))


def _small_batch(config: BatchConfig, n: int) -> None:
    message = (f"{n} new records are fewer than min_records_per_job ({config.min_records_per_job}), "
               "Bedrock's minimum for a batch job")
    if config.small_batch_policy == "fail":
        raise ConfigError(f"{message}. Set small_batch_policy: defer to wait for more transcripts, "
                          "or on_demand to summarize them now at the on-demand price.")
    log.warning("%s: deferred; they stay pending until enough accumulate", message)


def _ensure_bucket(s3: S3, bucket: str) -> None:
    """On the local emulator only: create the bucket the first time."""
    existing = {b["Name"] for b in s3.client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.client.create_bucket(Bucket=bucket)


def batch_jobs(session: Any, inputs: Any, this: Any | None, settings: Any) -> pa.Table:
    """Submit or re-attach to one job per exported shard; await them unless ``wait`` is false."""
    config = BatchConfig.from_dbt(settings)
    rt = runtime.current()
    done = ""
    if this is not None:
        statuses = ", ".join(f"'{s}'" for s in TERMINAL_STATUSES)
        done = f"and job_key not in (select job_key from {this} where job_status in ({statuses}))"
    rows = session.execute(
        f"select job_key, any_value(input_s3_uri), any_value(model_id) from {_from(inputs)} "
        f"where job_key is not null and inference_mode = 'batch' {done} group by job_key order by job_key"
    ).fetchall()
    if not rows:
        log.info("no batch jobs to submit or wait for")
        return JOBS_SCHEMA.empty_table()
    specs = [JobSpec(job_key=k, input_s3_uri=uri, output_s3_uri=config.output_s3_uri, model_id=model,
                     role_arn=config.role_arn) for k, uri, model in rows]
    poll = PollPolicy(initial_s=config.poll_interval_s, max_s=max(60.0, config.poll_interval_s))
    runner = JobRunner(BedrockBatchClient(rt.aws.client("bedrock")), max_concurrent=config.max_concurrent_jobs,
                       poll=poll, timeout_s=config.job_timeout_s, max_generations=config.max_attempts)
    jobs = runner.run(specs, wait=config.wait)
    _raise_for_failed(jobs, config.max_attempts)
    keys = {s.base_name: s.job_key for s in specs}
    rows = [_job_row(keys[split_generation(j.job_name)[0]], j, rt) for j in jobs]
    return pa.Table.from_pylist(rows, schema=JOBS_SCHEMA)


def _raise_for_failed(jobs: list[BatchJob], max_attempts: int) -> None:
    """A Failed job (bad input, role, quota) fails the model; its records stay pending."""
    failed = [j for j in jobs if j.status == JobStatus.FAILED]
    if failed:
        details = "; ".join(f"{j.job_name} [{j.job_id}]: {j.message or 'no message'}" for j in failed)
        raise JobFailedError(
            f"{len(failed)} Bedrock batch job(s) Failed: {details}. Their records stay pending. Fix the "
            "cause (the service role's S3 access and trust policy, the input files, the model's quotas), "
            f"then re-run dbt build: the input is resubmitted, up to {max_attempts} times.", failed)


def _job_row(job_key: str, job: BatchJob, rt: runtime.Runtime) -> dict[str, Any]:
    return {"job_key": job_key, "job_id": job.job_id, "job_arn": job.job_arn, "job_name": job.job_name,
            "model_id": job.model_id, "job_status": job.status.value, "status_message": job.message,
            "submitted_at": job.submitted_at, "ended_at": job.ended_at, "input_s3_uri": job.input_s3_uri,
            "output_s3_uri": job.output_prefix_uri, "total_record_count": job.total_record_count,
            "processed_record_count": job.processed_record_count,
            "success_record_count": job.success_record_count, "error_record_count": job.error_record_count,
            "endpoint": rt.endpoint_label, "is_local_emulator": rt.is_local,
            "checked_at": dt.datetime.now(dt.UTC)}
