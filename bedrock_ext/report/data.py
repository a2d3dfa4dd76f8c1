"""What the report shows, read with plain SQL (read-only) from the published marts or the warehouse.

Everything is driven by the declared tasks (``dim_bedrock_tasks``): each task's answer schema
says how each field is charted (an enum as bars, an integer or number as a histogram, a boolean as
shares, a string as samples and lengths, an array of strings as top items), and its ``report``
settings add what is specific to it (a title, a column of its typed results model to group the
enum bars by, shares of a value per group). No task, table or field name is built in.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from bedrock_ext.errors import ConfigError
from bedrock_ext.report import evaluation

# The kind of wait in a pending_reason, without its job id or details.
_PENDING_KIND = "^(waiting for batch job|retry after [a-z_0-9]+|[a-z ,]+)"
RESULTS = "fct_bedrock_results"
REQUIRED = (RESULTS, "dim_bedrock_tasks", "dim_batch_jobs", "fct_batch_job_costs")


@dataclass(frozen=True, kw_only=True)
class Field:
    """One declared answer field and how to chart it: enum (bars by group), number (histogram),
    boolean (shares), string (samples and lengths) or string_list (top items)."""

    name: str
    kind: str
    group_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class Share:
    """The share of answers with ``field`` = ``value``, per group of the report's group_by."""

    label: str
    rows: list[tuple[str, float]]


@dataclass(frozen=True, kw_only=True)
class TaskSection:
    task_name: str
    title: str
    model_id: str
    status_counts: list[tuple[str, str, int]]  # status, reason, rows
    fields: list[tuple[Field, Any]]
    failures_by_code: list[tuple[str, int]]
    shares: list[Share]
    tokens_per_row: list[float]
    totals: dict[str, Any]
    evaluation: evaluation.Evaluation | None = None


@dataclass(frozen=True, kw_only=True)
class ReportData:
    generated_at: dt.datetime
    tasks: list[TaskSection]
    jobs: list[dict[str, Any]]
    is_local_emulator: bool
    notes: list[str] = field(default_factory=list)


def fields_of(schema: dict[str, Any], group_by: str | None = None) -> list[Field]:
    """How each property of an answer schema is charted, in declaration order."""
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        if "enum" in prop:
            chart = "enum"
        elif kind in ("integer", "number"):
            chart = "number"
        elif kind == "boolean":
            chart = "boolean"
        elif kind == "array":
            chart = "string_list"
        else:
            chart = "string"
        out.append(Field(name=name, kind=chart, group_by=group_by if chart in ("enum", "boolean") else None))
    return out


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or []).fetchall()


def _value(name: str) -> str:
    return f"json_extract_string(r.answer, '$.\"{name}\"')"


