"""One export or parse approach, run in a child process by scripts/bench.py (so each has its own
peak RSS), against an emulator served out of process. Prints one JSON line: seconds and count.

Export: transcripts in DuckDB -> Bedrock JSONL in S3.
  loop  = the article's way: a dict per row, json.dumps per line, write a file, upload it (a file
          per 50,000 records);
  floor = one DuckDB COPY (select ...) TO 's3://...' (FORMAT json) of the same records, in files
          of at most 100 MB (FILE_SIZE_BYTES);
  ours  = bedrock_ext.pipeline.export (what bedrock_batch_input runs): plan, shard, one partitioned
          COPY, upload, and bedrock_batch_input's rows into a DuckDB table (export_into), reading
          table ``requests``: the same rows keyed as int_bedrock_requests keys them (in dbt that
          model computes the request keys, before the export).
Parse: the emulator's output JSONL -> typed summary rows.
  loop  = json.loads per line, a dict per record, json.loads of the answer;
  floor = one DuckDB read_json of the same files into a table;
  ours  = the project's own SQL (stg_bedrock__batch_outputs + int_bedrock_answers), rendered
          from the model files with the macros replaced by their plain values;
  staging = ours without int_bedrock_answers: the files parsed into one row per line, every field
          extracted, no answer validated against its task's schema (what read_json does not do);
  answers-distinct = int_bedrock_answers alone, every answer made distinct before it is validated
          (the emulator's summarizer repeats answers; int_bedrock_answers validates each distinct
          answer once). The models are rendered before the timer starts (dbt's compile).

Usage: python scripts/bench_io.py {export,parse} {loop,floor,ours} ENDPOINT DATABASE
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import yaml

from bedrock_ext.aws.client import S3, AwsSettings
from bedrock_ext.pipeline.export import export_into
from bedrock_ext.pipeline.sharding import Quotas
from bedrock_ext.request.pricing import price_for
from bedrock_ext.request.record_sql import literal
from bedrock_ext.request.records import RecordSettings, model_input
from bedrock_ext.request.task import project_task
from bedrock_ext.warehouse.duckdb_s3 import connect

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the package SQL renderer and the row-by-row record builder the tests use
from tests.record_oracle import render_row  # noqa: E402
from tests.sql.package_sql import environment, output_files_to_load, render_model  # noqa: E402

BUCKET = "bench"
OUTPUT_PREFIX = "out/"
TASK = project_task(ROOT / "dbt_project", "call_summaries")  # the example's task, from its yml
SETTINGS = RecordSettings(task=TASK, model_id=MODEL)


class NoUpload:
    """Stands in for S3 in the "without the upload" variants: files are written, not sent."""

    def exists(self, bucket: str, key: str) -> bool:
        return False

    def upload_file(self, path: str, bucket: str, key: str) -> None:
        pass


def export_loop(con: duckdb.DuckDBPyConnection, s3: S3 | None, per_file: int = 50_000) -> int:
    """The article's loop, one file per 50,000 records (Bedrock's per-file quota)."""
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        cursor = con.execute("select call_id, transcript from t")
        while rows := cursor.fetchmany(per_file):
            path = Path(tmp) / f"part-{n // per_file:05d}.jsonl"
            with path.open("w") as fh:
                for call_id, text in rows:
                    message = render_row(SETTINGS, text) or ""
                    record = {"recordId": call_id, "modelInput": model_input(SETTINGS, message)}
                    fh.write(json.dumps(record) + "\n")
            n += len(rows)
            if s3 is not None:
                s3.client.upload_file(str(path), BUCKET, f"loop/{path.name}")
            path.unlink()
    return n


def export_floor(con: duckdb.DuckDBPyConnection, target: str = f"s3://{BUCKET}/floor/") -> int:
    """One COPY; files of at most ~100 MB (about 50,000 records, like ours), since one file of
    the whole table would break Bedrock's 1 GB file quota (and moto fails on 2 GB uploads). A
    local target is emptied first (a repeated run)."""
    if not target.startswith("s3://"):
        shutil.rmtree(target, ignore_errors=True)
    head, tail = SETTINGS.task.user.split("{" + SETTINGS.task.placeholders[0] + "}")
    row = con.execute(
        f"COPY (select call_id as recordId, {{'system': [{{'text': {literal(SETTINGS.system_prompt)}}}], "
        f"'messages': [{{'role': 'user', 'content': [{{'text': {literal(head)} || transcript || {literal(tail)}}}]}}], "
        f"'inferenceConfig': {{'maxTokens': {SETTINGS.max_tokens}, 'temperature': {SETTINGS.temperature}}}}} "
        f"as modelInput from t) TO {literal(target)} (FORMAT json, FILE_SIZE_BYTES 100000000)").fetchone()
    return int(row[0])  # type: ignore[index]


# bedrock_batch_input as the parse reads it (int_bedrock_answers: each record's task): the rows of
# the export whose files the emulator's jobs answer, kept after that export's timed run.
BATCH_INPUT = "bench_batch_input"


def export_ours(con: duckdb.DuckDBPyConnection, s3: Any) -> int:
    """What bedrock_batch_input runs for a task: plan, write, its rows into a DuckDB table."""
    jobs = export_into(con, "bench_rows", "select * from requests", SETTINGS, price=price_for(MODEL), s3=s3,
                       bucket=BUCKET, prefix="ours", quotas=Quotas())
    return sum(j.record_count for j in jobs)


def keep_batch_input(con: duckdb.DuckDBPyConnection) -> None:
    """After the export to S3 (untimed): its rows as a table, the parse's bedrock_batch_input."""
    con.execute(f"create or replace table {BATCH_INPUT} as select * from bench_rows")


