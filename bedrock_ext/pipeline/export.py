"""Export summary requests as Bedrock batch input files in S3, built and written by DuckDB.

Two passes over the requests, and no record goes through Python:

1. ``plan``: one query (``record_sql.records_sql``) judges every request (sent, or skipped with
   the reason), gives it its recordId, token estimate and position, into a narrow temp table
   without the text. This gives the pre-submit estimate before anything is written.
2. ``write``: the positions are cut into jobs and files (``export_files.PlanFiles``: by record
   counts; by measured line sizes when a file or job would be over a byte quota, rare: about
   20 KB per line on average); ``COPY`` encodes each text once (``record_sql.planned_lines_sql``)
   and writes every file to local disk (one COPY per file when there are at most four, else one
   partitioned COPY; FORMAT blob: the lines' bytes as they are), checked to hold every planned
   record. The files upload to
   ``<prefix>/input/<job key>/part-NNNNN.jsonl`` (boto3 multipart). The job key hashes the job's
   request keys and attempt numbers, so a re-run finds the files in S3 and writes nothing; a
   retry is a new job.

Memory: the plan and bedrock_batch_input's rows are DuckDB temp tables (about 200 bytes per
request each), which DuckDB keeps within its memory_limit, spilling to its temp_directory; the
COPY buffers a bounded number of lines per file. Nothing per request is held in Python. Local
disk holds the files of one export until they are uploaded.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from bedrock_ext.aws.client import S3
from bedrock_ext.errors import ExportError
from bedrock_ext.pipeline.estimate import DEFAULT_OUTPUT_SHARE, NO_HISTORY, Estimate, History
from bedrock_ext.pipeline.export_files import PlanFiles, within_byte_quotas
from bedrock_ext.pipeline.sharding import Quotas
from bedrock_ext.request.pricing import ModelPrice, cost
from bedrock_ext.request.record_sql import literal, planned_lines_sql, records_sql
from bedrock_ext.request.records import PreparedRecord, RecordSettings

log = logging.getLogger("bedrock_ext.pipeline.export")

PLAN, ROWS = "bedrock_ext_export_plan", "bedrock_ext_export_rows"
# bedrock_batch_input's columns: the rows each export adds (SqlExport.insert_rows).
ROWS_SCHEMA = pa.schema([
    ("request_key", pa.string()), ("input_row_id", pa.string()), ("input_id", pa.string()),
    ("record_id", pa.string()), ("job_key", pa.string()), ("input_s3_uri", pa.string()),
    ("model_id", pa.string()), ("prompt_version", pa.string()), ("inference_mode", pa.string()),
    ("is_truncated", pa.bool_()),
    ("estimated_input_tokens", pa.int64()), ("attempt_number", pa.int64()), ("skip_reason", pa.string()),
    ("exported_at", pa.timestamp("us", tz="UTC")), ("task_name", pa.string()), ("invocation_type", pa.string()),
    ("expected_input_tokens", pa.float64()), ("expected_output_tokens", pa.float64()),
])
@dataclass(frozen=True, kw_only=True)
class ExportedJob:
    """One job's input in S3."""

    job_key: str
    input_s3_uri: str
    record_count: int
    file_count: int
    estimated_input_tokens: int
    below_minimum: bool
    uploaded: bool  # False when the files were already in S3 (a re-run)


