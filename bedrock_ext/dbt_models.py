"""The logic behind the Python dbt models; each model file is a thin call into this module.

- ``bedrock_batch_input``: export the summary requests not yet exported, as Bedrock JSONL in S3.
- ``bedrock_batch_jobs``: submit (or re-attach to) one job per exported shard and await them.
The settings they read are ``bedrock_ext.config.BatchConfig``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any

import pyarrow as pa

from bedrock_ext import locking, recovery, runtime
from bedrock_ext.aws import S3
from bedrock_ext.catalog import Catalog
from bedrock_ext.config import BatchConfig
from bedrock_ext.errors import ConfigError
from bedrock_ext.estimate import NO_HISTORY, Estimate, History, check_budget, read_history
from bedrock_ext.export import PLAN, SqlExport
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
from bedrock_ext.pricing import price_of
from bedrock_ext.record_sql import literal, quoted

log = logging.getLogger("bedrock_ext.dbt")

INPUT_SCHEMA = pa.schema([
    ("request_key", pa.string()), ("input_row_id", pa.string()), ("input_id", pa.string()),
    ("record_id", pa.string()), ("job_key", pa.string()), ("input_s3_uri", pa.string()),
    ("model_id", pa.string()), ("prompt_version", pa.string()), ("inference_mode", pa.string()),
    ("is_truncated", pa.bool_()),
    ("estimated_input_tokens", pa.int64()), ("attempt_number", pa.int64()), ("skip_reason", pa.string()),
    ("exported_at", pa.timestamp("us", tz="UTC")), ("task_name", pa.string()), ("invocation_type", pa.string()),
    ("expected_input_tokens", pa.float64()), ("expected_output_tokens", pa.float64()),
])
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
RESULTS_MART = "fct_bedrock_results"
TERMINAL_STATUSES = tuple(s.value for s in JobStatus if s.is_terminal)


def _from(relation: Any) -> str:
    """A FROM clause for a dbt ref (a DuckDB relation) or a relation name (``dbt.this``)."""
    if hasattr(relation, "sql_query"):
        return f"({relation.sql_query()})"
    return str(relation)


def _pending_sql(requests: Any, this: Any | None, previous: Any | None, config: BatchConfig,
                 task_name: str) -> str:
    """Requests to export now: never exported, due for a retry according to the previous build,
    or (with ``retry_failed``) failed for good in the previous build. Never a summarized one.

    A verdict counts only when the previous build judged the request's latest attempt (its
    attempt_count equals the exports so far): if a build failed before the marts were rebuilt,
    the stale verdict cannot trigger a second export of the same attempt.
    """
    select = "select r.request_key, r.input_row_id, r.input_id, r.input_text"
    task_requests = f"(select * from {_from(requests)} where task_name = {literal(task_name)})"
    if this is None:
        return f"{select}, 1 as attempt_number from {task_requests} r"
    # One anti-join finds the requests never exported; exports are counted only for the few
    # requests the previous build found due (not for every request on every build).
    never = f"{select}, 1 as attempt_number from {task_requests} r anti join {this} e using (request_key)"
    if previous is None:
        return never
    retry = f"p.is_retry_due and p.attempt_count < {int(config.max_attempts)}"
    if config.retry_failed:
        retry = f"({retry}) or p.status = 'failed'"
    due = f"(select request_key, attempt_count from {_from(previous)} p where {retry})"
    attempts = (f"(select request_key, count(*) as attempts from {this} "
                f"where request_key in (select request_key from {due}) group by request_key)")
    return (f"{never} union all {select}, a.attempts + 1 as attempt_number from {task_requests} r "
            f"join {due} d using (request_key) join {attempts} a using (request_key) "
            "where d.attempt_count = a.attempts")


def model_catalog(models: Any) -> Catalog:
    """The build's model catalog from dim_bedrock_models (the package's rows and the user's)."""
    return Catalog.from_rows(models.pl().to_dicts() if hasattr(models, "pl") else models)


