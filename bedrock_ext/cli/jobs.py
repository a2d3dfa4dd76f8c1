"""`bedrock-ext jobs ...` and `bedrock-ext estimate`: inspect, wait for, stop and price batch jobs."""

from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bedrock_ext.aws.client import AwsSettings, bedrock_client
from bedrock_ext.aws.jobs import BatchJob, BedrockBatchClient, JobStatus
from bedrock_ext.aws.runner import JobRunner, PollPolicy
from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.estimate import NO_HISTORY, History, read_history
from bedrock_ext.request.catalog import Catalog, packaged
from bedrock_ext.request.record_sql import literal, quoted, table_requests_sql
from bedrock_ext.request.records import RecordSettings


def _client(args: argparse.Namespace) -> BedrockBatchClient:
    endpoint = args.endpoint_url
    if endpoint is None and args.project_dir is not None:
        endpoint = _project_emulator(Path(args.project_dir), args.target)
    settings = AwsSettings(region=args.region, endpoint_url=endpoint,
                           placeholder_credentials=is_loopback(endpoint))
    return BedrockBatchClient(bedrock_client(settings))


def _project_emulator(project_dir: Path, target: str | None) -> str:
    """The endpoint of a local project's emulator: its profiles.yml's target with the plugin in
    ``mode: local`` (``target``, else the first such), served from that target's state dir (the jobs
    its builds left) by an emulator this command starts and stops."""
    import yaml

    profiles = project_dir / "profiles.yml"
    if not profiles.exists():
        raise ConfigError(f"--project-dir {str(project_dir)!r} has no profiles.yml; give --endpoint-url "
                          "instead")
    outputs = {name: out for profile in (yaml.safe_load(profiles.read_text()) or {}).values()
               if isinstance(profile, dict) for name, out in (profile.get("outputs") or {}).items()}
    local = {name: plugin.get("config") or {} for name, out in outputs.items() if isinstance(out, dict)
             for plugin in out.get("plugins") or [] if plugin.get("module") == "bedrock_ext.plugin"
             and (plugin.get("config") or {}).get("mode", "local") == "local"}
    if not local or (target and target not in local):
        named = f" {target!r}" if target else ""
        raise ConfigError(f"{profiles} has no target{named} with the bedrock_ext plugin in mode: local (its "
                          f"targets with it: {', '.join(local) or 'none'}); for AWS, leave out --project-dir")
    config = local[target] if target else next(iter(local.values()))
    state_dir = project_dir / str(config.get("state_dir", "target/emulator"))
    if not state_dir.exists():
        raise ConfigError(f"{state_dir} does not exist: no local build has run in {project_dir} yet")
    import atexit

    from bedrock_ext.warehouse.plugin import local_emulator, shutdown_local_emulators

    atexit.register(shutdown_local_emulators)  # frees the state dir for the next build
    return str(local_emulator(state_dir, config.get("emulator")).endpoint_url)


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


def _requests_sql(con: Any, source: str, args: argparse.Namespace, settings: RecordSettings,
                  spec: dict[str, Any]) -> str:
    """The requests dbt would make of this relation with the task's id, text and order columns and
    its template's columns (--id-column, --text-column and --order-column name them where the
    relation calls them otherwise, e.g. a raw file before the project's staging renames them)."""
    columns = {c[0] for c in con.execute(f"describe select * from {source}").fetchall()}
    task_text = spec.get("text_column") or settings.task.placeholders[0]
    text_column = args.text_column or task_text
    id_column = args.id_column or spec.get("id_column")
    order = args.order_column or spec.get("order_by_column")
    placeholders = {name: (text_column if name == task_text else name) for name in settings.task.placeholders}
    wanted = [("id column (--id-column)", id_column), ("text column (--text-column)", text_column),
              *(("prompt column", c) for c in placeholders.values())]
    for what, column in wanted:
        if column not in columns:
            raise ConfigError(f"task {settings.task.name!r}'s {what} {column!r} is not a column of the input; "
                              f"it has: {', '.join(sorted(columns))}")
    latest = order if order in columns else None
    return table_requests_sql(source, settings, id_column, text_column, latest_by=latest, columns=placeholders)


def _task_from_project(args: argparse.Namespace) -> tuple[RecordSettings, dict[str, Any]]:
    """--task (or the project's only task) from --project-dir's dbt_project.yml (the var
    bedrock_ext_tasks, its one definition), with its request settings over the project's
    vars: bedrock_ext: and --model / --max-tokens."""
    from bedrock_ext.pipeline.config import record_settings
    from bedrock_ext.request.task import TASK_OVERRIDES, declared_task, project_vars

    project = Path(args.project_dir)
    variables = project_vars(project)
    name, spec = declared_task(project, variables, args.task)
    package = variables.get("bedrock_ext") or {}
    names = (*TASK_OVERRIDES, "overlong_policy")
    declared = _package_defaults(project)  # the package's own dbt_project.yml: each default's one place
    defaults = {k: declared.get(k) for k in names} | {k: package[k] for k in names if k in package}
    defaults |= {k: v for k, v in (("bedrock_model_id", args.model), ("max_tokens", args.max_tokens)) if v}
    catalog = _project_catalog(project, package)
    return record_settings(name, spec, defaults, catalog=catalog), spec


