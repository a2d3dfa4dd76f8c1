"""Benchmarks (`make bench`): generator, export and parse side by side with their baselines
(scripts/bench_io.py), and the emulator's local model. Each line prints the figure and the ratio.
Usage: python scripts/bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import boto3

from bedrock_ext.emulator.config import EmulatorConfig, Faults, Quotas, Timings
from bedrock_ext.emulator.execution import InputRecord, run_record
from bedrock_ext.emulator.server import Emulator
from bedrock_ext.transcripts.generator import GenerateSpec, generate_chunk, write_dataset

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _model_input(text: str) -> dict:
    return {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 600,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": f"Summarize as JSON.\n<transcript>\n{text}\n</transcript>"}]}]}


def bench_generator(rows: int, out_dir: Path) -> None:
    start = time.perf_counter()
    write_dataset(GenerateSpec(rows=rows), out_dir / "t.parquet")
    seconds = time.perf_counter() - start
    print(f"generator: {rows:,} rows in {seconds:.1f}s = {rows / seconds:,.0f} rows/s")


def bench_local_model(records: int) -> list[InputRecord]:
    texts = generate_chunk(7, 0, 0, records)["transcript"].to_pylist()
    recs = [InputRecord("a.jsonl", f"R{i:010d}", _model_input(t)) for i, t in enumerate(texts)]
    start = time.perf_counter()
    for r in recs:
        run_record(r, MODEL, "abcdefabcdef", Faults())
    seconds = time.perf_counter() - start
    print(f"emulator local model: {records:,} records in {seconds:.1f}s = {records / seconds:,.0f} records/s")
    return recs


def bench_emulator_job(recs: list[InputRecord]) -> None:
    body = "".join(json.dumps({"recordId": r.record_id, "modelInput": r.model_input}) + "\n" for r in recs)
    timings = Timings(submitted_s=0, validating_s=0, scheduled_s=0, in_progress_s=0)
    quotas = Quotas(min_records_per_job=1)
    with Emulator(EmulatorConfig(timings=timings, quotas=quotas)) as em:
        s3 = boto3.client("s3", endpoint_url=em.endpoint_url, region_name="us-east-1")
        bedrock = boto3.client("bedrock", endpoint_url=em.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="in/a.jsonl", Body=body.encode())
        start = time.perf_counter()
        arn = bedrock.create_model_invocation_job(
            jobName="bench", roleArn="arn:aws:iam::123456789012:role/r", modelId=MODEL,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://bench/in/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://bench/out/"}})["jobArn"]
        while bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] not in ("Completed", "Failed"):
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    print(f"emulator job: {len(recs):,} records ({len(body) / 1e6:.0f} MB) end to end in {seconds:.1f}s")


def bench_export_and_parse(rows: int, tmp: Path) -> None:
    import bench_io as io_bench
    import duckdb  # noqa: F401 - imported with bench_io

    from bedrock_ext.aws import S3, AwsSettings
    from bedrock_ext.records import RecordSettings

    parquet = tmp / "export.parquet"
    write_dataset(GenerateSpec(rows=rows), parquet)
    timings = Timings(submitted_s=0, validating_s=0, scheduled_s=0, in_progress_s=0)
    with Emulator(EmulatorConfig(timings=timings, quotas=Quotas(min_records_per_job=1))) as em:
        s3 = S3(AwsSettings(endpoint_url=em.endpoint_url, placeholder_credentials=True))
        s3.client.create_bucket(Bucket=io_bench.BUCKET)
        con = io_bench.connect(em.endpoint_url, tmp / "ext")
        con.execute(f"create table t as select call_id, transcript from read_parquet('{parquet}')")
        settings = RecordSettings(model_id=MODEL)
        t_loop, _ = io_bench.timed(lambda: io_bench.export_loop(con, s3, tmp, settings))
        t_floor, _ = io_bench.timed(lambda: io_bench.export_floor(con, settings))
        t_ours, jobs = io_bench.timed(lambda: io_bench.export_ours(con, s3, settings, rows))
        print(f"export {rows:,} records: ours {t_ours:.2f}s | article loop {t_loop:.2f}s "
              f"(ours is {t_loop / t_ours:.2f}x faster) | DuckDB COPY floor {t_floor:.2f}s "
              f"(ours is {t_ours / t_floor:.2f}x the floor)")
        io_bench.run_jobs(em.endpoint_url, jobs)
        p_loop, n_loop = io_bench.timed(lambda: io_bench.parse_loop(s3))
        p_floor, n_floor = io_bench.timed(lambda: io_bench.parse_floor(con))
        p_ours, n_ours = io_bench.timed(lambda: io_bench.parse_ours(con))
        print(f"parse {n_floor:,} output lines ({len(jobs)} jobs): ours {p_ours:.2f}s ({n_ours:,} summaries) | "
              f"article loop {p_loop:.2f}s ({n_loop:,} rows; ours is {p_loop / p_ours:.2f}x faster) | "
              f"DuckDB read_json floor {p_floor:.2f}s (ours is {p_ours / p_floor:.2f}x the floor)")


def bench_orchestration(k: int = 6, n: int = 2, duration: float = 3.0) -> None:
    import bench_io as io_bench

    makespan, ideal, calls = io_bench.orchestration(k, n, duration)
    print(f"orchestration: {k} jobs, {n} slots, {duration:.0f} s jobs: makespan {makespan:.2f}s vs "
          f"ceil(K/N) x duration {ideal:.2f}s ({makespan / ideal:.2f}x); {calls:.1f} control-plane calls "
          "per job (polling every 0.05-0.25 s; real builds poll every 5-60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="generator rows")
    parser.add_argument("--job-records", type=int, default=50_000, help="records in the emulator job")
    parser.add_argument("--io-rows", type=int, default=100_000, help="records for the export/parse benchmark")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        bench_generator(args.rows, Path(tmp))
        bench_export_and_parse(args.io_rows, Path(tmp))
    bench_orchestration()
    bench_emulator_job(bench_local_model(args.job_records))


if __name__ == "__main__":
    main()
