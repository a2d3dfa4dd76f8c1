"""Export synthetic transcripts and run their batch jobs; also run as a child process that the
crash tests kill with SIGKILL mid-wait. Usage: python -m tests.emulator.runner_child ENDPOINT BUCKET N"""

from __future__ import annotations

import logging
import sys

from bedrock_ext.aws.client import S3, AwsSettings, bedrock_client
from bedrock_ext.aws.jobs import BatchJob, BedrockBatchClient, JobSpec
from bedrock_ext.aws.runner import JobRunner, PollPolicy
from bedrock_ext.pipeline.export import ExportedJob, export_requests
from bedrock_ext.pipeline.sharding import Quotas
from bedrock_ext.request.pricing import price_for
from bedrock_ext.request.record_sql import table_requests_sql
from bedrock_ext.request.records import PreparedRecord, RecordSettings
from bedrock_ext.transcripts.generator import generate_chunk
from bedrock_ext.warehouse.duckdb_s3 import connect
from tests.example import EXAMPLE_TASK
from tests.record_oracle import prepare_row

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatchRole"
QUOTAS = Quotas(max_records_per_job=100, max_records_per_file=60, min_records_per_job=10)


def prepared(n: int) -> list[PreparedRecord]:
    """The same records built by the Python reference (tests/record_oracle.py), to check the export."""
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=MODEL)
    rows = generate_chunk(7, 0, 0, n).select(["call_id", "transcript"]).to_pylist()
    out = [prepare_row(r["call_id"], r["transcript"], settings) for r in rows]
    return [r for r in out if isinstance(r, PreparedRecord)]


def export(endpoint: str, bucket: str, n: int) -> list[ExportedJob]:
    """n synthetic transcripts exported as bedrock_batch_input does (DuckDB COPY to S3)."""
    settings = AwsSettings(endpoint_url=endpoint, placeholder_credentials=True)
    records = RecordSettings(task=EXAMPLE_TASK, model_id=MODEL)
    with connect(settings) as con:
        con.register("transcripts", generate_chunk(7, 0, 0, n).select(["call_id", "transcript"]))
        jobs, _ = export_requests(con, table_requests_sql("transcripts", records), records,
                                  price=price_for(MODEL), s3=S3(settings), bucket=bucket, prefix="calls",
                                  quotas=QUOTAS)
    return jobs


def specs_for(jobs: list[ExportedJob], bucket: str) -> list[JobSpec]:
    return [JobSpec(job_key=j.job_key, input_s3_uri=j.input_s3_uri, output_s3_uri=f"s3://{bucket}/calls/output/",
                    model_id=MODEL, role_arn=ROLE, invocation_type="Converse") for j in jobs]


def runner(endpoint: str, max_concurrent: int = 20, max_attempts: int = 8) -> JobRunner:
    client = BedrockBatchClient(bedrock_client(AwsSettings(endpoint_url=endpoint, max_attempts=max_attempts)))
    return JobRunner(client, max_concurrent=max_concurrent,
                     poll=PollPolicy(initial_s=0.02, max_s=0.1, log_every_s=0.5))


def run(endpoint: str, bucket: str, n: int, wait: bool = True) -> list[BatchJob]:
    return runner(endpoint).run(specs_for(export(endpoint, bucket, n), bucket), wait=wait)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    for job in run(sys.argv[1], sys.argv[2], int(sys.argv[3])):
        print("FINISHED", job.job_arn, job.status.value, flush=True)
