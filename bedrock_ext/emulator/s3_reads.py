"""Large S3 GETs served in chunks from moto's object buffer instead of through moto's GET.

moto answers every GET, ranged or not, by reading the whole object into memory (and slicing a
second copy for a range). DuckDB reads a 160 MB output file as a few ranged GETs, the emulator's
own jobs read their inputs in 16 MiB parts, and a build reads 20 such files at once: moto's GET
held gigabytes in the emulator for bytes that sit in its (disk-backed) object buffers anyway.

For a plain GET of an object of at least ``STREAM_FROM`` bytes, moto itself answers the request as
a HEAD (authorization, conditional headers, Range, the status and every header it would send), and
only the body is streamed here from the object's buffer, 1 MiB at a time. Anything else (errors,
small objects, queries such as versionId or partNumber) goes through moto unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeKey, s3_backends

STREAM_FROM = 16 * 2**20
CHUNK = 2**20
_PLAIN_QUERIES = ("", "x-id=GetObject")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/\d+")

Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]


def backend() -> Any:
    """moto's S3 backend for the default account (the one the emulator's requests use)."""
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def read_chunks(key: FakeKey, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start``..``end`` (inclusive) of a moto object, ``CHUNK`` at a time, each read under
    the object's lock (another thread may read the same object)."""
    position = start
    while position <= end:
        with key.lock:
            key._value_buffer.seek(position)  # moto has no public ranged read
            chunk = key._value_buffer.read(min(CHUNK, end + 1 - position))
        if not chunk:
            return
        position += len(chunk)
        yield chunk


def stream_large_get(moto: Wsgi, environ: dict[str, Any], start_response: Any) -> Iterable[bytes] | None:
    """The response to a plain GET of a large object, or None when moto should answer it."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING", "") not in _PLAIN_QUERIES:
        return None
    bucket, _, name = environ.get("PATH_INFO", "").lstrip("/").partition("/")
    if not bucket or not name:
        return None
    try:
        key = backend().get_object(bucket, name)
    except Exception:  # noqa: BLE001 - no such bucket or key: moto answers with its error
        return None
    if key is None or key.size < STREAM_FROM:
        return None
    answered: list[tuple[str, list[tuple[str, str]]]] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answered.append((status, headers))
        return lambda _data: None

    head = moto({**environ, "REQUEST_METHOD": "HEAD"}, capture)
    for _ in head:  # a HEAD has no body; consume and close it as WSGI requires
        pass
    getattr(head, "close", lambda: None)()
    if not answered or int(answered[0][0].split()[0]) not in (200, 206):
        return None
    status, headers = answered[0]
    found = dict((k.lower(), v) for k, v in headers)
    if found.get("etag", "").strip('"') != key.etag.strip('"'):
        return None  # the key looked up here is not the one moto answered for
    span = _CONTENT_RANGE.fullmatch(found.get("content-range", ""))
    start, end = (int(span.group(1)), int(span.group(2))) if span else (0, key.size - 1)
    whole = start == 0 and end == key.size - 1
    start_response(status, _checksum_as_get(headers, key, whole, environ.get("HTTP_X_AMZ_CHECKSUM_MODE")))
    return read_chunks(key, start, end)


def _checksum_as_get(headers: list[tuple[str, str]], key: FakeKey, whole: bool,
                     mode: str | None) -> list[tuple[str, str]]:
    """The checksum headers moto's GET would send, where its HEAD differs: a multipart object's
    composite checksum carries its part count (``...-3``: clients then do not check it against the
    body), with its type; a part of the object carries none."""
    kept = [(k, v) for k, v in headers if not k.lower().startswith("x-amz-checksum-")]
    if not whole or mode != "ENABLED" or not key.checksum_algorithm:
        return kept
    value = key.checksum_value
    if key.checksum_type == "COMPOSITE":
        value = f"{value}-{key.checksum_parts}"
    kept.append((f"x-amz-checksum-{key.checksum_algorithm.lower()}", str(value)))
    if key.checksum_type:
        kept.append(("x-amz-checksum-type", str(key.checksum_type)))
    return kept
