"""SQL functions the dbt models call, registered on every dbt connection by the plugin."""

from __future__ import annotations

import functools
import json
from typing import Any

import duckdb
from duckdb.sqltypes import BOOLEAN, VARCHAR

from bedrock_ext import __version__
from bedrock_ext.aws import runtime
from bedrock_ext.aws.client import S3
from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline import lease
from bedrock_ext.pipeline.config import record_settings
from bedrock_ext.request.records import request_fingerprint
from bedrock_ext.warehouse import publish


@functools.lru_cache(maxsize=64)
def _fingerprint(task_name: str, task_json: str, defaults_json: str,
                 native_structured_output: bool | None) -> str:
    try:
        spec, defaults = json.loads(task_json), json.loads(defaults_json)
    except ValueError as err:
        raise ConfigError(f"task {task_name!r}: its settings are not valid JSON ({err})") from None
    return request_fingerprint(record_settings(task_name, spec, defaults,
                                               native_structured_output=bool(native_structured_output)))


def _build_lease(action: str) -> str:
    """``bedrock_ext_build_lease('release')``: dbt's on-run-end releases the S3 build lease the
    plugin took (``pipeline.lease``); nothing when this process holds none."""
    if action != "release":
        raise ConfigError(f"bedrock_ext_build_lease({action!r}): only 'release' (the plugin takes the lease)")
    return "released" if lease.release_all(S3(runtime.current().aws)) else "none held"


def register_functions(conn: duckdb.DuckDBPyConnection) -> None:
    """``bedrock_ext_request_fingerprint(task_name, task_json, defaults_json, native_structured_output)``:
    the request fingerprint of ``records.request_fingerprint`` for a task declared in yml, over the
    package-level request settings, with the model's native structured output flag from
    dim_bedrock_models (part of every request key). ``bedrock_ext_version()``: the package version
    (pyproject.toml, its one source), part of fct_bedrock_results' settings fingerprint, so a new
    version recomputes every row. ``bedrock_ext_changes_since()``: when this dbt command's writes
began (the plugin's start on `dbt build` / `run`; '-infinity' otherwise), which the data tests'
``where`` compares with each row's own timestamp. ``bedrock_ext_publish_prepare``,
    ``bedrock_ext_publish_swap`` and ``bedrock_ext_published_at``: the file steps of publishing for
    BI (``bedrock_ext.warehouse.publish``)."""
    functions: list[tuple[str, Any, list[Any], dict[str, Any]]] = [
        ("bedrock_ext_request_fingerprint", _fingerprint, [VARCHAR, VARCHAR, VARCHAR, BOOLEAN],
         {"side_effects": False, "null_handling": "special"}),
        ("bedrock_ext_version", lambda: __version__, [], {"side_effects": False}),
        ("bedrock_ext_changes_since", lambda: runtime.current().changes_since, [], {"side_effects": False}),
        ("bedrock_ext_build_lease", _build_lease, [VARCHAR], {"side_effects": True}),
        ("bedrock_ext_publish_prepare", publish.prepare, [VARCHAR], {"side_effects": True}),
        ("bedrock_ext_publish_swap", publish.swap, [VARCHAR, VARCHAR], {"side_effects": True}),
        ("bedrock_ext_published_at", publish.published_at, [VARCHAR, VARCHAR],
         {"side_effects": True, "null_handling": "special"}),
    ]
    registered = {name for (name,) in conn.execute("select distinct function_name from duckdb_functions() "
                                                   "where function_name like 'bedrock_ext_%'").fetchall()}
    for name, function, parameters, options in functions:
        if name not in registered:  # dbt-duckdb may configure one connection twice (a retried open)
            conn.create_function(name, function, parameters, VARCHAR, **options)