class _Task:
    """SQL over one task's answered rows, optionally joined to its typed results model for group_by."""

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str, report: dict[str, Any],
                 results_model: str | None, tables: set[str]) -> None:
        self.con, self.name, self.report = con, name, report
        group = report.get("group_by")
        key = report.get("key", "input_row_id")
        self.group_by = None
        joined = ""
        if group and results_model in tables:
            columns = {c for (c,) in _rows(con, "select column_name from information_schema.columns "
                                                "where table_name = ?", [results_model])}
            if group in columns and key in columns:
                joined = f'left join "{results_model}" m on m."{key}" = r.input_row_id'
                self.group_by = f'coalesce(m."{group}"::varchar, \'(none)\')'
        self.source = f"from {RESULTS} r {joined} where r.task_name = ?"
        self.answered = f"{self.source} and r.status = 'answered'"

    def q(self, sql: str) -> list[tuple[Any, ...]]:
        return _rows(self.con, sql, [self.name])

    def field(self, f: Field) -> Any:
        value = _value(f.name)
        group = self.group_by if f.group_by and self.group_by else "'all'"
        if f.kind in ("enum", "boolean"):
            return self.q(f"select {group}, coalesce({value}, '(missing)'), count(*) {self.answered} "
                          "group by all order by 1, 2")
        if f.kind == "number":
            return [float(v) for (v,) in self.q(f"select try_cast({value} as double) as v {self.answered} "
                                                f"and v is not null")]
        if f.kind == "string_list":
            return self.q(f"select lower(trim(item)) as item, count(*) from (select unnest(try_cast("
                          f"json_extract(r.answer, '$.\"{f.name}\"') as varchar[])) as item {self.answered}) "
                          "where item is not null group by 1 order by 2 desc, 1 limit 12")
        samples = [v for (v,) in self.q(f"select {value} {self.answered} and {value} is not null "
                                        "order by hash(r.input_row_id) limit 8")]
        lengths = [float(n) for (n,) in
                   self.q(f"select length({value}) {self.answered} and {value} is not null")]
        return {"samples": samples, "lengths": lengths}

    def shares(self) -> list[Share]:
        out = []
        for share in self.report.get("shares") or []:
            name, wanted = str(share.get("field")), str(share.get("value"))
            group = self.group_by or "'all'"
            rows = self.q(f"select {group}, avg(({_value(name)} = {_literal(wanted)})::int) {self.answered} "
                          "group by 1 order by 1")
            label = str(share.get("label") or f"{name} = {wanted}")
            out.append(Share(label=label, rows=[(str(g), float(r)) for g, r in rows]))
        return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _section(con: duckdb.DuckDBPyConnection, row: tuple[Any, ...], tables: set[str]) -> TaskSection:
    name, model_id, schema_json, results_model, report_json = row
    schema, report = json.loads(schema_json), json.loads(report_json or "{}") or {}
    task = _Task(con, name, report, results_model, tables)
    status = task.q(f"""select r.status, coalesce(split_part(r.skip_reason, ':', 1), r.failure_code,
                           regexp_extract(r.pending_reason, '{_PENDING_KIND}'), ''), count(*) {task.source}
                        group by all order by 1, 3 desc""")
    totals = task.q(f"""select count(*), count(*) filter (r.status = 'answered'), sum(r.billed_cost_usd),
                           sum(r.on_demand_cost_usd), avg(r.input_tokens + r.output_tokens) {task.source}""")[0]
    fields = fields_of(schema, group_by=report.get("group_by") if task.group_by else None)
    return TaskSection(
        task_name=name, title=str(report.get("title") or name), model_id=model_id, status_counts=status,
        fields=[(f, task.field(f)) for f in fields],
        failures_by_code=task.q(f"select r.failure_code, count(*) {task.source} and r.status = 'failed' "
                                "group by 1 order by 2 desc"),
        shares=task.shares(),
        tokens_per_row=[float(v) for (v,) in task.q(f"select r.input_tokens + r.output_tokens {task.source} "
                                                    "and r.input_tokens is not null")],
        totals=dict(zip(("rows", "answered", "billed_usd", "on_demand_usd", "tokens_per_row"), totals,
                        strict=True)),
        evaluation=evaluation.load(con, name, tables))


_JOB_COLUMNS = ("batch_job_id", "job_name", "job_status", "submitted_at", "ended_at", "records", "input_tokens",
                "output_tokens", "batch_cost_usd", "on_demand_cost_usd", "savings_usd")


def load(path: str) -> ReportData:
    """Everything the page shows, from a DuckDB file with the package's marts (the published BI
    file, or the warehouse when no build holds it)."""
    with duckdb.connect(path, read_only=True) as con:
        tables = {t for (t,) in _rows(con, "select table_name from information_schema.tables")}
        missing = [t for t in REQUIRED if t not in tables]
        if missing:
            raise ConfigError(f"{path} has no {', '.join(missing)}: give the file the bedrock_ext package's "
                              "marts are in (the published BI file, set by the package var bi_database_path, "
                              "or the warehouse file), after a dbt build with bedrock_ext 0.5 or later")
        tasks = _rows(con, "select task_name, model_id, answer_schema::varchar, results_model, report::varchar "
                           "from dim_bedrock_tasks order by task_name")
        jobs = _rows(con, """
            select d.batch_job_id, d.job_name, d.job_status, d.submitted_at, d.ended_at,
                   d.processed_record_count, c.input_token_count, c.output_token_count, c.batch_cost_usd,
                   c.on_demand_cost_usd, c.savings_usd
            from dim_batch_jobs d left join fct_batch_job_costs c using (batch_job_id)
            order by d.submitted_at""")
        local = bool(_rows(con, "select coalesce(bool_or(is_local_emulator), false) from dim_batch_jobs")[0][0])
        return ReportData(generated_at=dt.datetime.now(dt.UTC), tasks=[_section(con, t, tables) for t in tasks],
                          jobs=[dict(zip(_JOB_COLUMNS, j, strict=True)) for j in jobs], is_local_emulator=local)
