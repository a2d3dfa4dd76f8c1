"""The project's S3 prefix, as one build holds it: inside the profile's scope, its bucket made (on
the emulator), held by one build at a time on this machine, and the record of every export.

**One build at a time (on this machine).** Two builds of one project started together would each
export the same pending requests and submit jobs for them: the records would be processed (and
paid) twice. ``bedrock_batch_input`` holds the prefix (:func:`hold`) before it plans anything and
``bedrock_batch_jobs`` releases it (:func:`release`) when its jobs are submitted (and, with
``wait``, finished). A second build fails at once with a message that names the holder. The lock
is an ``flock`` on a file under the temp dir, named by the endpoint, bucket and prefix: the kernel
releases it when the holder exits, however it exits (SIGKILL included). Across machines the S3
lease of ``pipeline.lease`` keeps builds apart (Bedrock's clientRequestToken still dedupes
identical jobs).

**S3 is the record, the warehouse a cache.** Each export (a batch job's records, or an on-demand
group) writes its ``bedrock_batch_input`` rows as one Parquet file,
``s3://<bucket>/<prefix>/exports/<job_key>.parquet``, beside its input files and before any job is
created (batch) or once its answers are in S3 (on-demand). A build whose ``bedrock_batch_input``
lacks some of them (a lost or deleted warehouse, a new machine, a second warehouse on the same
bucket) reads those files back before exporting anything (:meth:`Prefix.sync`): their requests
count as exported, ``bedrock_batch_jobs`` re-attaches to their jobs by name, and the staging reads
the answers already paid for. Only requests with no export on record are sent. Cost per build:
one LIST of the ``exports/`` prefix, and a read of only the files whose job key the warehouse does
not have (none, normally). Exports a warehouse made before exports were recorded (0.4 and earlier)
are recorded by its next build, once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from bedrock_ext.aws.client import S3
from bedrock_ext.aws.runtime import Runtime
from bedrock_ext.errors import ConcurrentBuildError, ConfigError
from bedrock_ext.request.record_sql import literal

log = logging.getLogger("bedrock_ext.pipeline.prefix")
FOLDER = "exports"
SUFFIX = ".parquet"
_HELD: dict[Path, int] = {}


@dataclass(frozen=True, kw_only=True)
class Prefix:
    """The project's S3 location, held by this build."""

    s3: S3
    bucket: str
    prefix: str

    @property
    def exports(self) -> str:
        """The key prefix of the exports on record."""
        return f"{self.prefix.strip('/')}/{FOLDER}/".lstrip("/")

    def record(self, session: Any, rows: str) -> None:
        """Write the rows of each exported job (or on-demand group) to S3, one file per job key.
        ``rows``: a FROM clause (a relation's name, or a parenthesized query)."""
        keys = [k for (k,) in session.execute(f"select distinct job_key from {rows} "
                                              "where job_key is not null order by 1").fetchall()]
        with tempfile.TemporaryDirectory(prefix="bedrock-ext-record-") as tmp:
            for key in keys:
                path = str(Path(tmp) / f"{key}{SUFFIX}")
                session.execute(f"COPY (select * from {rows} where job_key = {literal(key)}) "
                                f"TO {literal(path)} (FORMAT parquet)")
                self.s3.upload_file(path, self.bucket, self.exports + key + SUFFIX)
        if keys:
            log.info("recorded %d export(s) in s3://%s/%s", len(keys), self.bucket, self.exports)

    def sync(self, session: Any, this: str | None, schema: pa.Schema) -> pa.Table | None:
        """Make the warehouse and the bucket agree on the exports, with one LIST: the exports the
        warehouse has and S3 does not (made before exports were recorded) are recorded now; the
        recorded rows of the exports the warehouse does not have (``this``: bedrock_batch_input, None
        when it does not exist) are returned, or None when it has them all."""
        listed = self.s3.list_keys(self.bucket, self.exports)
        recorded = {key[len(self.exports):-len(SUFFIX)]: key for key in listed if key.endswith(SUFFIX)}
        known: set[str] = set()
        if this is not None:
            query = f"select distinct job_key from {this} where job_key is not null"
            known = {k for (k,) in session.execute(query).fetchall()}
        self._record_unrecorded(session, this, schema, sorted(known - set(recorded)))
        missing = sorted(set(recorded) - known)
        if not missing:
            return None
        table = self._read_back(session, [recorded[key] for key in missing])
        log.warning("the warehouse lacks %d export(s) recorded in s3://%s/%s (%d requests): read back, not "
                    "paid again; their jobs are re-attached and their answers read", len(missing), self.bucket,
                    self.exports, table.num_rows)
        return table.select(schema.names).cast(schema)

    def _record_unrecorded(self, session: Any, this: str | None, schema: pa.Schema, keys: list[str]) -> None:
        if not keys or this is None:
            return
        log.info("recording %d export(s) made before exports were recorded in S3", len(keys))
        session.execute("create or replace temp view bedrock_ext_unrecorded as "
                        f"select {', '.join(schema.names)} from {this} where job_key in "
                        f"({', '.join(literal(k) for k in keys)})")
        try:
            self.record(session, "bedrock_ext_unrecorded")
        finally:
            session.execute("drop view if exists bedrock_ext_unrecorded")

    def _read_back(self, session: Any, keys: list[str]) -> pa.Table:
        with tempfile.TemporaryDirectory(prefix="bedrock-ext-recover-") as tmp:
            paths = []
            for i, key in enumerate(keys):
                path = Path(tmp) / f"{i}{SUFFIX}"
                path.write_bytes(self.s3.get_bytes(self.bucket, key))
                paths.append(str(path))
            return session.execute("select * from read_parquet(?, union_by_name = true)",
                                   [paths]).to_arrow_table()


