"""What the report shows, read from the published marts with plain SQL (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

# The kind of wait in a pending_reason, without its job id or details.
_PENDING_KIND = "^(waiting for batch job|retry after [a-z_0-9]+|[a-z ,]+)"


@dataclass(frozen=True, kw_only=True)
class Field:
    """One declared answer field and how to chart it: enum (bars by group), number (histogram),
    string (samples) or string_list (top items)."""

    name: str
    kind: str
    group_by: str | None = None


# The call-center task's answer fields (until tasks are declared in yml, they are listed here).
CALL_CENTER_FIELDS = (
    Field(name="intent", kind="enum", group_by="queue_name"),
    Field(name="sentiment", kind="enum", group_by="queue_name"),
    Field(name="resolution", kind="enum", group_by="queue_name"),
    Field(name="action_items", kind="string_list"),
    Field(name="summary", kind="string"),
)


@dataclass(frozen=True, kw_only=True)
class ReportData:
    generated_at: dt.datetime
    status_counts: list[tuple[str, str, int]]  # status, reason, rows
    fields: list[tuple[Field, Any]]
    failures_by_code: list[tuple[str, int]]
    resolution_rate_by_queue: list[tuple[str, float]]
    tokens_per_row: list[float]
    jobs: list[dict[str, Any]]
    totals: dict[str, Any]
    is_local_emulator: bool


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _field(con: duckdb.DuckDBPyConnection, table: str, field: Field) -> Any:
    summarized = f"from {table} where summary_status = 'summarized'"
    if field.kind == "enum":
        group = field.group_by or "'all'"
        return _rows(
            con,
            f"select coalesce({group}::varchar, '(none)'), {field.name}, count(*) {summarized} "
            f"group by all order by 1, 2",
        )
    if field.kind == "number":
        return [
            float(v) for (v,) in _rows(con, f"select {field.name} {summarized} and {field.name} is not null")
        ]
    if field.kind == "string_list":
        return _rows(
            con,
            f"select lower(trim(item)) as item, count(*) from (select unnest({field.name}) as item "
            f"{summarized}) group by 1 order by 2 desc, 1 limit 12",
        )
    return [
        v for (v,) in _rows(con, f"select {field.name} {summarized} order by hash(transcript_row_id) limit 8")
    ]


def load(
    path: str, fields: tuple[Field, ...] = CALL_CENTER_FIELDS, table: str = "fct_call_summaries"
) -> ReportData:
    with duckdb.connect(path, read_only=True) as con:
        status = _rows(
            con,
            f"""
            select summary_status, coalesce(split_part(skip_reason, ':', 1), failure_code,
                   regexp_extract(pending_reason, '{_PENDING_KIND}'), ''),
                   count(*) from {table} group by all order by 1, 3 desc""",
        )
        failures = _rows(
            con,
            f"select failure_code, count(*) from {table} where summary_status = 'failed' "
            "group by 1 order by 2 desc",
        )
        resolution = _rows(
            con,
            f"select queue_name, avg((resolution = 'resolved')::int) from {table} "
            "where summary_status = 'summarized' group by 1 order by 1",
        )
        tokens = [
            float(v)
            for (v,) in _rows(
                con, f"select input_tokens + output_tokens from {table} where input_tokens is not null"
            )
        ]
        jobs = con.execute("""
            select d.batch_job_id, d.job_name, d.job_status, d.submitted_at, d.ended_at,
                   d.processed_record_count, c.input_token_count, c.output_token_count, c.batch_cost_usd,
                   c.on_demand_cost_usd, c.savings_usd
            from dim_batch_jobs d left join fct_batch_job_costs c using (batch_job_id)
            order by d.submitted_at""").fetchall()
        names = (
            "batch_job_id",
            "job_name",
            "job_status",
            "submitted_at",
            "ended_at",
            "records",
            "input_tokens",
            "output_tokens",
            "batch_cost_usd",
            "on_demand_cost_usd",
            "savings_usd",
        )
        totals_row = con.execute(f"""
            select count(*), count(*) filter (summary_status = 'summarized'), sum(billed_cost_usd),
                   sum(on_demand_cost_usd), avg(input_tokens + output_tokens)
            from {table}""").fetchone() or (0, 0, None, None, None)
        local = bool(_rows(con, "select coalesce(bool_or(is_local_emulator), false) from dim_batch_jobs")[0][0])
        return ReportData(
            generated_at=dt.datetime.now(dt.UTC),
            status_counts=status,
            fields=[(f, _field(con, table, f)) for f in fields],
            failures_by_code=failures,
            resolution_rate_by_queue=[(q, float(r)) for q, r in resolution],
            tokens_per_row=tokens,
            jobs=[dict(zip(names, row, strict=True)) for row in jobs],
            totals=dict(
                zip(
                    ("rows", "summarized", "billed_usd", "on_demand_usd", "tokens_per_row"),
                    totals_row,
                    strict=True,
                )
            ),
            is_local_emulator=local,
        )
