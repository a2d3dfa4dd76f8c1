"""DuckDB's S3 access without network: httpfs from the wheel, and the S3 secret.

Used by the dbt plugin for every dbt connection, and by tests and benchmarks that run the export
outside dbt. Credentials come from the standard boto3 chain (``aws.CredentialSource``) and go
only into the connection's in-memory secret.
"""

from __future__ import annotations

import importlib
import pathlib
import tempfile
from collections.abc import Iterable
from typing import Any

import duckdb

from bedrock_ext.aws.client import AwsSettings, CredentialSource
from bedrock_ext.errors import ConfigError

# DuckDB extensions that come as wheels from the package registry (version-matched to DuckDB),
# installed from there into the connection's extension directory: nothing is downloaded at run time.
WHEELS = {"httpfs": "duckdb_extension_httpfs", "ducklake": "duckdb_extension_ducklake",
          "postgres_scanner": "duckdb_extension_postgres_scanner"}
_ALIASES = {"postgres": "postgres_scanner"}
_EXTRAS = {"ducklake": "lake", "postgres_scanner": "lake"}


def ensure_extensions(extension_directory: str | None, names: Iterable[str] = ("httpfs",)) -> None:
    """Install each of ``names`` that ships as a wheel (httpfs always; ducklake and postgres for a
    DuckLake target) from its wheel, unless the extension directory already has it."""
    wanted = {"httpfs"} | {_ALIASES.get(n, n) for n in names if _ALIASES.get(n, n) in WHEELS}
    config = {"extension_directory": extension_directory} if extension_directory else {}
    with duckdb.connect(config=config) as con:
        installed = {name for (name,) in con.execute(
            "select extension_name from duckdb_extensions() where installed").fetchall()}
        for name in sorted(wanted - installed):
            con.execute(f"INSTALL '{_wheel_file(name)}'")


def ensure_httpfs(extension_directory: str | None) -> None:
    ensure_extensions(extension_directory, ("httpfs",))


def _wheel_file(name: str) -> pathlib.Path:
    wheel = WHEELS[name]
    try:
        module = importlib.import_module(wheel)
    except ImportError:
        extra = _EXTRAS.get(name, "lake")
        raise ConfigError(f"the DuckDB extension {name!r} comes from the wheel {wheel.replace('_', '-')}, "
                          f"which is not installed: pip install 'bedrock-ext[{extra}]'") from None
    folder = pathlib.Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}"
    return folder / f"{name}.duckdb_extension"


Credentials = tuple[str, str, str | None]
PLACEHOLDER: Credentials = ("emulator", "emulator", None)  # the local emulator checks none


def create_s3_secret(conn: duckdb.DuckDBPyConnection, settings: AwsSettings,
                     credentials: Credentials | None = None, scope: list[str] | None = None) -> None:
    """The connection's S3 secret: the endpoint override if any, the given credentials (default:
    placeholders for the emulator, else the boto3 chain's current ones), limited to ``scope`` (S3
    URL prefixes, e.g. the project's bucket and prefix) when given."""
    if credentials is None:
        credentials = PLACEHOLDER if settings.placeholder_credentials else CredentialSource(settings).current()
    key, secret, token = credentials
    options = ["TYPE s3", "KEY_ID ?", "SECRET ?", "REGION ?"]
    params: list[Any] = [key, secret, settings.region]
    if token:
        options.append("SESSION_TOKEN ?")
        params.append(token)
    if settings.endpoint_url:
        host = settings.endpoint_url.split("://", 1)[-1].rstrip("/")
        use_ssl = str(settings.endpoint_url.startswith("https")).lower()
        options += ["ENDPOINT ?", "URL_STYLE 'path'", f"USE_SSL {use_ssl}"]
        params.append(host)
    if scope:
        options.append("SCOPE ?")
        params.append(scope if len(scope) > 1 else scope[0])
    conn.execute(f"CREATE OR REPLACE SECRET bedrock_ext_s3 ({', '.join(options)})", params)


def connect(settings: AwsSettings, extension_directory: str | None = None,
            database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads and writes S3 as ``settings`` say. The httpfs extension is
    installed once into ``extension_directory`` (default: under the temp dir)."""
    if extension_directory is None:
        folder = pathlib.Path(tempfile.gettempdir()) / f"bedrock-ext-duckdb-{duckdb.__version__}"
        extension_directory = str(folder)
    ensure_httpfs(extension_directory)
    conn = duckdb.connect(database, config={"extension_directory": extension_directory,
                                  "autoinstall_known_extensions": False})
    conn.execute("LOAD httpfs")
    create_s3_secret(conn, settings)
    return conn
