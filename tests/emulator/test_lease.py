"""The S3 build lease (bedrock_ext.pipeline.lease) against the emulator's S3: one holder per prefix,
a second build waits or stops naming the holder, an expired lease is taken over, a release only
deletes the holder's own lease."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bedrock_ext.aws.client import S3, AwsSettings
from bedrock_ext.errors import ConcurrentBuildError
from bedrock_ext.pipeline import lease
from tests.emulator.conftest import Aws

PREFIX = "team/project"


@pytest.fixture
def s3(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    renewers: dict[Any, threading.Event] = {}
    monkeypatch.setattr(lease, "_HELD", {})
    monkeypatch.setattr(lease, "_RENEWERS", renewers)
    yield S3(AwsSettings(region="us-east-1", endpoint_url=aws.emulator.endpoint_url, placeholder_credentials=True))
    for stop in [*renewers.values(), *lease._RENEWERS.values()]:
        stop.set()  # no renewal left running against a stopped emulator


def _other_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What another machine sees: none of this process's leases."""
    monkeypatch.setattr(lease, "_HELD", {})
    monkeypatch.setattr(lease, "_RENEWERS", {})


def test_a_second_build_stops_naming_the_holder(s3: S3, aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    held = lease.acquire(s3, aws.bucket, PREFIX, wait_s=0, ttl_s=60)
    assert lease.acquire(s3, aws.bucket, PREFIX, wait_s=0, ttl_s=60) == held  # the holder itself: kept
    _other_process(monkeypatch)
    with pytest.raises(ConcurrentBuildError, match=f"another build holds s3://{aws.bucket}/{PREFIX}/locks/build.json: "
                       f"{held.holder}"):
        lease.acquire(s3, aws.bucket, PREFIX, wait_s=0.2, ttl_s=60, poll_s=0.05)


def test_a_waiting_build_takes_the_lease_when_the_holder_releases(s3: S3, aws: Aws,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    held = lease.acquire(s3, aws.bucket, PREFIX, wait_s=0, ttl_s=60)
    holders = dict(lease._HELD)
    _other_process(monkeypatch)

    def release_soon() -> None:
        time.sleep(0.5)
        with monkeypatch.context() as m:
            m.setattr(lease, "_HELD", holders)
            assert lease.release(s3, aws.bucket, PREFIX)

    threading.Thread(target=release_soon).start()
    started = time.monotonic()
    taken = lease.acquire(s3, aws.bucket, PREFIX, wait_s=10, ttl_s=60, poll_s=0.05)
    assert taken.holder != held.holder and 0.4 < time.monotonic() - started < 5


def test_an_expired_lease_is_taken_over_and_a_release_deletes_only_its_own(s3: S3, aws: Aws,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    key = lease.key_of(PREFIX)
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=json.dumps(
        {"holder": "a killed build", "renewed_at": past, "expires_at": past}).encode())
    assert not lease.release(s3, aws.bucket, PREFIX)  # this process holds none: nothing deleted
    assert aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
    taken = lease.acquire(s3, aws.bucket, PREFIX, wait_s=0, ttl_s=60)
    body = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read())
    assert body["holder"] == taken.holder and dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.now(dt.UTC)
    assert lease.release(s3, aws.bucket, PREFIX)
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix=f"{PREFIX}/locks/")


def test_the_holder_renews_its_lease_before_it_expires(s3: S3, aws: Aws) -> None:
    lease.acquire(s3, aws.bucket, PREFIX, wait_s=0, ttl_s=0.6)
    first = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=lease.key_of(PREFIX))["Body"].read())
    time.sleep(1.0)
    later = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=lease.key_of(PREFIX))["Body"].read())
    assert later["expires_at"] > first["expires_at"]
    assert lease.release(s3, aws.bucket, PREFIX)
