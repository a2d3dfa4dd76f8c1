"""One emulator process per state dir: an exclusive lock held for the emulator's lifetime.

Two processes on one state dir would each run the same jobs and overwrite each other's job file
(last writer wins). The lock is an ``flock`` on ``<state_dir>/emulator.lock``, which the kernel
releases when the holder exits, however it exits (SIGKILL included), so a re-run never finds a
stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bedrock_ext.emulator.errors import EmulatorError


class StateDirLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "emulator.lock"
        self._fd: int | None = None

    def acquire(self) -> StateDirLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise EmulatorError(
                f"the emulator state dir {self.path.parent} is in use by another process (pid {holder}): "
                "another dbt build or `bedrock-ext emulator serve` of this project is running. Wait for it "
                "to finish, or give this one another state_dir.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
