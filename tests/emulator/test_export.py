"""bedrock_ext.pipeline.export against the emulator's S3: what lands in S3 is exactly what was planned,
every request is accounted for, and a re-run writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from bedrock_ext.aws.client import S3, AwsSettings
from bedrock_ext.errors import ExportError
from bedrock_ext.pipeline import export_files
from bedrock_ext.pipeline.export import SqlExport, export_requests
from bedrock_ext.pipeline.sharding import Quotas
from bedrock_ext.request.pricing import price_for
from bedrock_ext.request.record_sql import table_requests_sql
from bedrock_ext.request.records import PreparedRecord, RecordSettings
from bedrock_ext.transcripts.adversarial import ADVERSARIAL_TEXTS
from bedrock_ext.transcripts.generator import generate_chunk
from bedrock_ext.warehouse.duckdb_s3 import connect
from tests.emulator.conftest import TEST_MODEL, Aws
from tests.example import EXAMPLE_TASK
from tests.record_oracle import prepare_row

SETTINGS = RecordSettings(task=EXAMPLE_TASK, model_id=TEST_MODEL)


@pytest.fixture
def con(aws: Aws) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(AwsSettings(endpoint_url=aws.emulator.endpoint_url, placeholder_credentials=True)) as c:
        yield c


def _transcripts(n: int) -> pa.Table:
    rows = generate_chunk(7, 0, 0, n).select(["call_id", "transcript"])
    extra = pa.table({"call_id": [f"ADV-{i}" for i in range(len(ADVERSARIAL_TEXTS))],
                      "transcript": [text for _, text in ADVERSARIAL_TEXTS]})
    return pa.concat_tables([rows, extra.cast(rows.schema)])


def _export(con: duckdb.DuckDBPyConnection, aws: Aws, quotas: Quotas, sql: str | None = None) -> tuple:
    s3 = S3(AwsSettings(endpoint_url=aws.emulator.endpoint_url, placeholder_credentials=True))
    return export_requests(con, sql or table_requests_sql("transcripts", SETTINGS), SETTINGS,
                           price=price_for(TEST_MODEL), s3=s3, bucket=aws.bucket, prefix="calls", quotas=quotas)


def _objects(aws: Aws, uri: str) -> dict[str, bytes]:
    prefix = uri.removeprefix(f"s3://{aws.bucket}/")
    listed = aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: aws.s3.get_object(Bucket=aws.bucket, Key=o["Key"])["Body"].read() for o in listed}


@pytest.mark.parametrize("quotas", [
    Quotas(max_records_per_job=120, max_records_per_file=50, min_records_per_job=10),  # closed-form plan
    # The over-context adversarial text (~700 KB once truncated) makes byte quotas bind: ShardPlanner
    Quotas(max_records_per_job=120, max_records_per_file=50, min_records_per_job=10,
           max_bytes_per_file=800_000, max_bytes_per_job=1_600_000),
], ids=["closed-form", "byte-quotas"])
@pytest.mark.parametrize("copy_per_file", [0, 100], ids=["one-partitioned-copy", "a-copy-per-file"])
def test_files_in_s3_are_the_planned_records_and_sizes(con: duckdb.DuckDBPyConnection, aws: Aws,
                                                       quotas: Quotas, copy_per_file: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_files, "_COPY_PER_FILE", copy_per_file)  # both ways of writing the files
    table = _transcripts(300)
    con.register("transcripts", table)
    jobs, rows = _export(con, aws, quotas)
    expected = {}
    for call_id, text in zip(table["call_id"].to_pylist(), table["transcript"].to_pylist(), strict=True):
        record = prepare_row(call_id, text, SETTINGS)
        if isinstance(record, PreparedRecord):
            expected[record.record_id] = json.loads(record.line)
    seen = {}
    for job in jobs:
        files = _objects(aws, job.input_s3_uri)
        assert sorted(k.rsplit("/", 1)[1] for k in files) == [f"part-{i:05d}.jsonl" for i in range(job.file_count)]
        assert sum(len(body) for body in files.values()) <= quotas.max_bytes_per_job
        for key, body in files.items():
            lines = body.decode().splitlines()
            assert 0 < len(lines) <= quotas.max_records_per_file
            assert len(body) <= quotas.max_bytes_per_file or len(lines) == 1, key
            seen.update({(r := json.loads(line))["recordId"]: r for line in lines})
        assert job.record_count <= quotas.max_records_per_job
    assert seen == expected
    assert rows.num_rows == table.num_rows  # every request: sent or skipped with the reason
    skipped = [r for r in rows.to_pylist() if r["skip_reason"]]
    assert {r["skip_reason"] for r in skipped} == {"blank_text"}
    assert rows.num_rows - len(skipped) == len(expected)


def test_rerun_uploads_nothing(con: duckdb.DuckDBPyConnection, aws: Aws) -> None:
    con.register("transcripts", _transcripts(150))
    first, _ = _export(con, aws, Quotas(max_records_per_job=100, min_records_per_job=10))
    again, _ = _export(con, aws, Quotas(max_records_per_job=100, min_records_per_job=10))
    assert all(j.uploaded for j in first) and not any(j.uploaded for j in again)
    assert [j.input_s3_uri for j in again] == [j.input_s3_uri for j in first]


def test_duplicate_request_keys_fail_with_a_clear_error(con: duckdb.DuckDBPyConnection, aws: Aws) -> None:
    con.register("transcripts", _transcripts(20))
    twice = f"select * from ({table_requests_sql('transcripts', SETTINGS)}) cross join range(2)"
    with pytest.raises(ExportError, match="appears 2 times"):
        _export(con, aws, Quotas(min_records_per_job=1), sql=f"select * exclude (range) from ({twice})")


def test_a_text_changed_between_plan_and_write_stops_the_export_before_any_upload(
        con: duckdb.DuckDBPyConnection, aws: Aws) -> None:
    """The COPY reads the texts again after the plan; a row whose text changed meanwhile has a new
    request key, is not written, and the export stops with nothing in S3."""
    con.execute("create table transcripts as select * from (select * from generate_series(1, 120) t(i)), "
                "lateral (select 'C' || i as call_id, 'caller says hello number ' || i as transcript)")
    requests = "select * from requests_now"
    con.execute(f"create table requests_now as {table_requests_sql('transcripts', SETTINGS)}")
    s3 = S3(AwsSettings(endpoint_url=aws.emulator.endpoint_url, placeholder_credentials=True))
    export = SqlExport(con, requests, SETTINGS)
    export.plan(price_for(TEST_MODEL))
    con.execute("update requests_now set input_text = input_text || ' (edited)', request_key = sha256(request_key) "
                "where input_id = 'C7'")
    with pytest.raises(ExportError, match=r"119 records written for 120 planned: the requests changed"):
        export.write(s3=s3, bucket=aws.bucket, prefix="changed", quotas=Quotas(min_records_per_job=10))
    assert _objects(aws, f"s3://{aws.bucket}/changed/") == {}