def batch_input(session: Any, requests: Any, this: Any | None, previous: Any | None,
                settings: Any, models: Any = None) -> pa.Table:
    """Export the requests of ``int_bedrock_requests`` not exported yet, and the retries due.

    ``this`` is the model's own table on incremental runs (None on the first build);
    ``previous`` is fct_bedrock_results as the previous build left it (None before there is one;
    ``previous_results`` finds it); ``models`` is dim_bedrock_models (None: the packaged catalog).
    """
    config = BatchConfig.from_dbt(settings, None if models is None else model_catalog(models))
    rt = runtime.current()
    rt.check_scope(config.s3_bucket, config.s3_prefix)
    s3 = S3(rt.aws, kms_key_id=config.output_kms_key_id)
    if rt.is_local:
        _ensure_bucket(s3, config.s3_bucket)
    locking.acquire(rt.endpoint_label, config.s3_bucket, config.s3_prefix)  # released by batch_jobs
    recovered = recovery.sync(session, this, INPUT_SCHEMA, s3=s3, bucket=config.s3_bucket,
                              prefix=config.s3_prefix)
    exported = _with_recovered(session, this, recovered)
    tables, spent = [] if recovered is None else [recovered], 0.0
    try:
        for task_name in config.task_names:  # one after the other: the budget is the whole build's
            remaining = None if config.bedrock_budget_usd is None else config.bedrock_budget_usd - spent
            export = SqlExport(session, _pending_sql(requests, exported, previous, config, task_name),
                               config.records_for(task_name))
            try:
                history = (NO_HISTORY if exported is None or previous is None else
                           read_history(session, str(exported), _from(previous), export.settings.task.name,
                                        export.settings.model_id))
                table, cost = _export_task(session, export, exported, config, rt, s3, remaining, history)
            finally:
                export.close()
            tables.append(table)
            spent += cost
    finally:
        if recovered is not None:
            session.execute(f"drop view if exists {RECOVERED}")
            session.unregister(f"{RECOVERED}_rows")
    return pa.concat_tables(tables) if tables else INPUT_SCHEMA.empty_table()


RECOVERED = "bedrock_ext_recovered_exports"


def _with_recovered(session: Any, this: Any | None, recovered: pa.Table | None) -> Any | None:
    """``this`` (bedrock_batch_input so far) with the exports read back from S3, as one relation
    name: what counts as exported for this build."""
    if recovered is None:
        return this
    session.register(f"{RECOVERED}_rows", recovered)
    union = f"select * from {RECOVERED}_rows"
    if this is not None:
        union = f"select {', '.join(INPUT_SCHEMA.names)} from {this} union all {union}"
    session.execute(f"create or replace temp view {RECOVERED} as {union}")
    return RECOVERED


def _export_task(session: Any, export: SqlExport, this: Any | None, config: BatchConfig, rt: runtime.Runtime,
                 s3: S3, budget_usd: float | None, history: History) -> tuple[pa.Table, float]:
    """One task's requests: planned, checked against the budget left, then written as batch jobs,
    sent on-demand, or deferred. Returns bedrock_batch_input's rows and the estimated cost."""
    settings = export.settings
    estimate = export.plan(price_of(settings.entry, settings.endpoint_scope), history)
    log.info("task %s: to export: %s", settings.task.name, estimate.describe())
    if estimate.records == 0:
        return _table(export.rows([], "batch")), 0.0
    if estimate.records < config.min_records_per_job:
        overdue = _overdue_retries(session, this, config) if this is not None else 0
        if config.small_batch_policy != "on_demand" and not overdue:
            _small_batch(config, estimate.records)
            return _table(export.rows([], "batch")), 0.0  # the skipped ones only; the rest stay pending
        if overdue:
            log.warning("%d retries have waited more than retry_max_wait_hours (%g) for new records to "
                        "reach min_records_per_job (%d): the %d pending records go on-demand (the runtime API, "
                        "at the on-demand price)", overdue, config.retry_max_wait_hours,
                        config.min_records_per_job, estimate.records)
        priced = _on_demand_priced(estimate)
        check_budget(priced, budget_usd, config.budget_basis)
        key = export.assign_one_job()
        uri = run_on_demand(export.prepared(), key=key, runtime=rt.aws.client("bedrock-runtime"),
                            s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix,
                            model_id=settings.model_id, invocation_type=settings.invocation_type)
        rows = _table(export.rows([(key, uri)], "on_demand"))
        recovery.record(session, rows, s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix)
        return rows, priced.basis(config.budget_basis).batch_usd
    check_budget(estimate, budget_usd, config.budget_basis)
    jobs = export.write(s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix, quotas=config.quotas)
    log.info("task %s: exported %d records in %d job(s); %s", settings.task.name, estimate.records, len(jobs),
             "nothing uploaded (already in S3)" if not any(j.uploaded for j in jobs) else "uploaded")
    rows = _table(export.rows([(j.job_key, j.input_s3_uri) for j in jobs], "batch"))
    recovery.record(session, rows, s3=s3, bucket=config.s3_bucket, prefix=config.s3_prefix)  # before any job
    return rows, estimate.basis(config.budget_basis).batch_usd


