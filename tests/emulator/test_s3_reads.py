"""Large objects are read in chunks from moto's buffer (bedrock_ext/emulator/s3_reads.py); what a
client sees must be what moto (and S3) would answer: the bytes, status, Content-Range,
Content-Length, ETag, conditional requests, errors. DuckDB reads them through httpfs too."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig
from moto.s3.models import FakeKey

from bedrock_ext.aws.client import AwsSettings
from bedrock_ext.emulator.s3_reads import STREAM_FROM
from bedrock_ext.warehouse.duckdb_s3 import connect
from tests.emulator.conftest import Aws

SIZE = STREAM_FROM + 3 * 2**20 + 12_345  # over the threshold, not a whole number of chunks


@pytest.fixture
def large(aws: Aws) -> bytes:
    body = os.urandom(SIZE)
    aws.s3.put_object(Bucket=aws.bucket, Key="big/object.bin", Body=body)
    aws.s3.put_object(Bucket=aws.bucket, Key="small.bin", Body=body[:1000])
    parts = TransferConfig(multipart_threshold=8 * 2**20, multipart_chunksize=8 * 2**20)
    aws.s3.upload_fileobj(io.BytesIO(body), aws.bucket, "big/parts.bin", Config=parts)  # as the emulator writes
    return body


@pytest.fixture
def no_whole_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    whole_value = FakeKey.value

    def value(key: FakeKey) -> bytes:  # moto's GET reads this: never for a large object now
        assert key.size < STREAM_FROM, "a large object was read whole into memory"
        return whole_value.fget(key)  # type: ignore[no-any-return, attr-defined]

    monkeypatch.setattr(FakeKey, "value", property(value, whole_value.fset))  # type: ignore[attr-defined]


def test_whole_and_ranged_gets_of_a_large_object(aws: Aws, large: bytes, no_whole_reads: None) -> None:
    whole = aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["ContentLength"] == SIZE and whole["Body"].read() == large
    etag = whole["ETag"]
    for start, end in ((0, 99), (STREAM_FROM - 7, STREAM_FROM + 2**20 + 3), (SIZE - 10, SIZE - 1)):
        part = aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", Range=f"bytes={start}-{end}")
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert part["ContentRange"] == f"bytes {start}-{end}/{SIZE}"
        assert part["ContentLength"] == end - start + 1 and part["ETag"] == etag
        assert part["Body"].read() == large[start:end + 1]
    multipart = aws.s3.get_object(Bucket=aws.bucket, Key="big/parts.bin")  # botocore checks the checksum
    assert multipart["Body"].read() == large and multipart["ETag"].endswith('-3"')
    assert multipart.get("ChecksumCRC32", "-3").endswith("-3")  # composite: as moto's GET says it
    suffix = aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", Range="bytes=-5")
    assert suffix["Body"].read() == large[-5:]
    assert aws.s3.get_object(Bucket=aws.bucket, Key="small.bin")["Body"].read() == large[:1000]


def test_conditions_and_errors_are_moto_s(aws: Aws, large: bytes) -> None:
    """What is not a plain 200/206 goes through moto's own GET, error bodies and all."""
    etag = aws.s3.head_object(Bucket=aws.bucket, Key="big/object.bin")["ETag"]
    assert aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", IfMatch=etag)["Body"].read() == large
    with pytest.raises(botocore.exceptions.ClientError) as not_modified:
        aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", IfNoneMatch=etag)
    assert not_modified.value.response["Error"]["Code"] == "304"
    with pytest.raises(botocore.exceptions.ClientError) as failed:
        aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", IfMatch='"other"')
    assert failed.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(aws.s3.exceptions.NoSuchKey):
        aws.s3.get_object(Bucket=aws.bucket, Key="big/missing.bin")
    with pytest.raises(botocore.exceptions.ClientError) as bad_range:
        aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", Range=f"bytes={SIZE + 1}-")
    assert bad_range.value.response["Error"]["Code"] == "InvalidRange"


def test_concurrent_readers_and_duckdb(aws: Aws, large: bytes, no_whole_reads: None) -> None:
    got: list[bytes] = []

    def read(start: int) -> None:
        body = aws.s3.get_object(Bucket=aws.bucket, Key="big/object.bin", Range=f"bytes={start}-{start + 2**21}")
        got.append(body["Body"].read())

    threads = [threading.Thread(target=read, args=(i * 2**20,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(large[i * 2**20:i * 2**20 + 2**21 + 1] for i in range(6))
    with connect(AwsSettings(endpoint_url=aws.emulator.endpoint_url, placeholder_credentials=True)) as con:
        con.execute("SET enable_external_file_cache = false")
        row = con.execute(f"select size, md5(content) from read_blob('s3://{aws.bucket}/big/object.bin')").fetchone()
    assert row == (SIZE, hashlib.md5(large).hexdigest())
