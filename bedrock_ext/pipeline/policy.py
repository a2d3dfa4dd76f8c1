"""The build policy of ``bedrock_batch_input``: which requests go out now, and how.

Per task, one after the other (the budget is the whole build's): the requests never exported and
the retries due are planned; below ``min_records_per_job`` they are deferred, refused
(``small_batch_policy: fail``) or sent on-demand (``on_demand``, or retries overdue by
``retry_max_wait_hours``); otherwise they are written as batch job inputs. The budget guard runs
before anything is paid, and S3 records each export before any job exists (``prefix``).
Everything here reads one parsed ``BatchConfig``; the dbt side (``warehouse.glue``) only
translates dbt's arguments.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from bedrock_ext.aws import runtime
from bedrock_ext.aws.on_demand import run_on_demand
from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline import prefix
from bedrock_ext.pipeline.config import BatchConfig
from bedrock_ext.pipeline.estimate import NO_HISTORY, Estimate, History, check_budget, read_history
from bedrock_ext.pipeline.export import PLAN, ROWS_SCHEMA, SqlExport, create_rows_table
from bedrock_ext.pipeline.judging import judge_requests_sql
from bedrock_ext.request.evaluation import split_task_name
from bedrock_ext.request.pricing import price_of
from bedrock_ext.request.record_sql import literal

log = logging.getLogger("bedrock_ext.dbt")

RECOVERED = "bedrock_ext_recovered_exports"
PENDING = "bedrock_ext_pending_requests"  # one task's pending requests, without their text
PENDING_TEXT = "bedrock_ext_pending_texts"  # the same with their text (read twice: the plan and the files)
OUTPUT = "bedrock_ext_batch_input_rows"  # the model's new rows (DuckDB's temp table, returned as a relation)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Relations:
    """What the policy reads, as FROM clauses: ``requests`` (int_bedrock_requests), ``inputs``
    (stg_bedrock_ext__input_rows: the text of the requests sent), ``exported`` (bedrock_batch_input
    so far; None on the first build) and ``previous`` (fct_bedrock_results as the previous build
    left it; None before there is one)."""

    requests: str
    inputs: str
    exported: str | None
    previous: str | None
    evaluated: str | None = None  # fct_bedrock_evaluation_rows as the previous build left it


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Build:
    session: Any
    config: BatchConfig
    rt: runtime.Runtime
    held: prefix.Prefix  # the project's S3 prefix, held by this build
    exported: str | None  # bedrock_batch_input so far, with the exports read back from S3


def export_pending(session: Any, config: BatchConfig, relations: Relations) -> Any:
    """bedrock_batch_input's new rows, as a DuckDB relation over a temp table (dbt-duckdb
    materializes it on the same connection; nothing per request is held in Python): every task's
    pending requests exported, sent on-demand, deferred or skipped; the exports S3 holds and the
    warehouse lacked, read back first."""
    rt = runtime.current()
    # Held until bedrock_batch_jobs has submitted (and awaited) the jobs: submission releases it.
    held = prefix.hold(rt, config.s3_bucket, config.s3_prefix, config.output_kms_key_id)
    recovered = held.sync(session, relations.exported, ROWS_SCHEMA)
    build = _Build(session=session, config=config, rt=rt, held=held,
                   exported=_with_recovered(session, relations.exported, recovered))
    create_rows_table(session, OUTPUT)
    spent = 0.0
    try:
        if recovered is not None:
            session.execute(f"insert into {OUTPUT} by name select * from {RECOVERED}_rows")
        for export, history in _pending_exports(build, relations):  # one at a time: the budget is the build's
            remaining = None if config.bedrock_budget_usd is None else config.bedrock_budget_usd - spent
            spent += _export_and_close(build, export, remaining, history)
    finally:
        for table in (PENDING, PENDING_TEXT):
            session.execute(f"drop table if exists {table}")
        if recovered is not None:
            session.execute(f"drop view if exists {RECOVERED}")
            session.unregister(f"{RECOVERED}_rows")
    return session.sql(f"select * from {OUTPUT}")


def _pending_exports(build: _Build, relations: Relations) -> Iterator[tuple[SqlExport, History]]:
    """Each task's export (its candidates' too) with its history, then each judge's (the previous
    build's answered evaluation rows), built one at a time as the loop asks for them."""
    config = build.config
    for records in config.task_records.values():
        history = (NO_HISTORY if build.exported is None or relations.previous is None else
                   read_history(build.session, build.exported, relations.previous, records.task.name,
                                records.model_id))
        pending = _pending_sql(relations.requests, build.exported, relations.previous, config,
                               records.task.name)
        # The loop finishes one export before it asks for the next: the tasks share PENDING.
        yield SqlExport(build.session, _with_text(build.session, pending, relations.inputs, records.task.name),
                        records), history
    for records in config.judge_records.values() if relations.evaluated else ():
        evaluation = config.evaluations[split_task_name(records.task.name)[0]]
        requests = judge_requests_sql(relations.evaluated, build.exported, records, evaluation)
        yield SqlExport(build.session, requests, records), NO_HISTORY


