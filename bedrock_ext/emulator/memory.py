"""Returning freed memory to the operating system after a job's large, short-lived buffers.

A job reads its whole input (up to GBs), runs every record and writes its outputs: hundreds of MB
allocated and freed in a few seconds, on worker threads. glibc keeps freed heap in per-thread
arenas, so a process that ran a few big jobs holds gigabytes it no longer uses (and the embedded
emulator shares the dbt process). ``trim`` hands it back; elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

_M_ARENA_MAX = -8  # glibc's mallopt parameter number


@functools.cache
def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(count: int = 2) -> None:
    """At most ``count`` malloc arenas for the threads created from now on."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, count)


def trim() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