def parse_loop(s3: S3) -> int:
    rows = []
    for key in s3.list_keys(BUCKET, OUTPUT_PREFIX):
        if not key.endswith(".jsonl.out"):
            continue
        for line in s3.get_bytes(BUCKET, key).decode().splitlines():
            rec = json.loads(line)  # a Converse response body
            out = rec.get("modelOutput") or {}
            text = ((out.get("output") or {}).get("message", {}).get("content") or [{}])[0].get("text")
            answer = json.loads(text) if text else {}
            usage = out.get("usage") or {}
            config = rec["modelInput"].get("inferenceConfig") or {}
            rows.append({"record_id": rec["recordId"], "summary": answer.get("summary"),
                         "intent": answer.get("intent"), "input_tokens": usage.get("inputTokens"),
                         "output_tokens": usage.get("outputTokens"), "stop_reason": out.get("stopReason"),
                         "max_tokens": config.get("maxTokens"), "error": rec.get("error")})
    return len(rows)


def fetch_boto3(s3: S3) -> int:
    """The S3 reads alone of the parse loop."""
    return sum(len(s3.get_bytes(BUCKET, key)) for key in s3.list_keys(BUCKET, OUTPUT_PREFIX)
               if key.endswith(".jsonl.out"))


def fetch_duckdb(con: duckdb.DuckDBPyConnection) -> int:
    """The S3 reads alone of the DuckDB parsers: the output files' lines as the package reads them
    (its macro read_output_lines)."""
    _, context = environment({}, {}, {"output_files_to_load": output_files_to_load(con)})
    lines = context["read_output_lines"]([f"s3://{BUCKET}/{OUTPUT_PREFIX}*/*.jsonl.out"], None, None)
    return int(con.execute(f"select sum(strlen(line) + 1) from {lines}").fetchone()[0])  # type: ignore[index]


def distinct_answers(con: duckdb.DuckDBPyConnection) -> int:
    """The distinct answer texts among the output lines (int_bedrock_answers validates each once;
    the emulator's heuristic summarizer repeats answers where a model would rarely)."""
    parse_ours(con, STAGING)()
    row = con.execute("select count(distinct answer_text) from stg_bedrock__batch_outputs where not is_malformed")
    return int(row.fetchone()[0])  # type: ignore[index]


def answers_distinct(con: duckdb.DuckDBPyConnection) -> Callable[[], int]:
    """int_bedrock_answers alone, with every answer made distinct first (a number put in front of
    each summary, untimed), as a model's summaries would be."""
    parse_ours(con, STAGING)()
    # Rewritten, not updated: DuckDB merges an UPDATE's changes into every later scan of the table,
    # which a staging table that dbt has just written does not carry.
    con.execute("""create or replace temp table stg_bedrock__batch_outputs as
                   select * replace (regexp_replace(answer_text, '"summary": ?"',
                                                    '"summary": "' || hash(output_line_id) || ' ') as answer_text)
                   from stg_bedrock__batch_outputs""")
    return parse_ours(con, ANSWERS)