def _export_and_close(build: _Build, export: SqlExport, budget_usd: float | None, history: History) -> float:
    try:
        return _export_task(build, export, budget_usd, history)
    finally:
        export.close()


def _pending_sql(requests: str, this: str | None, previous: str | None, config: BatchConfig,
                 task_name: str) -> str:
    """Requests to export now: never exported, due for a retry according to the previous build,
    or (with ``retry_failed``) failed for good in the previous build. Never a summarized one.

    A verdict counts only when the previous build judged the request's latest attempt (its
    attempt_count equals the exports so far): if a build failed before the marts were rebuilt,
    the stale verdict cannot trigger a second export of the same attempt.
    """
    select = "select r.request_key, r.input_row_id, r.input_id, r.request_fingerprint, r.content_hash"
    task_requests = f"(select * from {requests} where task_name = {literal(task_name)})"
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
    due = f"(select request_key, attempt_count from {previous} p where {retry})"
    attempts = (f"(select request_key, count(*) as attempts from {this} "
                f"where request_key in (select request_key from {due}) group by request_key)")
    return (f"{never} union all {select}, a.attempts + 1 as attempt_number from {task_requests} r "
            f"join {due} d using (request_key) join {attempts} a using (request_key) "
            "where d.attempt_count = a.attempts")



def _with_text(session: Any, pending: str, inputs: str, task_name: str) -> str:
    """The pending requests with their text, read from the input rows (int_bedrock_requests keeps
    no text) once into a temp table (the export reads it for its plan and again for its files,
    once per file when they are few; DuckDB spills it under its memory limit). Only when there
    are some: the input rows are a view, computed whole by any join. A row whose text changed since
    int_bedrock_requests keyed it (its hash differs) is not sent under the stale key: it stays
    pending, and the next build keys and sends it."""
    session.execute(f"create or replace temp table {PENDING} as {pending}")
    columns = "p.request_key, p.input_row_id, p.input_id, {text} as input_text, p.attempt_number"
    if not session.execute(f"select count(*) from {PENDING}").fetchone()[0]:  # type: ignore[index]
        return f"select {columns.format(text='null::varchar')} from {PENDING} p"
    session.execute(
        f"create or replace temp table {PENDING_TEXT} as select {columns.format(text='i.input_text')} "
        f"from {PENDING} p join (select * from {inputs} where task_name = {literal(task_name)}) i "
        "on i.input_row_id = p.input_row_id "
        "where hash(i.input_id, i.input_text, p.request_fingerprint) = p.content_hash")
    return f"select * from {PENDING_TEXT}"


