"""One build at a time exports and submits to an S3 prefix (on this machine).

Two builds of one project started together would each export the same pending requests and
submit jobs for them: the records would be processed (and paid) twice. ``bedrock_batch_input``
takes this lock before it plans anything and ``bedrock_batch_jobs`` releases it when its jobs are
submitted (and, with ``wait``, finished). A second build fails at once with a message that names
the holder. The lock is an ``flock`` on a file under the temp dir, named by the endpoint, bucket
and prefix: the kernel releases it when the holder exits, however it exits (SIGKILL included).
It does not reach across machines (Bedrock's clientRequestToken still dedupes identical jobs).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from pathlib import Path

from bedrock_ext.errors import ConcurrentBuildError

_HELD: dict[Path, int] = {}


def _path(endpoint: str, bucket: str, prefix: str) -> Path:
    digest = hashlib.sha256(f"{endpoint}\x1f{bucket}\x1f{prefix.strip('/')}".encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "bedrock-ext-locks"
    folder.mkdir(exist_ok=True)
    return folder / f"{digest}.lock"


def acquire(endpoint: str, bucket: str, prefix: str) -> None:
    """Hold the prefix's lock for this process (re-entrant: a second call is a no-op)."""
    path = _path(endpoint, bucket, prefix)
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


def release(endpoint: str, bucket: str, prefix: str) -> None:
    fd = _HELD.pop(_path(endpoint, bucket, prefix), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
