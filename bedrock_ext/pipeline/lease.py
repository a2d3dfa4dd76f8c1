"""One build at a time per S3 prefix, on any machine: a lease object in the bucket.

``prefix`` keeps two builds on one machine apart; builds on two machines sharing one warehouse (a
DuckLake target) and one bucket need the state where both see it. The lease is
``<prefix>/locks/build.json``, created with S3's conditional write (``If-None-Match: *``: of two
builds, exactly one creates it), renewed by the holder every ``ttl_s / 3`` seconds with ``If-Match``
on its own ETag (a build that lost it learns so), and deleted at the end of the build (dbt's on-run-
end; the plugin takes it when it starts, before dbt reads the warehouse, so dbt's view of the tables
is the previous holder's final one). A build killed with SIGKILL stops renewing: its lease expires
after ``ttl_s`` and the next build takes it over (with ``If-Match`` on the stale ETag, so two cannot
take it over together). A second build waits up to ``wait_s`` for the lease, logging who holds it,
then stops with a message that names the holder; it never writes a table meanwhile.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bedrock_ext.aws.client import S3
from bedrock_ext.errors import ConcurrentBuildError

log = logging.getLogger("bedrock_ext.lease")


@dataclass(frozen=True, kw_only=True)
class Lease:
    bucket: str
    key: str
    etag: str
    holder: str
    ttl_s: float


_HELD: dict[tuple[str, str], Lease] = {}
_RENEWERS: dict[tuple[str, str], threading.Event] = {}
_GUARD = threading.Lock()


def key_of(prefix: str) -> str:
    return f"{prefix.strip('/')}/locks/build.json"


def acquire(s3: S3, bucket: str, prefix: str, *, wait_s: float, ttl_s: float, poll_s: float = 2.0) -> Lease:
    """Take the prefix's lease (or keep it, when this process holds it), waiting up to ``wait_s``."""
    key = key_of(prefix)
    with _GUARD:
        if (bucket, key) in _HELD:
            return _HELD[(bucket, key)]
    holder = f"{socket.gethostname()} pid {os.getpid()} build {uuid.uuid4().hex[:8]}"
    deadline, waited = time.monotonic() + wait_s, False
    while True:
        lease = _try_take(s3, bucket, key, holder, ttl_s)
        if lease is not None:
            _start_renewing(s3, lease)
            return lease
        current = _read(s3, bucket, key)
        if time.monotonic() >= deadline:
            raise ConcurrentBuildError(
                f"another build holds s3://{bucket}/{key}: {_describe(current)}. One build at a time writes "
                f"to an S3 prefix and its warehouse; wait for it to end (the plugin config build_lease_wait_s "
                f"waits longer), or, if it was killed, its lease expires by itself.")
        if not waited:
            log.info("waiting for the build lease s3://%s/%s: %s", bucket, key, _describe(current))
            waited = True
        time.sleep(min(poll_s, max(0.05, deadline - time.monotonic())))


def release(s3: S3, bucket: str, prefix: str) -> bool:
    """Delete this process's lease of the prefix (the end of its build); False when it holds none."""
    return _release(s3, bucket, key_of(prefix))


def release_all(s3: S3) -> bool:
    """Release every lease this process holds (the end of its build)."""
    with _GUARD:
        held = list(_HELD)
    released = [_release(s3, bucket, key) for bucket, key in held]
    return any(released)


def _release(s3: S3, bucket: str, key: str) -> bool:
    with _GUARD:
        lease = _HELD.pop((bucket, key), None)
        stop = _RENEWERS.pop((bucket, key), None)
    if stop is not None:
        stop.set()
    if lease is None:
        return False
    current = _read(s3, bucket, key)
    if current is not None and current.get("holder") == lease.holder:
        s3.client.delete_object(Bucket=bucket, Key=key)
    return True


def _try_take(s3: S3, bucket: str, key: str, holder: str, ttl_s: float) -> Lease | None:
    body = _body(holder, ttl_s)
    etag = s3.put_if_absent(bucket, key, body)
    if etag is None:  # held: take it over only when it expired
        current, current_etag = s3.get_with_etag(bucket, key)
        if current is None:
            return None  # released meanwhile: the next try creates it
        if _expires_at(json.loads(current)) > dt.datetime.now(dt.UTC):
            return None
        etag = s3.put_if_match(bucket, key, body, current_etag)
        if etag is None:
            return None
        log.warning("took over an expired build lease s3://%s/%s (%s)", bucket, key, current.decode()[:300])
    lease = Lease(bucket=bucket, key=key, etag=etag, holder=holder, ttl_s=ttl_s)
    with _GUARD:
        _HELD[(bucket, key)] = lease
    return lease


def _start_renewing(s3: S3, lease: Lease) -> None:
    stop = threading.Event()
    with _GUARD:
        _RENEWERS[(lease.bucket, lease.key)] = stop

    def renew() -> None:
        current = lease
        while not stop.wait(current.ttl_s / 3):
            body = _body(current.holder, current.ttl_s)
            try:
                etag = s3.put_if_match(current.bucket, current.key, body, current.etag)
            except Exception as err:  # noqa: BLE001 - a network blip: try again at the next tick
                log.warning("could not renew the build lease s3://%s/%s (%s); trying again",
                            current.bucket, current.key, err)
                continue
            if etag is None:
                log.error("lost the build lease s3://%s/%s (another build took it over)",
                          current.bucket, current.key)
                return
            current = Lease(bucket=current.bucket, key=current.key, etag=etag, holder=current.holder,
                            ttl_s=current.ttl_s)
            with _GUARD:
                if (current.bucket, current.key) in _HELD:
                    _HELD[(current.bucket, current.key)] = current

    threading.Thread(target=renew, name="bedrock-ext-lease", daemon=True).start()


def _body(holder: str, ttl_s: float) -> bytes:
    now = dt.datetime.now(dt.UTC)
    return json.dumps({"holder": holder, "renewed_at": now.isoformat(),
                       "expires_at": (now + dt.timedelta(seconds=ttl_s)).isoformat()}).encode()


def _read(s3: S3, bucket: str, key: str) -> dict[str, Any] | None:
    body, _ = s3.get_with_etag(bucket, key)
    return json.loads(body) if body else None


def _expires_at(lease: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(lease.get("expires_at")))


def _describe(lease: dict[str, Any] | None) -> str:
    if lease is None:
        return "(released just now)"
    return (f"{lease.get('holder')}, renewed {lease.get('renewed_at')}, "
            f"expires {lease.get('expires_at')} unless renewed")
