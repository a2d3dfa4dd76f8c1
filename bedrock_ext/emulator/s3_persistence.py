"""Keeps the emulator's S3 objects on disk under a state dir, so they survive restarts.

moto keeps S3 in memory; this mirror copies every object written through the emulator's endpoint
(PUT, completed multipart upload, copy) to ``<state_dir>/s3/<bucket>/<quoted key>``, its ETag to
``<state_dir>/s3/<bucket>/%etags/<quoted key>`` (a quoted key never starts with ``%e``), and
removes deleted ones, then loads them back into moto when an emulator starts on the same state dir.

A large object is restored without copying it: its moto key reads the mirrored file itself (moto
replaces a key on every write, it does not write into one), with the ETag it had, so an emulator
started on gigabytes of job files (the local target starts one per build) is up in moments and
multipart ETags survive the restart.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote

from bedrock_ext.emulator.s3_reads import STREAM_FROM, read_chunks
from bedrock_ext.emulator.s3_reads import backend as _backend

log = logging.getLogger("bedrock_ext.emulator")
_ETAGS = "%etags"


class MirroredFile:
    """A read-only stand-in for a moto key's value buffer that reads the mirrored file, opened per
    read: no file handle is held per object (10M rows are 400 such files)."""

    def __init__(self, path: Path) -> None:
        self._path, self._position = path, 0

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._path.stat().st_size}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        with self._path.open("rb") as f:
            f.seek(self._position)
            data = f.read(size)
        self._position += len(data)
        return data

    def close(self) -> None:
        """Nothing is held open."""


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
                if f.is_dir() or f.name.endswith(".tmp~"):  # the ETags; a write cut short by a crash
                    continue
                self._restore(bucket, f)
                count += 1
        log.info("restored %d S3 objects from %s", count, self.root)
        return count

    def _restore(self, bucket: str, f: Path) -> None:
        size = f.stat().st_size
        etag_file = f.parent / _ETAGS / f.name
        etag, _, etag_size = (etag_file.read_text() if etag_file.exists() else "").partition(" ")
        if size < STREAM_FROM or etag_size != str(size):  # small, mirrored before ETags were kept, or cut short
            _backend().put_object(bucket, unquote(f.name), f.read_bytes())
            return
        key = _backend().put_object(bucket, unquote(f.name), b"", etag=etag)
        key._value_buffer.close()  # moto's buffer of the empty value: the mirrored file instead
        key._value_buffer = MirroredFile(f)
        key.contentsize = size

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
            bucket_dir.mkdir(parents=True, exist_ok=True)  # parents: the state dir may have been deleted
        elif method == "DELETE" and not key:
            shutil.rmtree(bucket_dir, ignore_errors=True)
        elif method == "POST" and "delete" in params:
            self._resync(bucket_dir, unquote(bucket))
        elif key and method == "DELETE" and "uploadId" not in params:
            name = quote(unquote(key), safe="")
            (bucket_dir / name).unlink(missing_ok=True)
            (bucket_dir / _ETAGS / name).unlink(missing_ok=True)
        elif key and (method == "PUT" and "partNumber" not in params
                      or method == "POST" and "uploadId" in params):
            self._copy(bucket_dir, unquote(bucket), unquote(key))

    def _copy(self, bucket_dir: Path, bucket: str, key: str) -> None:
        obj = _backend().get_object(bucket, key)
        if obj is None:
            return
        (bucket_dir / _ETAGS).mkdir(parents=True, exist_ok=True)
        target = bucket_dir / quote(key, safe="")
        tmp = target.with_name(target.name + ".tmp~")
        with tmp.open("wb") as out:  # in chunks: no second copy of a 100+ MB object in memory
            out.writelines(read_chunks(obj, 0, obj.size - 1))
        etag = bucket_dir / _ETAGS / target.name
        etag_tmp = etag.with_name(tmp.name)
        etag_tmp.write_text(obj.etag.strip('"') + f" {obj.size}")  # moto takes it unquoted
        etag_tmp.replace(etag)
        tmp.replace(target)

    def _resync(self, bucket_dir: Path, bucket: str) -> None:
        live = {quote(k, safe="") for k in _backend().get_bucket(bucket).keys}
        etags = bucket_dir / _ETAGS
        for f in [*bucket_dir.iterdir(), *(etags.iterdir() if etags.is_dir() else [])]:
            if f.is_file() and f.name not in live:
                f.unlink()