def parse_floor(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("create or replace temp table floor_out as select * from "
                f"read_json('s3://{BUCKET}/{OUTPUT_PREFIX}*/*.jsonl.out', format='newline_delimited')")
    return int(con.execute("select count(*) from floor_out").fetchone()[0])  # type: ignore[index]


# (model, its file under dbt_package/models, what one of its rows counts when it is usable)
STAGING = (("stg_bedrock__batch_outputs", "staging/bedrock/stg_bedrock__batch_outputs.sql", "not is_malformed"),)
ANSWERS = (("int_bedrock_answers", "intermediate/int_bedrock_answers.sql", "is_answered"),)


def parse_ours(con: duckdb.DuckDBPyConnection, models: tuple[tuple[str, str, str], ...] = STAGING + ANSWERS
               ) -> Callable[[], int]:
    """The package's staging and answer models, rendered from their files (with the macros, the
    call-summary task as the example project declares it), on the emulator's output files; with
    ``models=STAGING`` the output staging alone (every line a row, no answer validated). Rendered
    now (Jinja and the listing of the files to load: what dbt does when it compiles, a fixed
    cost whatever the lines, ~0.3 s of Jinja here); returns the run, which builds the models and
    returns the usable rows of the last one."""
    tasks = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]["bedrock_ext_tasks"]
    refs = {"stg_bedrock__batch_outputs": "stg_bedrock__batch_outputs", "bedrock_batch_jobs": "bedrock_batch_jobs",
            "bedrock_batch_input": BATCH_INPUT}
    extra = {"output_files_to_load": output_files_to_load(con),
             "bedrock_output_uri": lambda: f"s3://{BUCKET}/{OUTPUT_PREFIX}",
             "bedrock_on_demand_uri": lambda: f"s3://{BUCKET}/on-demand/"}
    statements = [f"create or replace temp table {name} as {render_model(path, tasks, refs, extra)}"
                  for name, path, _ in models]
    name, _, usable = models[-1]

    def run() -> int:
        for statement in statements:
            con.execute(statement)
        return int(con.execute(f"select count(*) from {name} where {usable}").fetchone()[0])  # type: ignore[index]
    return run


def _approach(step: str, approach: str, con: duckdb.DuckDBPyConnection, s3: S3) -> Callable[[], int]:
    """The run of one approach (what is timed), after what it prepares untimed."""
    local = str(Path(tempfile.gettempdir()) / "floor-local")  # beside the other approaches' files (TMPDIR)
    prepared: dict[tuple[str, str], Callable[[], Callable[[], int]]] = {
        ("parse", "ours"): lambda: parse_ours(con), ("parse", "staging"): lambda: parse_ours(con, STAGING),
        ("parse", "answers-distinct"): lambda: answers_distinct(con),
    }
    if (step, approach) in prepared:
        return prepared[(step, approach)]()
    table: dict[tuple[str, str], Callable[[], int]] = {
        ("export", "loop"): lambda: export_loop(con, s3), ("export", "floor"): lambda: export_floor(con),
        ("export", "ours"): lambda: export_ours(con, s3), ("parse", "loop"): lambda: parse_loop(s3),
        ("parse", "floor"): lambda: parse_floor(con),
        ("export", "loop-local"): lambda: export_loop(con, None),
        ("export", "floor-local"): lambda: export_floor(con, local),
        ("export", "ours-local"): lambda: export_ours(con, NoUpload()),
        ("parse", "fetch-boto3"): lambda: fetch_boto3(s3), ("parse", "fetch-duckdb"): lambda: fetch_duckdb(con),
        ("parse", "distinct-answers"): lambda: distinct_answers(con),
    }
    return table[(step, approach)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["export", "parse"])
    parser.add_argument("approach", choices=["loop", "floor", "ours", "loop-local", "floor-local", "ours-local",
                                             "fetch-boto3", "fetch-duckdb", "staging", "distinct-answers",
                                             "answers-distinct"])
    parser.add_argument("endpoint", help="the emulator's endpoint URL")
    parser.add_argument("database", help="DuckDB file with tables t(call_id, transcript) and requests")
    parser.add_argument("--memory-limit", help="DuckDB's memory_limit (default: DuckDB's, 80%% of RAM)")
    args = parser.parse_args()
    settings = AwsSettings(endpoint_url=args.endpoint, placeholder_credentials=True)
    con = connect(settings, database=args.database)
    if args.memory_limit:
        con.execute(f"SET memory_limit = {literal(args.memory_limit)}")
    run: Any = _approach(args.step, args.approach, con, S3(settings))
    start = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - start
    if (args.step, args.approach) == ("export", "ours"):
        keep_batch_input(con)
    print(json.dumps({"seconds": seconds, "count": count, "peak_rss": peak_rss()}), flush=True)


def peak_rss(pid: int | str = "self") -> int:
    """A process's peak resident memory in bytes, this one's by default (VmHWM: unlike ru_maxrss,
    it does not carry the parent's memory over from fork)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


if __name__ == "__main__":
    main()
