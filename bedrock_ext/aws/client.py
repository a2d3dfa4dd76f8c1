"""The only module that imports boto3/botocore: clients with standard retries, S3 helpers.

Credentials always come from the standard boto3 chain (env vars, profile, SSO, instance role);
nothing here reads, logs or stores them. ``endpoint_url`` points every client at the local
emulator (or any S3/Bedrock-compatible endpoint) when set.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from botocore.loaders import Loader

__all__ = ["AwsSettings", "BotoCoreError", "ClientError", "S3", "bedrock_client", "error_code", "error_message"]

MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024  # parts upload 10 at a time; 10,000 parts allow 160 GB


@dataclass(frozen=True, kw_only=True)
class AwsSettings:
    """Where to send requests. ``endpoint_url`` is None for real AWS."""

    region: str = "us-east-1"
    endpoint_url: str | None = None
    max_attempts: int = 8
    placeholder_credentials: bool = False  # the local emulator checks none; never for real AWS

    def _config(self) -> Config:
        return Config(region_name=self.region,
                      retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                      s3={"addressing_style": "path"} if self.endpoint_url else None)

    def client(self, service: str) -> Any:
        keys = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"} \
            if self.placeholder_credentials else {}
        return _session(keys).client(service, endpoint_url=self.endpoint_url, config=self._config())


class _SearchPaths(list):  # type: ignore[type-arg]
    """A loader's search paths, to which each boto3 Session appends its data folder once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


_LOADERS: dict[str | None, Loader] = {}
_LOADERS_LOCK = threading.Lock()


def _session(keys: dict[str, str]) -> boto3.session.Session:
    """A new session (credentials resolved afresh from the chain: they rotate, and the environment
    may change between builds in one process) sharing one data loader per AWS_DATA_PATH, which
    keeps the service models it parsed: parsing them again took ~40 ms per client, and every
    Python model of a build makes its own clients."""
    core = botocore.session.get_session()
    data_path = os.environ.get("AWS_DATA_PATH")
    with _LOADERS_LOCK:
        if data_path not in _LOADERS:
            extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)] \
                if data_path else []
            _LOADERS[data_path] = Loader(extra_search_paths=_SearchPaths(extra))  # as create_loader does
        core.register_component("data_loader", _LOADERS[data_path])
        return boto3.session.Session(botocore_session=core, **keys)


def bedrock_client(settings: AwsSettings) -> Any:
    return settings.client("bedrock")


NO_CREDENTIALS = ("no AWS credentials found in the standard chain (env vars AWS_ACCESS_KEY_ID/"
                  "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, instance role)")
_MISSING_KEY = ("404", "NoSuchKey", "NotFound")


def explain_aws_error(err: BaseException) -> str | None:
    """A one-line explanation of a botocore error a user can act on (None for anything else)."""
    if isinstance(err, NoCredentialsError):
        return (f"{NO_CREDENTIALS}. For the local emulator, set BEDROCK_EXT_ENDPOINT_URL (or --endpoint-url) "
                "to its http://127.0.0.1:<port> address.")
    if isinstance(err, EndpointConnectionError):
        return (f"cannot reach {err.kwargs.get('endpoint_url', 'the endpoint')}: is the emulator running "
                "(`bedrock-ext emulator serve`), or is the endpoint URL / AWS region right?")
    if isinstance(err, ClientError):
        return f"{getattr(err, 'operation_name', 'AWS')} failed with {error_code(err)}: {error_message(err)}"
    if isinstance(err, BotoCoreError):
        return f"AWS request failed: {err}"
    return None


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", err))


# A conditional write that lost: the key is taken (If-None-Match) or changed (If-Match).
_CONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409")


class S3:
    """Small S3 helper: multipart uploads, paginated listing, existence checks. With ``kms_key_id``
    every object written is encrypted server-side with that KMS key (SSE-KMS)."""

    def __init__(self, settings: AwsSettings, kms_key_id: str | None = None) -> None:
        self.client = settings.client("s3")
        self._transfer = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD,
                                        multipart_chunksize=MULTIPART_CHUNK, max_concurrency=10)
        self._extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}

    def upload_file(self, path: str, bucket: str, key: str) -> None:
        self.client.upload_file(path, bucket, key, ExtraArgs=self._extra, Config=self._transfer)

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self.client.upload_fileobj(io.BytesIO(data), bucket, key, ExtraArgs=self._extra, Config=self._transfer)

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if error_code(err) in _MISSING_KEY:
                return False
            raise
        return True

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket when it does not exist (the local emulator's only: on AWS the user owns it)."""
        if bucket not in {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}:
            self.client.create_bucket(Bucket=bucket)

    def get_bytes_or_none(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        try:
            return self.get_bytes(bucket, key)
        except ClientError as err:
            if error_code(err) in _MISSING_KEY:
                return None
            raise

    def put_if_absent(self, bucket: str, key: str, data: bytes) -> str | None:
        """Write the object only when the key is free (S3's conditional write, If-None-Match: *):
        its ETag, or None when another writer holds the key."""
        return self._conditional_put(bucket, key, data, IfNoneMatch="*")

    def put_if_match(self, bucket: str, key: str, data: bytes, etag: str) -> str | None:
        """Overwrite the object only while it is the version ``etag`` (If-Match): the new ETag, or
        None when it changed meanwhile."""
        return self._conditional_put(bucket, key, data, IfMatch=etag)

    def _conditional_put(self, bucket: str, key: str, data: bytes, **condition: str) -> str | None:
        try:
            written = self.client.put_object(Bucket=bucket, Key=key, Body=data, **condition, **self._extra)
        except ClientError as err:
            if error_code(err) in _CONDITION_FAILED:
                return None
            raise
        return str(written["ETag"])

    def get_with_etag(self, bucket: str, key: str) -> tuple[bytes | None, str]:
        """The object's bytes and ETag; (None, "") when there is no such key."""
        try:
            got = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if error_code(err) in _MISSING_KEY:
                return None, ""
            raise
        return got["Body"].read(), str(got["ETag"])

    def get_bytes(self, bucket: str, key: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return data


class CredentialSource:
    """Credentials from the standard boto3 chain, for DuckDB's S3 secret.

    ``current()`` returns fresh values: refreshable credentials (SSO, an assumed role, an instance
    or task role, ``credential_process``) renew themselves when close to expiry, so a build that
    waits hours on Bedrock still reads S3 afterwards. The values go only into the DuckDB connection;
    they are never logged or written.
    """

    def __init__(self, settings: AwsSettings) -> None:
        self._credentials = boto3.session.Session(region_name=settings.region).get_credentials()
        if self._credentials is None:
            from bedrock_ext.errors import ConfigError

            raise ConfigError(f"{NO_CREDENTIALS}; the aws target needs them")

    def current(self) -> tuple[str, str, str | None]:
        frozen = self._credentials.get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token
