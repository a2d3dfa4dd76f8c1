"""dbt's partial parse, shared between the test projects that hold the same files.

Each test builds a fresh copy of a project in a temp dir, so dbt parses every file of it from
scratch (~7 s of the ~15 s of a small build). dbt can reuse a saved parse
(``target/partial_parse.msgpack``) and checks by itself whether it may: the files' checksums, the
command line's vars, the profile's connection keys, the env vars the files read, dbt's version. A
copy that holds the same files as one parsed before gets that parse's msgpack before dbt runs; dbt
then reparses only what differs (the files whose env vars changed, say) or everything when the
state check fails. What dbt does with the result is unchanged, only the time to get it.

Used by the copies of dbt_project/ (tests/dbt/conftest.py), not by the foreign projects of
tests/dbt/foreign.py: each of those differs from the others (its name, vars and the profile's path,
which dbt's state check compares), so a saved parse would never be reused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SKIPPED = frozenset({"target", "logs", "data"})
_MSGPACK = Path("target") / "partial_parse.msgpack"
_saved: dict[str, bytes] = {}


def project_digest(root: Path) -> str:
    """A digest of every file under ``root`` (symlinked packages followed) but the top-level
    target/, logs/ and data/: two projects with the same digest parse to the same manifest."""
    digest = hashlib.sha256()
    for path in sorted(_project_files(root)):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _project_files(root: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(root, followlinks=True):
        if Path(directory) == root:
            subdirs[:] = [name for name in subdirs if name not in _SKIPPED]
        subdirs[:] = [name for name in subdirs if name != "__pycache__"]
        for name in files:
            yield Path(directory) / name


@contextmanager
def reused_parse(root: Path) -> Iterator[None]:
    """Around one dbt invocation in ``root``: a project never built before gets the saved parse of
    a project with the same files, if any; after the invocation, a first parse is saved."""
    if os.environ.get("BEDROCK_EXT_TEST_FULL_PARSE"):
        yield
        return
    msgpack, digest = root / _MSGPACK, None
    if not msgpack.exists():
        digest = project_digest(root)
        if digest in _saved:
            msgpack.parent.mkdir(parents=True, exist_ok=True)
            msgpack.write_bytes(_saved[digest])
    yield
    if digest is not None and digest not in _saved and msgpack.exists():
        _saved[digest] = msgpack.read_bytes()
