"""The emulator's own S3 access: a plain boto3 client against the S3 it serves (moto).

The emulator reads job inputs and writes outputs through the S3 wire protocol, exactly as the
real service's data plane is seen by users; it shares no code with the bedrock_ext client side.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

# Objects move in 16 MiB parts (multipart uploads, ranged GETs), as the client side's uploads do:
# the S3 it serves then never holds a whole 100+ MB request or response body at once.
_PARTS = TransferConfig(multipart_threshold=16 * 2**20, multipart_chunksize=16 * 2**20, use_threads=False)


class BotoObjectStore:
    """list/get/put on an S3 endpoint, with path-style addressing and standard retries."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
            config=Config(s3={"addressing_style": "path"},
                          retries={"mode": "standard", "total_max_attempts": 3}),
        )

    def list_keys(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])]

    def download(self, bucket: str, key: str, fileobj: BinaryIO) -> None:
        self._client.download_fileobj(bucket, key, fileobj, Config=_PARTS)

    def put(self, bucket: str, key: str, body: bytes | BinaryIO) -> None:
        fileobj = io.BytesIO(body) if isinstance(body, bytes) else body
        self._client.upload_fileobj(fileobj, bucket, key, Config=_PARTS)