def hold(rt: Runtime, bucket: str, prefix: str, kms_key_id: str | None = None) -> Prefix:
    """The project's prefix for this build: checked against the profile's ``s3_scope``, locked for
    this process (re-entrant), its bucket made on the emulator."""
    check_scope(rt.s3_scope, bucket, prefix)
    _lock(_lock_path(rt.endpoint_label, bucket, prefix), bucket, prefix)
    held = Prefix(s3=S3(rt.aws, kms_key_id=kms_key_id), bucket=bucket, prefix=prefix)
    if rt.is_local:
        held.s3.ensure_bucket(bucket)
    return held


def release(rt: Runtime, bucket: str, prefix: str) -> None:
    """Let the next build on this machine hold the prefix (a no-op when this process does not)."""
    fd = _HELD.pop(_lock_path(rt.endpoint_label, bucket, prefix), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def check_scope(scope: tuple[str, ...], bucket: str, prefix: str) -> None:
    """The project's S3 location must lie inside the secret's scope, or DuckDB reads it unsigned."""
    location = f"s3://{bucket}/{prefix.strip('/')}/"
    if scope and not any(location.startswith(s) for s in scope):
        raise ConfigError(f"s3_scope {list(scope)} in profiles.yml does not cover the project's "
                          f"S3 location {location}: DuckDB could not read the job outputs. Set "
                          "BEDROCK_EXT_S3_BUCKET / BEDROCK_EXT_S3_PREFIX (the profile's s3_scope reads "
                          "them), or change s3_scope.")


def _lock_path(endpoint: str, bucket: str, prefix: str) -> Path:
    digest = hashlib.sha256(f"{endpoint}\x1f{bucket}\x1f{prefix.strip('/')}".encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "bedrock-ext-locks"
    folder.mkdir(exist_ok=True)
    return folder / f"{digest}.lock"


def _lock(path: Path, bucket: str, prefix: str) -> None:
    if path in _HELD:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise ConcurrentBuildError(
            f"another build is exporting and submitting to s3://{bucket}/{prefix.strip('/')}/ ({holder}). "
            "Nothing was exported by this one. Wait for that build to finish (`bedrock-ext jobs list` shows "
            "its jobs), then run dbt build again: it exports only what is still pending.") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S %Z')}".encode(), 0)
    _HELD[path] = fd
