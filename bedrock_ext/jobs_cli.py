"""`bedrock-ext jobs ...` and `bedrock-ext estimate`: inspect, wait for, stop and price batch jobs."""

from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bedrock_ext.aws import AwsSettings, bedrock_client
from bedrock_ext.errors import ConfigError
from bedrock_ext.jobs import BatchJob, BedrockBatchClient, JobRunner, JobStatus, PollPolicy
from bedrock_ext.record_sql import literal, quoted, table_requests_sql
from bedrock_ext.records import RecordSettings


def _client(args: argparse.Namespace) -> BedrockBatchClient:
    settings = AwsSettings(region=args.region, endpoint_url=args.endpoint_url,
                           placeholder_credentials=is_loopback(args.endpoint_url))
    return BedrockBatchClient(bedrock_client(settings))


def is_loopback(endpoint_url: str | None) -> bool:
    """True for the local emulator's endpoint, which checks no credentials."""
    host = urlsplit(endpoint_url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _row(job: BatchJob) -> dict[str, object]:
    return {"job_id": job.job_id, "job_name": job.job_name, "status": job.status.value,
            "model_id": job.model_id, "submitted_at": job.submitted_at.isoformat(),
            "ended_at": job.ended_at.isoformat() if job.ended_at else None,
            "total_records": job.total_record_count, "processed_records": job.processed_record_count,
            "errors": job.error_record_count, "message": job.message, "output": job.output_prefix_uri}


def _print_jobs(jobs: list[BatchJob], as_json: bool) -> None:
    if as_json:
        print(json.dumps([_row(j) for j in jobs], indent=2))
        return
    for j in jobs:
        print(f"{j.job_id}  {j.status.value:<18} {j.processed_record_count or 0:>7}/"
              f"{j.total_record_count or 0:<7} {j.submitted_at:%Y-%m-%d %H:%M}  {j.job_name}"
              + (f"  ({j.message})" if j.message else ""))


def _cmd_list(args: argparse.Namespace) -> int:
    status = JobStatus(args.status) if args.status else None
    _print_jobs(_client(args).list_jobs(name_contains=args.name_contains, status=status), args.json)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    print(json.dumps(_row(_client(args).get_job(args.job)), indent=2))
    return 0


def _cmd_wait(args: argparse.Namespace) -> int:
    poll = PollPolicy(initial_s=args.poll_interval, max_s=max(60.0, args.poll_interval))
    runner = JobRunner(_client(args), poll=poll, timeout_s=args.timeout)
    jobs = runner.wait(args.job)
    _print_jobs(jobs, args.json)
    return 0 if all(j.status == JobStatus.COMPLETED for j in jobs) else 2


def _cmd_stop(args: argparse.Namespace) -> int:
    client = _client(args)
    for job in args.job:
        client.stop_job(job)
        print(f"stop requested for {job}; outputs of records already processed are kept")
    return 0


def _requests_sql(con: Any, source: str, args: argparse.Namespace, settings: RecordSettings) -> str:
    """The requests dbt would make of this relation: one per id (the latest by --order-column when
    the relation has it, as stg_call_center__transcripts does), blank text left to the plan."""
    columns = {c[0] for c in con.execute(f"describe select * from {source}").fetchall()}
    for flag, column in (("--id-column", args.id_column), ("--text-column", args.text_column)):
        if column not in columns:
            raise ConfigError(f"{flag} {column!r} is not a column of the input; "
                              f"it has: {', '.join(sorted(columns))}")
    latest = args.order_column if args.order_column in columns else None
    return table_requests_sql(source, settings, args.id_column, args.text_column, latest_by=latest)


def _cmd_estimate(args: argparse.Namespace) -> int:
    import duckdb

    from bedrock_ext.estimate import check_budget
    from bedrock_ext.export import SqlExport
    from bedrock_ext.pricing import price_for

    if bool(args.parquet) == bool(args.duckdb and args.table):
        raise ConfigError("give --parquet FILE, or --duckdb FILE --table NAME")
    if args.parquet and not glob.glob(args.parquet):
        raise ConfigError(f"--parquet {args.parquet!r}: no such file")
    if args.duckdb and not Path(args.duckdb).exists():
        raise ConfigError(f"--duckdb {args.duckdb!r}: no such file")
    settings = RecordSettings(model_id=args.model, max_tokens=args.max_tokens)  # the call-summary task
    price = price_for(args.model)
    with duckdb.connect(args.duckdb or ":memory:", read_only=bool(args.duckdb)) as con:
        source = f"read_parquet({literal(args.parquet)})" if args.parquet else quoted(args.table)
        export = SqlExport(con, _requests_sql(con, source, args, settings), settings)
        est = export.plan(price)
    print(est.describe())
    check_budget(est, args.budget_usd)
    return 0


def add_jobs_commands(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", default=os.environ.get("BEDROCK_EXT_ENDPOINT_URL"),
                        help="Bedrock endpoint (the local emulator's URL); default: real AWS")
    region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    common.add_argument("--region", default=region)
    common.add_argument("--json", action="store_true", help="JSON output")
    jobs = sub.add_parser("jobs", help="Inspect, wait for and stop Bedrock batch jobs.")
    cmds = jobs.add_subparsers(dest="jobs_command", required=True)
    p = cmds.add_parser("list", parents=[common], help="List batch jobs, newest first.")
    p.add_argument("--name-contains")
    p.add_argument("--status", choices=[s.value for s in JobStatus])
    p.set_defaults(handler=_cmd_list)
    p = cmds.add_parser("show", parents=[common], help="Show one job (ARN or 12-char id).")
    p.add_argument("job")
    p.set_defaults(handler=_cmd_show)
    p = cmds.add_parser("wait", parents=[common], help="Wait until jobs finish; exit 2 unless all Completed.")
    p.add_argument("job", nargs="+")
    p.add_argument("--poll-interval", type=float, default=10.0)
    p.add_argument("--timeout", type=float, default=None, help="seconds")
    p.set_defaults(handler=_cmd_wait)
    p = cmds.add_parser("stop", parents=[common], help="Stop running jobs.")
    p.add_argument("job", nargs="+")
    p.set_defaults(handler=_cmd_stop)

    est = sub.add_parser("estimate", help="Records, tokens and batch vs on-demand cost, before submitting.")
    est.add_argument("--parquet", help="a Parquet file of transcripts")
    est.add_argument("--duckdb", help="a DuckDB database file (with --table)")
    est.add_argument("--table", help="table name in --duckdb")
    est.add_argument("--id-column", default="call_id")
    est.add_argument("--text-column", default="transcript")
    est.add_argument("--order-column", default="started_at",
                     help="when an id repeats, the latest row by this column counts (as in the dbt build)")
    est.add_argument("--model", default="anthropic.claude-3-haiku-20240307-v1:0")
    est.add_argument("--max-tokens", type=int, default=512)
    est.add_argument("--budget-usd", type=float, default=None,
                     help="fail when the batch estimate is above this")
    est.set_defaults(handler=_cmd_estimate)