def _package_defaults(project: Path) -> dict[str, Any]:
    """The package's declared defaults (its dbt_project.yml vars): where `dbt deps` installed it in
    the project, else beside this library in a source checkout; none when neither is found."""
    from bedrock_ext.request.task import project_vars

    checkout = Path(__file__).resolve().parents[2] / "dbt_package"
    for folder in (project / "dbt_packages" / "bedrock_ext", checkout):
        if (folder / "dbt_project.yml").exists():
            return project_vars(folder)
    return {}


def _project_catalog(project_dir: Path, package_vars: dict[str, Any]) -> Catalog:
    """The packaged catalog with the project's own rows (the seed named by model_catalog_overrides)
    and application inference profiles: what dim_bedrock_models holds in a build."""
    import csv

    catalog = packaged().with_profiles(package_vars.get("application_inference_profiles") or {})
    name = package_vars.get("model_catalog_overrides")
    if not name:
        return catalog
    seed = project_dir / "seeds" / f"{name}.csv"
    if not seed.exists():
        raise ConfigError(f"model_catalog_overrides names {name!r}, but {seed} does not exist: the CLI reads "
                          "your catalog rows from that seed (a model of that name is only read by dbt)")
    with seed.open(newline="", encoding="utf-8") as f:
        return catalog.overridden(csv.DictReader(f))


def _cmd_estimate(args: argparse.Namespace) -> int:
    import duckdb

    from bedrock_ext.pipeline.estimate import check_budget
    from bedrock_ext.pipeline.export import SqlExport
    from bedrock_ext.request.pricing import price_of

    if bool(args.parquet) == bool(args.duckdb and args.table):
        raise ConfigError("give --parquet FILE, or --duckdb FILE --table NAME")
    if args.parquet and not glob.glob(args.parquet):
        raise ConfigError(f"--parquet {args.parquet!r}: no such file")
    if args.duckdb and not Path(args.duckdb).exists():
        raise ConfigError(f"--duckdb {args.duckdb!r}: no such file")
    settings, spec = _task_from_project(args)
    price = price_of(settings.entry, settings.endpoint_scope)
    with duckdb.connect(args.duckdb or ":memory:", read_only=bool(args.duckdb)) as con:
        source = f"read_parquet({literal(args.parquet)})" if args.parquet else quoted(args.table)
        export = SqlExport(con, _requests_sql(con, source, args, settings, spec), settings)
        est = export.plan(price, _warehouse_history(con, settings))
    print(est.describe())
    check_budget(est, args.budget_usd)
    return 0


def _warehouse_history(con: Any, settings: RecordSettings) -> History:
    """The task's history where --duckdb is (or holds) its warehouse: the package's
    bedrock_batch_input and fct_bedrock_results, in whichever schema they are; else none."""
    found = dict(con.execute(
        "select table_name, any_value(table_catalog || '.' || table_schema) from information_schema.tables "
        "where table_name in ('bedrock_batch_input', 'fct_bedrock_results') group by 1").fetchall())
    if len(found) < 2:
        return NO_HISTORY
    exports, results = (quoted(found[t]) + "." + quoted(t)
                        for t in ("bedrock_batch_input", "fct_bedrock_results"))
    return read_history(con, exports, results, settings.task.name, settings.model_id)


def add_jobs_commands(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", default=os.environ.get("BEDROCK_EXT_ENDPOINT_URL"),
                        help="Bedrock endpoint (the local emulator's URL); default: real AWS")
    region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    common.add_argument("--region", default=region)
    common.add_argument("--json", action="store_true", help="JSON output")
    common.add_argument("--project-dir", default=None,
                        help="a dbt project whose local target's emulator state to read (the jobs of its "
                             "local builds); no server needs to be started by hand")
    common.add_argument("--target", default=None,
                        help="with --project-dir: the profiles.yml target (mode: local)")
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
    est.add_argument("--id-column", help="the input's id column, where it is not the task's id_column")
    est.add_argument("--text-column", help="the input's text column, where it is not the task's text_column")
    est.add_argument("--order-column", help="the input's column for the task's order_by_column: when an id "
                                            "repeats, the latest row by it counts (as in the dbt build)")
    est.add_argument("--model", help="the model (default: the task's, else the project's bedrock_model_id)")
    est.add_argument("--project-dir", default=".", help="the dbt project that declares the task")
    est.add_argument("--task", help="a task of --project-dir's bedrock_ext_tasks (default: its only task)")
    est.add_argument("--max-tokens", type=int,
                     help="default: the task's, else the project's, else the package's")
    est.add_argument("--budget-usd", type=float, default=None,
                     help="fail when the batch estimate is above this")
    est.set_defaults(handler=_cmd_estimate)
