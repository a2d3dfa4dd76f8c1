"""Publish the marts to a DuckDB file that BI tools read while dbt builds: the file-system half.

dbt holds the warehouse file's write lock for the whole build (hours when it waits on Bedrock).
The package's model ``bedrock_bi_published_marts`` (macro ``publish_for_bi``) copies the marts
into ``<file>.tmp`` (a database it attaches, writes, checkpoints and detaches) and renames that
file over the published one: a rename is atomic, so a reader sees the previous build's marts or
the new ones, never a mix and never a lock. Connections opened before the swap keep reading the
previous file until they reconnect. A build whose marts are those the file already holds (their
fingerprint, stored in the file) keeps it. The SQL functions here are the steps SQL cannot take.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

log = logging.getLogger("bedrock_ext.warehouse.publish")


def prepare(path: str) -> str:
    """``bedrock_ext_publish_prepare(path)``: the temporary file to write (``<path>.tmp``), with
    the folder created and what a build killed mid-publish left behind removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    return str(tmp)


def swap(tmp: str, path: str) -> str:
    """``bedrock_ext_publish_swap(tmp, path)``: rename the written file over the published one."""
    os.replace(tmp, path)
    log.info("published the marts to %s for BI (read it with read_only=True; it is replaced at the end of each "
             "build)", path)
    return str(Path(path).resolve())


def published_at(path: str, fingerprint: str) -> str | None:
    """``bedrock_ext_published_at(path, fingerprint)``: when the published file at ``path`` was
    written, if it holds the marts of this fingerprint (nothing new to publish); null when there is
    no such file, it holds other marts, or it cannot be read (then it is written again)."""
    if not Path(path).is_file():
        return None
    try:
        with duckdb.connect(path, read_only=True) as con:
            row = con.execute("select published_at::varchar from bedrock_ext_published "
                              "where marts_fingerprint = ?", [fingerprint]).fetchone()
    except duckdb.Error as err:  # a file of an earlier version (no fingerprint), or not a database
        log.info("the published file %s is written again: %s", path, str(err).splitlines()[0])
        return None
    return str(row[0]) if row else None
