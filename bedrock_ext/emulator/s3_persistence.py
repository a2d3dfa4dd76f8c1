"""Keeps the emulator's S3 objects on disk under a state dir, so they survive restarts.

moto keeps S3 in memory; this mirror copies every object written through the emulator's endpoint
(PUT, completed multipart upload, copy) to ``<state_dir>/s3/<bucket>/<quoted key>`` and removes
deleted ones, then loads them back into moto when an emulator starts on the same state dir.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote

from bedrock_ext.emulator.s3_reads import backend as _backend
from bedrock_ext.emulator.s3_reads import read_chunks

log = logging.getLogger("bedrock_ext.emulator")


class S3Mirror:
    """Write-through copy of moto's S3 objects under ``root``."""

    def __init__(self, root: Path, region: str) -> None:
        self.root, self.region = root, region
        root.mkdir(parents=True, exist_ok=True)

    def restore(self) -> int:
        """Load every mirrored bucket and object into moto; returns the object count."""
        backend, count = _backend(), 0
        for bucket_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            bucket = unquote(bucket_dir.name)
            if bucket not in backend.buckets:
                backend.create_bucket(bucket, self.region)
            for f in bucket_dir.iterdir():
                if f.name.endswith(".tmp~"):  # a write cut short by a crash
                    continue
                backend.put_object(bucket, unquote(f.name), f.read_bytes())
                count += 1
        log.info("restored %d S3 objects from %s", count, self.root)
        return count

    def after(self, method: str, path: str, query: str, status: int) -> None:
        """Mirror the effect of one successful S3 request (path-style URL)."""
        if status >= 300:
            return
        bucket, _, key = path.lstrip("/").partition("/")
        if not bucket:
            return
        params = parse_qs(query, keep_blank_values=True)
        bucket_dir = self.root / quote(unquote(bucket), safe="")
        if method == "PUT" and not key:
            bucket_dir.mkdir(exist_ok=True)
        elif method == "DELETE" and not key:
            shutil.rmtree(bucket_dir, ignore_errors=True)
        elif method == "POST" and "delete" in params:
            self._resync(bucket_dir, unquote(bucket))
        elif key and method == "DELETE" and "uploadId" not in params:
            (bucket_dir / quote(unquote(key), safe="")).unlink(missing_ok=True)
        elif key and (method == "PUT" and "partNumber" not in params
                      or method == "POST" and "uploadId" in params):
            self._copy(bucket_dir, unquote(bucket), unquote(key))

    def _copy(self, bucket_dir: Path, bucket: str, key: str) -> None:
        obj = _backend().get_object(bucket, key)
        if obj is None:
            return
        bucket_dir.mkdir(exist_ok=True)
        target = bucket_dir / quote(key, safe="")
        tmp = target.with_name(target.name + ".tmp~")
        with tmp.open("wb") as out:  # in chunks: no second copy of a 100+ MB object in memory
            out.writelines(read_chunks(obj, 0, obj.size - 1))
        tmp.replace(target)

    def _resync(self, bucket_dir: Path, bucket: str) -> None:
        live = {quote(k, safe="") for k in _backend().get_bucket(bucket).keys}
        for f in bucket_dir.iterdir():
            if f.name not in live:
                f.unlink()