def _with_recovered(session: Any, this: str | None, recovered: pa.Table | None) -> str | None:
    """``this`` (bedrock_batch_input so far) with the exports read back from S3, as one relation
    name: what counts as exported for this build."""
    if recovered is None:
        return this
    session.register(f"{RECOVERED}_rows", recovered)
    union = f"select * from {RECOVERED}_rows"
    if this is not None:
        union = f"select {', '.join(ROWS_SCHEMA.names)} from {this} union all {union}"
    session.execute(f"create or replace temp view {RECOVERED} as {union}")
    return RECOVERED


def _export_task(build: _Build, export: SqlExport, budget_usd: float | None, history: History) -> float:
    """One task's requests: planned, checked against the budget left, then written as batch jobs,
    sent on-demand, or deferred. Adds bedrock_batch_input's rows to OUTPUT; returns the estimated
    cost."""
    settings, config = export.settings, build.config
    estimate = export.plan(price_of(settings.entry, settings.endpoint_scope), history)
    log.info("task %s: to export: %s", settings.task.name, estimate.describe())
    if estimate.records == 0:
        _add_rows(build, export, [], "batch")
        return 0.0
    if estimate.records < config.min_records_per_job:
        overdue = _overdue_retries(build.session, build.exported, config) if build.exported else 0
        if config.small_batch_policy != "on_demand" and not overdue:
            _small_batch(config, estimate.records)
            _add_rows(build, export, [], "batch")  # the skipped ones only; the rest stay pending
            return 0.0
        if overdue:
            log.warning("%d retries have waited more than retry_max_wait_hours (%g) for new records to "
                        "reach min_records_per_job (%d): the %d pending records go on-demand (the runtime API, "
                        "at the on-demand price)", overdue, config.retry_max_wait_hours,
                        config.min_records_per_job, estimate.records)
        priced = _on_demand_priced(estimate)
        check_budget(priced, budget_usd, config.budget_basis)
        key = export.assign_one_job()
        uri = run_on_demand(export.prepared(), key=key, runtime=build.rt.aws.client("bedrock-runtime"),
                            s3=build.held.s3, bucket=config.s3_bucket, prefix=config.s3_prefix,
                            model_id=settings.model_id, invocation_type=settings.invocation_type)
        _add_rows(build, export, [(key, uri)], "on_demand")
        return priced.basis(config.budget_basis).batch_usd
    check_budget(estimate, budget_usd, config.budget_basis)
    jobs = export.write(s3=build.held.s3, bucket=config.s3_bucket, prefix=config.s3_prefix,
                        quotas=config.quotas)
    log.info("task %s: exported %d records in %d job(s); %s", settings.task.name, estimate.records, len(jobs),
             "nothing uploaded (already in S3)" if not any(j.uploaded for j in jobs) else "uploaded")
    # Recorded in S3 before any job exists: a lost warehouse reads it back instead of paying again.
    _add_rows(build, export, [(j.job_key, j.input_s3_uri) for j in jobs], "batch")
    return estimate.basis(config.budget_basis).batch_usd


def _overdue_retries(session: Any, this: str, config: BatchConfig) -> int:
    """Retries in the export's plan (the pending requests, already judged) whose last export is
    older than ``retry_max_wait_hours``."""
    seconds = float(config.retry_max_wait_hours) * 3600
    row = session.execute(
        f"select count(*) from {PLAN} p join (select request_key, max(exported_at) as "
        f"last_exported_at from {this} group by request_key) t using (request_key) "
        f"where p.attempt_number > 1 and t.last_exported_at <= now() - to_microseconds({int(seconds * 1e6)})"
    ).fetchone()
    return int(row[0]) if row else 0


def _add_rows(build: _Build, export: SqlExport, jobs: list[tuple[str, str]], mode: str) -> None:
    """The export's rows added to OUTPUT, and those of its jobs (sent, or about to be) recorded in S3."""
    export.insert_rows(OUTPUT, jobs, mode)
    if jobs:
        keys = ", ".join(literal(key) for key, _ in jobs)
        build.held.record(build.session, f"(select * from {OUTPUT} where job_key in ({keys}))")


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
