"""dbt-duckdb plugin: httpfs without network, the S3 secret, and the local emulator.

profiles.yml::

    plugins:
      - module: bedrock_ext.plugin
        alias: bedrock
        config: {mode: local, state_dir: target/emulator}       # or {mode: aws, region: ...}

`initialize` runs before DuckDB connects (stack.md §3): it installs httpfs from the
`duckdb-extension-httpfs` wheel into the connection's extension_directory, starts the emulator for
``mode: local`` and records the runtime for the Python models. `configure_connection` creates the
S3 secret: the emulator's endpoint locally, or credentials from the standard boto3 chain on AWS.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger
from dbt.flags import get_flags
from dbt_common.exceptions import DbtRuntimeError

from bedrock_ext.aws import runtime
from bedrock_ext.aws.client import S3, AwsSettings, CredentialSource
from bedrock_ext.errors import BedrockExtError, ConfigError
from bedrock_ext.pipeline import lease
from bedrock_ext.warehouse.duckdb_s3 import create_s3_secret, ensure_extensions
from bedrock_ext.warehouse.sql_functions import register_functions

_EMULATORS: dict[Path, Any] = {}
_DBT_LOG = AdapterLogger("bedrock_ext")


class _DbtLogHandler(logging.Handler):
    """Forwards bedrock_ext log records into dbt's log, so long waits show progress there."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            _DBT_LOG.warning(message)
        else:
            _DBT_LOG.info(message)


def _bridge_logs() -> None:
    logger = logging.getLogger("bedrock_ext")
    if not any(isinstance(h, _DbtLogHandler) for h in logger.handlers):
        logger.addHandler(_DbtLogHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False


def local_emulator(state_dir: Path, settings: dict[str, Any] | None = None) -> Any:
    """One emulator per state dir per process (dbt may build several environments).

    ``settings`` (timings, quotas, faults) come from the plugin config's ``emulator`` key and the
    env var BEDROCK_EXT_EMULATOR_CONFIG (JSON), used by tests and demos of failure handling.
    """
    try:
        from bedrock_ext.emulator.config import EmulatorConfig
        from bedrock_ext.emulator.errors import EmulatorError
        from bedrock_ext.emulator.server import Emulator
    except ImportError as err:
        raise ConfigError(f"the bedrock_ext plugin's mode: local needs the local emulator, which is not "
                          f"installed ({err}): pip install 'bedrock-ext[local]', or use mode: aws") from None

    key = state_dir.resolve()
    if key not in _EMULATORS:
        merged = {**(settings or {}), **json.loads(os.environ.get("BEDROCK_EXT_EMULATOR_CONFIG") or "{}")}
        try:
            _EMULATORS[key] = Emulator(EmulatorConfig().updated(merged), state_dir=key).start()
        except EmulatorError as err:  # the emulator's own error tree: ours to translate at this edge
            raise ConfigError(str(err)) from None
    return _EMULATORS[key]


def _lake_data_paths(creds: Any) -> list[str]:
    """The S3 data paths of the profile's DuckLake attachments (the ``lake`` target)."""
    paths = []
    for attachment in (getattr(creds, "attach", None) or []):
        options = getattr(attachment, "options", None) or {}
        data_path = str(options.get("data_path") or "")
        if data_path.startswith("s3://"):
            paths.append(data_path)
    return paths


def _bucket_and_prefix(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def shutdown_local_emulators() -> None:
    """Stop every emulator this process started (tests call it between builds)."""
    while _EMULATORS:
        _, emulator = _EMULATORS.popitem()
        emulator.stop()


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Set up the target; a problem the user can fix is a dbt runtime error (one message, no
        traceback), never a crash."""
        try:
            self._initialize(plugin_config)
        except BedrockExtError as err:
            raise DbtRuntimeError(f"bedrock_ext plugin: {err}") from None

    def _initialize(self, plugin_config: dict[str, Any]) -> None:
        _bridge_logs()
        options = (self.creds.config_options or {}) if self.creds else {}
        extensions = [e for e in ((self.creds.extensions or []) if self.creds else []) if isinstance(e, str)]
        ensure_extensions(options.get("extension_directory"), extensions)
        mode = plugin_config.get("mode", "local")
        region = plugin_config.get("region") or "us-east-1"
        if mode == "local":
            emulator = local_emulator(Path(plugin_config.get("state_dir", "target/emulator")),
                                      plugin_config.get("emulator"))
            settings = AwsSettings(region=emulator.config.region, endpoint_url=emulator.endpoint_url,
                                   placeholder_credentials=True)
            for data_path in _lake_data_paths(self.creds):  # a DuckLake target's data, in the emulator's S3
                S3(settings).ensure_bucket(_bucket_and_prefix(data_path)[0])
        elif mode == "aws":
            settings = AwsSettings(region=region, endpoint_url=plugin_config.get("endpoint_url") or None)
        else:
            raise ConfigError(f"bedrock_ext plugin mode {mode!r} is unknown: use 'local' or 'aws'")
        scope = plugin_config.get("s3_scope") or []
        self.s3_scope = [scope] if isinstance(scope, str) else [str(s) for s in scope]
        writes = getattr(get_flags(), "WHICH", None) in ("build", "run")
        since = dt.datetime.now(dt.UTC).isoformat() if writes else "-infinity"
        self.runtime = runtime.Runtime(mode=mode, aws=settings, s3_scope=tuple(self.s3_scope),
                                       changes_since=since)
        self._credentials = None if settings.placeholder_credentials else CredentialSource(settings)
        self._secret_credentials: tuple[str, str, str | None] | None = None
        runtime.activate(self.runtime)
        _DBT_LOG.info(f"jobs run on {self.runtime.endpoint_label}")
        self._take_build_lease(plugin_config)

    def _take_build_lease(self, plugin_config: dict[str, Any]) -> None:
        """A target with an S3 scope (aws, lake) that dbt is about to write: one build at a time on any
        machine (pipeline.lease), taken before dbt reads the warehouse's tables. Per project prefix;
        on a lake, per lake (its data path): concurrent builds in one DuckLake catalog, even in
        separate schemas, failed here now and then (a view another connection could not see)."""
        if not self.s3_scope or getattr(get_flags(), "WHICH", None) not in ("build", "run", "seed", "snapshot"):
            return
        bucket, prefix = _bucket_and_prefix((_lake_data_paths(self.creds) or self.s3_scope)[0])
        s3 = S3(self.runtime.aws)
        if self.runtime.is_local:
            s3.ensure_bucket(bucket)
        held = lease.acquire(s3, bucket, prefix,
                             wait_s=float(plugin_config.get("build_lease_wait_s") or 0),
                             ttl_s=float(plugin_config.get("build_lease_ttl_s") or 300))
        _DBT_LOG.info(f"build lease s3://{bucket}/{held.key} taken ({held.holder})")

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._write_secret(conn)
        register_functions(conn)

    def configure_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Each dbt node's cursor: renew the S3 secret when the boto3 chain's credentials changed
        (an STS session or SSO token can expire while a build waits hours on Bedrock)."""
        if self._credentials is not None and self._credentials.current() != self._secret_credentials:
            self._write_secret(cursor)

    def _write_secret(self, conn: duckdb.DuckDBPyConnection) -> None:
        values = self._credentials.current() if self._credentials is not None else None
        create_s3_secret(conn, self.runtime.aws, values, self.s3_scope)
        self._secret_credentials = values
