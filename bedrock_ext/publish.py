"""Publish the marts to a DuckDB file that BI tools read while dbt builds.

dbt holds the warehouse file's write lock for the whole build (hours when it waits on Bedrock).
The marts are copied into ``<file>.tmp`` (a database the build attaches, writes, checkpoints and
detaches) and that file is renamed over the published one: a rename is atomic, so a reader sees
the previous build's marts or the new ones, never a mix and never a lock. Connections opened
before the swap keep reading the previous file until they reconnect.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bedrock_ext.errors import ConfigError

log = logging.getLogger("bedrock_ext.publish")
_ALIAS = "bedrock_ext_publish"


def default_path(session: Any) -> Path:
    """Next to the warehouse file: ``<warehouse stem>_bi.duckdb``."""
    (path,) = session.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if not path:
        raise ConfigError("the warehouse is in memory: set the bi_database_path var to publish the marts")
    warehouse = Path(path)
    return warehouse.with_name(f"{warehouse.stem}_bi.duckdb")


def publish(session: Any, relations: Sequence[tuple[str, str]], path: Path) -> list[tuple[str, int]]:
    """Copy each ``(name, relation)`` into a fresh file and swap it in; returns (name, rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)  # left by a build killed mid-publish
    quoted = str(tmp).replace("'", "''")
    session.execute(f"ATTACH '{quoted}' AS {_ALIAS}")
    try:
        counts = []
        for name, relation in relations:
            session.execute(f'CREATE TABLE {_ALIAS}.main."{name}" AS SELECT * FROM {relation}')
            (rows,) = session.execute(f'SELECT count(*) FROM {_ALIAS}.main."{name}"').fetchone()
            counts.append((name, int(rows)))
        session.execute(
            f"CREATE TABLE {_ALIAS}.main.bedrock_ext_published AS SELECT "
            f"'{dt.datetime.now(dt.UTC).isoformat()}'::timestamptz AS published_at"
        )
        session.execute(f"CHECKPOINT {_ALIAS}")
    finally:
        session.execute(f"DETACH {_ALIAS}")
    os.replace(tmp, path)
    log.info(
        "published %s to %s for BI (read it with read_only=True; it is replaced at the end of each build)",
        ", ".join(f"{n} ({r} rows)" for n, r in counts),
        path,
    )
    return counts
