"""SQL functions the dbt models call, registered on every dbt connection by the plugin."""

from __future__ import annotations

import functools

import duckdb
from duckdb.sqltypes import BIGINT, DOUBLE, VARCHAR

from bedrock_ext.errors import ConfigError
from bedrock_ext.records import RecordSettings, request_fingerprint


@functools.lru_cache(maxsize=64)
def _fingerprint(model_id: str, prompt_version: str, max_tokens: int | None, temperature: float | None,
                 top_p: float | None, top_k: int | None) -> str:
    if max_tokens is None or temperature is None:
        raise ConfigError("dbt vars 'max_tokens' (an integer) and 'temperature' (a number) must be set")
    settings = RecordSettings(model_id=model_id, prompt_version=prompt_version, max_tokens=int(max_tokens),
                              temperature=float(temperature), top_p=top_p,
                              top_k=None if top_k is None else int(top_k))
    return request_fingerprint(settings)


def register_functions(conn: duckdb.DuckDBPyConnection) -> None:
    """``bedrock_ext_request_fingerprint(model_id, prompt_version, max_tokens, temperature, top_p,
    top_k)``: the request fingerprint of ``records.request_fingerprint`` (part of every request key)."""
    conn.create_function("bedrock_ext_request_fingerprint", _fingerprint,
                         [VARCHAR, VARCHAR, BIGINT, DOUBLE, DOUBLE, BIGINT], VARCHAR,
                         null_handling="special", side_effects=False)
