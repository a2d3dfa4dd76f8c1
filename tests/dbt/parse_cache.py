"""dbt's partial parse, kept for each set of project files and command-line vars.

Each test builds a fresh copy of a project in a temp dir, and many tests change the vars between
invocations; dbt then parses every file again (~2-3 s of CPU each time; in a full suite about
half of the invocations did). dbt can reuse a saved parse (``target/partial_parse.msgpack``) and
checks by itself whether it may: the files' checksums, the command line's vars, the profile's
connection keys, the env vars the files read, dbt's version. Before each invocation the project
gets the parse saved after an earlier invocation with the same files and vars (in this process),
if any; dbt then reparses only what differs (the files whose env vars changed, say) or everything
when its state check fails. What dbt does with the result is unchanged, only the time to get it.

Foreign projects (tests/dbt/foreign.py) hold their temp path in their profile, so their saves
only serve later invocations of the same project.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

_SKIPPED = frozenset({"target", "logs", "data"})
_MSGPACK = Path("target") / "partial_parse.msgpack"
_KEPT = 48  # saves of ~1.2 MB each, per test process; the least recently used goes first
_saved: OrderedDict[str, bytes] = OrderedDict()


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
def reused_parse(root: Path, args: Sequence[str]) -> Iterator[None]:
    """Around one dbt invocation in ``root`` with ``args`` (its --vars and --target count): the
    parse saved for the same files and args, if any, goes into target/ first; afterwards the
    invocation's own parse is saved."""
    if os.environ.get("BEDROCK_EXT_TEST_FULL_PARSE"):
        yield
        return
    msgpack, parsed_with = root / _MSGPACK, _parse_args(args)
    saved = _saved.get(project_digest(root) + parsed_with)
    if saved is not None:
        msgpack.parent.mkdir(parents=True, exist_ok=True)
        msgpack.write_bytes(saved)
    yield
    if msgpack.exists():  # the files may have changed meanwhile (dbt deps), so the digest again
        key = project_digest(root) + parsed_with
        _saved[key] = msgpack.read_bytes()
        _saved.move_to_end(key)
        while len(_saved) > _KEPT:
            _saved.popitem(last=False)


def _parse_args(args: Sequence[str]) -> str:
    """The arguments dbt's state check compares: the vars and the target."""
    kept = [f"{a}={b}" for a, b in zip(args, args[1:], strict=False) if a in {"--vars", "--target", "-t"}]
    return "\0" + "\0".join(kept)