class SqlExport:
    """The export of one query's requests; ``plan`` first, then ``write`` or ``prepared``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, requests_sql: str, settings: RecordSettings) -> None:
        self.con, self.settings, self.requests_sql = con, settings, requests_sql
        self.records_sql = records_sql(requests_sql, settings)
        self.history, self.expected_output = NO_HISTORY, DEFAULT_OUTPUT_SHARE * settings.max_tokens

    def plan(self, price: ModelPrice, history: History = NO_HISTORY) -> Estimate:
        """Judge and measure every request (nothing written); the estimate of what it will cost:
        the upper bound, and the expected cost from ``history``."""
        self.con.execute(f"""
            create or replace temp table {PLAN} as
            select * exclude (line),
                case when skip_reason is null
                     then row_number() over (partition by skip_reason is null order by request_key) - 1
                end as position, null::INTEGER as job_number, null::INTEGER as file_number
            from ({self.records_sql})""")
        self._check_unique_keys()
        sent, truncated, tokens = self.con.execute(
            f"select count(position), count(*) filter (is_truncated), coalesce(sum(estimated_input_tokens), 0) "
            f"from {PLAN}").fetchone()  # type: ignore[misc]
        skipped = dict(self.con.execute(
            f"select split_part(skip_reason, ':', 1), count(*) from {PLAN} "
            "where skip_reason is not null group by all").fetchall())
        self.history = history
        limit = self.settings.max_tokens
        out = history.output_tokens_per_record if history.records else DEFAULT_OUTPUT_SHARE * limit
        self.expected_output = min(float(limit), out)
        expected_input = round(int(tokens) * history.input_ratio)
        expected = cost(price, expected_input, round(int(sent) * self.expected_output))
        return Estimate(records=int(sent), skipped=skipped, truncated=int(truncated),
                        cost=cost(price, int(tokens), int(sent) * self.settings.max_tokens), expected=expected,
                        history=history)

    def _check_unique_keys(self) -> None:
        """Two requests with one key would be one recordId twice in a file: Bedrock rejects that."""
        duplicate = self.con.execute(f"select request_key, count(*) from {PLAN} group by request_key "
                                     "having count(*) > 1 limit 1").fetchone()
        if duplicate:
            raise ExportError(f"request_key {duplicate[0]} appears {duplicate[1]} times in the requests to "
                              "export; each request must be one row (check int_bedrock_requests).")

    def prepared(self) -> list[PreparedRecord]:
        """The records to send, as Python objects (the on-demand path: fewer than a batch's minimum)."""
        rows = self.con.execute(
            f"select request_key, record_id, input_id, line, estimated_input_tokens, is_truncated, "
            f"attempt_number from ({self.records_sql}) where skip_reason is null order by request_key"
        ).fetchall()
        return [PreparedRecord(request_key=k, record_id=r, transcript_id=c, line=line, estimated_input_tokens=t,
                               is_truncated=cut, attempt=a) for k, r, c, line, t, cut, a in rows]

    def write(self, *, s3: S3, bucket: str, prefix: str, quotas: Quotas) -> list[ExportedJob]:
        """Shard under the quotas and write the files with one COPY; returns the jobs in order.
        A job whose last file is already in S3 was written by an earlier run and is skipped."""
        files_of = PlanFiles(self.con, PLAN, planned_lines_sql(self.requests_sql, PLAN, self.settings))
        files_of.assign_by_count(quotas)
        with tempfile.TemporaryDirectory(prefix="bedrock-ext-export-") as tmp:
            jobs, files = self._jobs(s3, bucket, prefix, quotas)
            written = files_of.write_local(files, Path(tmp))
            if not within_byte_quotas(written, quotas):
                log.info("a file or job is over a byte quota: cutting the jobs by line size instead")
                for path in written.values():
                    path.unlink()
                files_of.assign_by_size(quotas)
                jobs, files = self._jobs(s3, bucket, prefix, quotas)
                written = files_of.write_local(files, Path(tmp))
            for job in jobs:
                log.info("job input %s: %d records in %d file(s)%s", job.input_s3_uri, job.record_count,
                         job.file_count, "" if job.uploaded else " (already in S3, nothing uploaded)")
            for number, file, key in files:  # in order, so a job's last file is the last to arrive in S3
                _upload_and_remove(s3, str(written[(number, file)]), bucket, key)
        return jobs

    def _jobs(self, s3: S3, bucket: str, prefix: str, quotas: Quotas
              ) -> tuple[list[ExportedJob], list[tuple[int, int, str]]]:
        """The jobs of the current assignment, and the (job number, file number, S3 key) of each
        file to upload: all files of the jobs whose last file is not in S3 yet."""
        jobs, files = [], []
        for number, key, records, file_count, tokens in self._job_stats():
            folder = f"{prefix.strip('/')}/input/{key}/".lstrip("/")
            names = [f"part-{f:05d}.jsonl" for f in range(file_count)]
            uploaded = not s3.exists(bucket, folder + names[-1])
            files += [(number, f, folder + name) for f, name in enumerate(names)] if uploaded else []
            jobs.append(ExportedJob(job_key=key, input_s3_uri=f"s3://{bucket}/{folder}", record_count=records,
                                    file_count=file_count, estimated_input_tokens=tokens,
                                    below_minimum=records < quotas.min_records_per_job, uploaded=uploaded))
        return jobs, files

    def assign_one_job(self) -> str:
        """Put every record to send in one group (the on-demand path); returns its key."""
        self.con.execute(f"update {PLAN} set job_number = 0, file_number = 0 where position is not null")
        return self._job_stats()[0][1]

    def insert_rows(self, table: str, jobs: list[tuple[str, str]], mode: str) -> None:
        """bedrock_batch_input's rows, inserted into ``table`` (made by :func:`create_rows_table`: a
        DuckDB temp table, which spills to disk under DuckDB's memory limit instead of growing
        Python's heap): every request planned, with the (job key, input URI) of its job number
        when it is sent. With no jobs (a deferred small batch) only the skipped ones."""
        # A job's key and URI by its number: list lookups in two parameters (no table of the jobs
        # to register and join: that join alone took 0.11 s against 0.07 s per 100,000 rows).
        self.con.execute(f"""
            insert into {table} by name
            select p.request_key, p.input_row_id, p.input_id, p.record_id,
                $keys[p.job_number + 1] as job_key, $uris[p.job_number + 1] as input_s3_uri,
                {literal(self.settings.model_id)} as model_id,
                {literal(self.settings.prompt_version)} as prompt_version,
                case when p.position is not null then {literal(mode)} end as inference_mode,
                p.is_truncated, p.estimated_input_tokens, p.attempt_number, p.skip_reason,
                now() as exported_at, {literal(self.settings.task.name)} as task_name,
                {literal(self.settings.invocation_type)} as invocation_type,
                case when p.position is not null then p.estimated_input_tokens * {self.history.input_ratio}
                end as expected_input_tokens,
                case when p.position is not null then {self.expected_output}::double
                end as expected_output_tokens
            from {PLAN} p
            where p.position is null or {bool(jobs)}""",
            {"keys": [k for k, _ in jobs], "uris": [u for _, u in jobs]})

    def _job_stats(self) -> list[tuple[int, str, int, int, int]]:
        """Per job number: key (sha256 of its records' "request_key:attempt;" in order, 32 hex
        digits), records, files and estimated input tokens."""
        return self.con.execute(
            f"select job_number, left(sha256(string_agg(request_key || ':' || attempt_number || ';', '' "
            f"order by position)), 32), count(*), max(file_number) + 1, "
            f"sum(estimated_input_tokens)::BIGINT from {PLAN} where position is not null "
            "group by job_number order by job_number").fetchall()

    def close(self) -> None:
        self.con.execute(f"drop table if exists {PLAN}")

def create_rows_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """An empty temp table of bedrock_batch_input's columns (``ROWS_SCHEMA``)."""
    con.register(f"{name}_schema", ROWS_SCHEMA.empty_table())
    try:
        con.execute(f"create or replace temp table {name} as select * from {name}_schema")
    finally:
        con.unregister(f"{name}_schema")


def _upload_and_remove(s3: S3, path: str, bucket: str, key: str) -> None:
    size = Path(path).stat().st_size
    s3.upload_file(path, bucket, key)
    Path(path).unlink()
    log.info("uploaded s3://%s/%s (%.1f MB)", bucket, key, size / 1e6)


def export_into(con: duckdb.DuckDBPyConnection, table: str, requests_sql: str, settings: RecordSettings, *,
                price: ModelPrice, s3: S3, bucket: str, prefix: str, quotas: Quotas) -> list[ExportedJob]:
    """Plan and write in one call, bedrock_batch_input's rows into ``table`` (made here, as
    bedrock_batch_input makes its own): what the model does for one task, without its policy."""
    export = SqlExport(con, requests_sql, settings)
    try:
        export.plan(price)
        jobs = export.write(s3=s3, bucket=bucket, prefix=prefix, quotas=quotas)
        create_rows_table(con, table)
        export.insert_rows(table, [(j.job_key, j.input_s3_uri) for j in jobs], "batch")
        return jobs
    finally:
        export.close()


def export_requests(con: duckdb.DuckDBPyConnection, requests_sql: str, settings: RecordSettings, *,
                    price: ModelPrice, s3: S3, bucket: str, prefix: str, quotas: Quotas
                    ) -> tuple[list[ExportedJob], pa.Table]:
    """:func:`export_into` with the rows fetched as an Arrow table (tests)."""
    try:
        jobs = export_into(con, ROWS, requests_sql, settings, price=price, s3=s3, bucket=bucket, prefix=prefix,
                           quotas=quotas)
        return jobs, con.execute(f"select * from {ROWS} order by request_key").fetch_arrow_table()
    finally:
        con.execute(f"drop table if exists {ROWS}")
