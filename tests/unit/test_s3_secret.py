"""DuckDB's S3 secret: scoped to the project's prefix, renewed when the credentials rotate."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bedrock_ext.aws.client import AwsSettings
from bedrock_ext.plugin import Plugin
from bedrock_ext.warehouse.duckdb_s3 import create_s3_secret, ensure_httpfs


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """httpfs from its wheel, never downloaded (autoinstall off)."""
    ensure_httpfs(str(tmp_path))
    conn = duckdb.connect(config={"extension_directory": str(tmp_path), "autoinstall_known_extensions": False})
    conn.execute("LOAD httpfs")
    return conn


def _secret(con: duckdb.DuckDBPyConnection) -> tuple[list[str], str]:
    scope, text = con.execute(
        "select scope, secret_string from duckdb_secrets() where name = 'bedrock_ext_s3'").fetchone()
    return scope, text


def test_secret_is_scoped_to_the_project_prefix(con: duckdb.DuckDBPyConnection) -> None:
    create_s3_secret(con, AwsSettings(region="eu-west-1"), ("AKIA1", "s1", None), ["s3://bkt/call-summaries/"])
    scope, text = _secret(con)
    assert scope == ["s3://bkt/call-summaries/"] and "key_id=AKIA1" in text and "region=eu-west-1" in text


class _Rotating:
    """Stands in for aws.CredentialSource: returns new values after ``rotate()``."""

    def __init__(self) -> None:
        self.values = ("AKIAOLD", "old-secret", "old-token")

    def current(self) -> tuple[str, str, str | None]:
        return self.values


def test_each_cursor_renews_the_secret_after_the_credentials_rotate(con: duckdb.DuckDBPyConnection) -> None:
    plugin = Plugin.__new__(Plugin)  # the attributes initialize() sets for mode: aws
    plugin.runtime = type("R", (), {"aws": AwsSettings(region="us-east-1")})()
    plugin._credentials, plugin._secret_credentials, plugin.s3_scope = _Rotating(), None, ["s3://bkt/p/"]
    plugin._write_secret(con)
    assert "key_id=AKIAOLD" in _secret(con)[1]
    plugin.configure_cursor(con.cursor())  # unchanged: nothing rewritten
    assert "key_id=AKIAOLD" in _secret(con)[1]
    plugin._credentials.values = ("AKIANEW", "new-secret", "new-token")  # an STS session renewed
    plugin.configure_cursor(con.cursor())
    scope, text = _secret(con)
    assert "key_id=AKIANEW" in text and "new-token" not in text and scope == ["s3://bkt/p/"]  # redacted


def test_a_scope_that_misses_the_project_location_is_refused_before_export() -> None:
    from bedrock_ext.errors import ConfigError
    from bedrock_ext.pipeline.prefix import check_scope

    scope = ("s3://bkt/call-summaries/",)
    check_scope(scope, "bkt", "call-summaries")  # inside: fine
    check_scope(scope, "bkt", "/call-summaries/daily")
    with pytest.raises(ConfigError) as exc:
        check_scope(scope, "other-bucket", "call-summaries")
    assert "does not cover the project's S3 location s3://other-bucket/call-summaries/" in str(exc.value)
    check_scope((), "any-bucket", "p")  # no scope: everything
