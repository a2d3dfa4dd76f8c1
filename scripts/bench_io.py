"""Export and parse, side by side with their baselines, in one process (used by scripts/bench.py).

Export: transcripts in DuckDB -> Bedrock JSONL in (emulated) S3.
  loop  = the article's way: a dict per row, json.dumps per line, write a file, upload it;
  floor = one DuckDB COPY (select ...) TO 's3://...' (FORMAT json) of the same records;
  ours  = bedrock_ext.records.prepare + export_records (what bedrock_batch_input runs).
Parse: the emulator's output JSONL -> typed summary rows.
  loop  = json.loads per line, a dict per record, json.loads of the answer;
  floor = one DuckDB read_json of the same files into a table;
  ours  = the project's own SQL (stg_bedrock__batch_outputs + int_call_summaries_parsed), rendered
          from the model files with the macros replaced by their plain values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from bedrock_ext.aws import S3, AwsSettings
from bedrock_ext.export import export_records
from bedrock_ext.jobs import BedrockBatchClient, JobRunner, JobSpec, PollPolicy
from bedrock_ext.plugin import ensure_httpfs
from bedrock_ext.records import PreparedRecord, RecordSettings, model_input, prepare
from bedrock_ext.sharding import Quotas

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROOT = Path(__file__).resolve().parents[1]
BUCKET = "bench"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def connect(endpoint: str, ext_dir: Path) -> duckdb.DuckDBPyConnection:
    ensure_httpfs(str(ext_dir))
    con = duckdb.connect(config={"extension_directory": str(ext_dir)})
    con.execute("LOAD httpfs")
    con.execute("CREATE SECRET bench (TYPE s3, KEY_ID 'x', SECRET 'x', REGION 'us-east-1', ENDPOINT ?, "
                "URL_STYLE 'path', USE_SSL false)", [endpoint.removeprefix("http://")])
    return con


def export_loop(con: duckdb.DuckDBPyConnection, s3: S3, tmp: Path, settings: RecordSettings) -> None:
    path = tmp / "loop.jsonl"
    with path.open("w") as fh:
        for call_id, text in con.execute("select call_id, transcript from t").fetchall():
            fh.write(json.dumps({"recordId": call_id, "modelInput": model_input(settings, text)}) + "\n")
    s3.client.upload_file(str(path), BUCKET, "loop/part-00000.jsonl")


def export_floor(con: duckdb.DuckDBPyConnection, settings: RecordSettings) -> None:
    prompt = settings.prompt
    head, tail = prompt.user.split("{transcript}")
    q = lambda text: "'" + text.replace("'", "''") + "'"  # noqa: E731
    con.execute(
        "COPY (select call_id as recordId, {'anthropic_version': 'bedrock-2023-05-31', 'max_tokens': "
        f"{settings.max_tokens}, 'system': {q(prompt.system)}, 'messages': [{{'role': 'user', 'content': "
        f"[{{'type': 'text', 'text': {q(head)} || transcript || {q(tail)}}}]}}], 'temperature': "
        f"{settings.temperature}}} as modelInput from t) "
        f"TO 's3://{BUCKET}/floor/part-00000.jsonl' (FORMAT json)")


def export_ours(con: duckdb.DuckDBPyConnection, s3: S3, settings: RecordSettings, n: int) -> list:
    def records() -> Any:
        cursor = con.execute("select call_id, transcript from t")
        while batch := cursor.fetchmany(5_000):
            for call_id, text in batch:
                r = prepare(call_id, text, settings)
                if isinstance(r, PreparedRecord):
                    yield r

    jobs, _ = export_records(records(), n, s3=s3, bucket=BUCKET, prefix="ours", quotas=Quotas())
    return jobs


def _specs(jobs: list, output_uri: str) -> list[JobSpec]:
    return [JobSpec(job_key=j.job_key, input_s3_uri=j.input_s3_uri, output_s3_uri=output_uri,
                    model_id=MODEL, role_arn="arn:aws:iam::123456789012:role/bench") for j in jobs]


def run_jobs(endpoint: str, jobs: list) -> None:
    settings = AwsSettings(endpoint_url=endpoint, placeholder_credentials=True)
    client = BedrockBatchClient(settings.client("bedrock"))
    JobRunner(client, poll=PollPolicy(initial_s=0.2, max_s=0.5)).run(_specs(jobs, f"s3://{BUCKET}/out/"))


def parse_loop(s3: S3) -> int:
    rows = []
    for key in s3.list_keys(BUCKET, "out/"):
        if not key.endswith(".jsonl.out"):
            continue
        for line in s3.get_bytes(BUCKET, key).decode().splitlines():
            rec = json.loads(line)
            out = rec.get("modelOutput") or {}
            text = (out.get("content") or [{}])[0].get("text")
            answer = json.loads(text) if text else {}
            usage = out.get("usage") or {}
            rows.append({"record_id": rec["recordId"], "summary": answer.get("summary"),
                         "intent": answer.get("intent"), "input_tokens": usage.get("input_tokens"),
                         "output_tokens": usage.get("output_tokens"), "stop_reason": out.get("stop_reason"),
                         "max_tokens": rec["modelInput"].get("max_tokens"), "error": rec.get("error")})
    return len(rows)


def parse_floor(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("create or replace table floor_out as select * from "
                f"read_json('s3://{BUCKET}/out/*/*.jsonl.out', format='newline_delimited')")
    return int(con.execute("select count(*) from floor_out").fetchone()[0])


def _render(path: Path, con: duckdb.DuckDBPyConnection) -> str:
    def read_text_or_empty(pattern: str) -> str:
        if con.execute("select count(*) from glob(?)", [pattern]).fetchone()[0]:
            return f"(select filename, content from read_text('{pattern}'))"
        return "(select null::varchar as filename, null::varchar as content where false)"

    intents = ["billing_dispute", "cancellation", "technical_fault", "delivery_delay", "account_change",
               "refund_request", "other"]
    context = {"read_text_or_empty": read_text_or_empty, "ref": lambda name: name,
               "bedrock_output_uri": lambda: f"s3://{BUCKET}/out/",
               "bedrock_on_demand_uri": lambda: f"s3://{BUCKET}/on-demand/",
               "accepted_intents": lambda: intents}
    return jinja2.Environment().from_string(path.read_text()).render(**context)


def parse_ours(con: duckdb.DuckDBPyConnection) -> int:
    models = ROOT / "dbt_project" / "models"
    for name, path in (
        ("stg_bedrock__batch_outputs", models / "staging/bedrock/stg_bedrock__batch_outputs.sql"),
        ("int_call_summaries_parsed", models / "intermediate/int_call_summaries_parsed.sql"),
    ):
        con.execute(f"create or replace table {name} as {_render(path, con)}")
    return int(con.execute("select count(*) from int_call_summaries_parsed where is_summarized").fetchone()[0])


def orchestration(k: int, n: int, duration: float, tmp_rows: int = 10) -> tuple[float, float, float]:
    """Makespan of k emulator jobs of ``duration`` s with n slots, the ideal ceil(k/n) x duration,
    and control-plane calls per job (Create, Get, List) with a 0.05-0.25 s poll."""
    import math

    from bedrock_ext.emulator.config import EmulatorConfig, Timings
    from bedrock_ext.emulator.config import Quotas as EmulatorQuotas
    from bedrock_ext.emulator.server import Emulator
    from bedrock_ext.transcripts.generator import generate_chunk

    settings = RecordSettings(model_id=MODEL)
    rows = generate_chunk(7, 0, 0, k * tmp_rows).select(["call_id", "transcript"]).to_pylist()
    records = [r for r in (prepare(x["call_id"], x["transcript"], settings) for x in rows)
               if isinstance(r, PreparedRecord)]
    timings = Timings(submitted_s=0, validating_s=0, scheduled_s=0, in_progress_s=duration)
    with Emulator(EmulatorConfig(timings=timings, quotas=EmulatorQuotas(min_records_per_job=1))) as em:
        aws = AwsSettings(endpoint_url=em.endpoint_url, placeholder_credentials=True)
        s3 = S3(aws)
        s3.client.create_bucket(Bucket=BUCKET)
        quotas = Quotas(max_records_per_job=tmp_rows, min_records_per_job=1)
        jobs, _ = export_records(records, len(records), s3=s3, bucket=BUCKET, prefix="orch", quotas=quotas)
        specs = _specs(jobs, f"s3://{BUCKET}/orch-out/")
        runner = JobRunner(BedrockBatchClient(aws.client("bedrock")), max_concurrent=n,
                           poll=PollPolicy(initial_s=0.05, max_s=0.25))
        makespan, _ = timed(lambda: runner.run(specs))
    return makespan, math.ceil(len(specs) / n) * duration, runner.api_calls / len(specs)
