"""S3 is the record, the warehouse a cache: every export's rows in S3, read back by a warehouse
that lacks them.

Each export (a batch job's records, or an on-demand group) writes its ``bedrock_batch_input``
rows as one Parquet file, ``s3://<bucket>/<prefix>/exports/<job_key>.parquet``, beside its input
files and before any job is created (batch) or once its answers are in S3 (on-demand). A build
whose ``bedrock_batch_input`` lacks some of them (a lost or deleted warehouse, a new machine, a
second warehouse on the same bucket) reads those files back before exporting anything: their
requests count as exported, ``bedrock_batch_jobs`` re-attaches to their jobs by name, and the
staging reads the answers already paid for. Only requests with no export on record are sent.

Cost per build: one LIST of the ``exports/`` prefix, and a read of only the files whose job key
the warehouse does not have (none, normally). Exports a warehouse made before exports were
recorded (0.4 and earlier) are recorded by its next build (``sync``), once.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from bedrock_ext.aws.client import S3
from bedrock_ext.request.record_sql import literal

log = logging.getLogger("bedrock_ext.pipeline.recovery")
FOLDER = "exports"
SUFFIX = ".parquet"


def folder(prefix: str) -> str:
    return f"{prefix.strip('/')}/{FOLDER}/".lstrip("/")


def record(session: Any, rows: Any, *, s3: S3, bucket: str, prefix: str) -> None:
    """Write the rows of each exported job (or on-demand group) to S3, one file per job key.
    ``rows``: an Arrow table, or the name of a relation (the backfill of a warehouse's exports)."""
    relation = rows if isinstance(rows, str) else "bedrock_ext_recorded_rows"
    if not isinstance(rows, str):
        session.register(relation, rows)
    try:
        keys = [k for (k,) in session.execute(f"select distinct job_key from {relation} "
                                              "where job_key is not null order by 1").fetchall()]
        with tempfile.TemporaryDirectory(prefix="bedrock-ext-record-") as tmp:
            for key in keys:
                path = str(Path(tmp) / f"{key}{SUFFIX}")
                session.execute(f"COPY (select * from {relation} where job_key = {literal(key)}) "
                                f"TO {literal(path)} (FORMAT parquet)")
                s3.upload_file(path, bucket, folder(prefix) + key + SUFFIX)
    finally:
        if not isinstance(rows, str):
            session.unregister(relation)
    if keys:
        log.info("recorded %d export(s) in s3://%s/%s", len(keys), bucket, folder(prefix))


def sync(session: Any, this: Any | None, schema: pa.Schema, *, s3: S3, bucket: str,
         prefix: str) -> pa.Table | None:
    """Make the warehouse and the bucket agree on the exports, with one LIST: the exports the
    warehouse has and S3 does not (made before exports were recorded) are recorded now; the
    recorded rows of the exports the warehouse does not have (``this``: bedrock_batch_input, None
    when it does not exist) are returned, or None when it has them all."""
    recorded = {key[len(folder(prefix)):-len(SUFFIX)]: key for key in s3.list_keys(bucket, folder(prefix))
                if key.endswith(SUFFIX)}
    known: set[str] = set()
    if this is not None:
        known = {k for (k,) in session.execute(f"select distinct job_key from {this} where job_key is not null")
                 .fetchall()}
    unrecorded = sorted(known - set(recorded))
    if unrecorded:
        log.info("recording %d export(s) made before exports were recorded in S3", len(unrecorded))
        session.execute("create or replace temp view bedrock_ext_unrecorded as "
                        f"select {', '.join(schema.names)} from {this} where job_key in "
                        f"({', '.join(literal(k) for k in unrecorded)})")
        try:
            record(session, "bedrock_ext_unrecorded", s3=s3, bucket=bucket, prefix=prefix)
        finally:
            session.execute("drop view if exists bedrock_ext_unrecorded")
    missing = sorted(set(recorded) - known)
    if not missing:
        return None
    with tempfile.TemporaryDirectory(prefix="bedrock-ext-recover-") as tmp:
        paths = []
        for key in missing:
            path = Path(tmp) / f"{key}{SUFFIX}"
            path.write_bytes(s3.get_bytes(bucket, recorded[key]))
            paths.append(str(path))
        table = session.execute("select * from read_parquet(?, union_by_name = true)", [paths]).to_arrow_table()
    log.warning("the warehouse lacks %d export(s) recorded in s3://%s/%s (%d requests): read back, not paid "
                "again; their jobs are re-attached and their answers read", len(missing), bucket,
                folder(prefix), table.num_rows)
    return table.select(schema.names).cast(schema)