def previous_results(session: Any, this: Any) -> str | None:
    """fct_bedrock_results as the previous build left it, beside this model (same database and
    schema, whatever the target's schema is), or None when there is none yet. A ref would be a
    cycle: the mart depends on this model."""
    database, schema = str(this.database), str(this.schema)
    found = session.execute(
        "select 1 from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_name = ?", [database, schema, RESULTS_MART]).fetchone()
    if found is None:
        log.info("no %s.%s yet: no retries are due (first build, or the marts were never built)",
                 schema, RESULTS_MART)
        return None
    return ".".join(quoted(part) for part in (database, schema, RESULTS_MART))


def _overdue_retries(session: Any, this: Any, config: BatchConfig) -> int:
    """Retries in the export's plan (the pending requests, already judged) whose last export is
    older than ``retry_max_wait_hours``."""
    seconds = float(config.retry_max_wait_hours) * 3600
    row = session.execute(
        f"select count(*) from {PLAN} p join (select request_key, max(exported_at) as "
        f"last_exported_at from {this} group by request_key) t using (request_key) "
        f"where p.attempt_number > 1 and t.last_exported_at <= now() - to_microseconds({int(seconds * 1e6)})"
    ).fetchone()
    return int(row[0]) if row else 0


def _table(rows: pa.Table) -> pa.Table:
    return rows.select(INPUT_SCHEMA.names).cast(INPUT_SCHEMA)


def _on_demand_priced(estimate: Estimate) -> Estimate:
    """The estimate at the on-demand price (no batch discount): what the on-demand path costs."""
    c, e = estimate.cost, estimate.expected
    return dataclasses.replace(estimate, cost=dataclasses.replace(c, batch_usd=c.on_demand_usd),
                               expected=e and dataclasses.replace(e, batch_usd=e.on_demand_usd))


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


def batch_jobs(session: Any, inputs: Any, this: Any | None, settings: Any, models: Any = None) -> pa.Table:
    """Submit or re-attach to one job per exported shard; await them unless ``wait`` is false."""
    config = BatchConfig.from_dbt(settings, None if models is None else model_catalog(models))
    rt = runtime.current()
    done = ""
    if this is not None:  # settled jobs are never polled again; a Failed one only after its last attempt
        statuses = ", ".join(f"'{s}'" for s in TERMINAL_STATUSES)
        generation = "coalesce(try_cast(regexp_extract(job_name, '-g(\\d+)$', 1) as integer), 1)"
        done = (f"and job_key not in (select job_key from {this} where job_status in ({statuses}) "
                f"and (job_status <> 'Failed' or {generation} >= {int(config.max_attempts)}))")
    rows = session.execute(
        f"select job_key, any_value(input_s3_uri), any_value(model_id), any_value(task_name), "
        f"coalesce(any_value(invocation_type), 'InvokeModel') from {_from(inputs)} "
        f"where job_key is not null and inference_mode = 'batch' {done} group by job_key order by job_key"
    ).fetchall()
    if not rows:
        locking.release(rt.endpoint_label, config.s3_bucket, config.s3_prefix)
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
    locking.release(rt.endpoint_label, config.s3_bucket, config.s3_prefix)
    _warn_failed(jobs, config.max_attempts)
    by_name = {s.base_name: s for s in specs}
    rows = [_job_row(by_name[split_generation(j.job_name)[0]], j, rt) for j in jobs]
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


def _job_row(spec: JobSpec, job: BatchJob, rt: runtime.Runtime) -> dict[str, Any]:
    return {"job_key": spec.job_key, "job_id": job.job_id, "job_arn": job.job_arn, "job_name": job.job_name,
            "model_id": job.model_id, "job_status": job.status.value, "status_message": job.message,
            "submitted_at": job.submitted_at, "ended_at": job.ended_at, "input_s3_uri": job.input_s3_uri,
            "output_s3_uri": job.output_prefix_uri, "total_record_count": job.total_record_count,
            "processed_record_count": job.processed_record_count,
            "success_record_count": job.success_record_count, "error_record_count": job.error_record_count,
            "endpoint": rt.endpoint_label, "is_local_emulator": rt.is_local,
            "checked_at": dt.datetime.now(dt.UTC), "output_kms_key_id": job.kms_key_id,
            "job_tags": json.dumps(dict(spec.tags), sort_keys=True), "is_in_vpc": job.uses_vpc,
            "job_timeout_hours": job.timeout_hours, "task_name": dict(spec.tags).get("bedrock-ext:task")}
