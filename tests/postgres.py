"""A real PostgreSQL for the tests (the DuckLake catalog): Debian's package, installed with apt-get
when it is missing, a throwaway cluster started on a free port of 127.0.0.1 and stopped after."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    bin_dir: Path

    def libpq(self, dbname: str) -> str:
        """A libpq connection string (DuckDB's postgres extension and DuckLake read it)."""
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def create_database(self) -> str:
        name = f"lake_{uuid.uuid4().hex[:10]}"
        done = subprocess.run([str(self.bin_dir / "createdb"), "-h", self.host, "-p", str(self.port), "-U",
                               self.user, name], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return name


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install() -> Path:
    if shutil.which("apt-get") is None:
        pytest.skip("PostgreSQL is not installed and there is no apt-get to install Debian's package")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.skip(f"could not install Debian's postgresql ({' '.join(cmd)}): {done.stderr[-400:]}")
    found = _bin_dir()
    if found is None:
        pytest.skip("Debian's postgresql installed no initdb under /usr/lib/postgresql")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the package's postgres user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    bin_dir = _bin_dir() or _install()
    root = Path(tempfile.mkdtemp(prefix="bedrock-ext-pg-"))
    data, port, user = root / "data", _free_port(), "lake"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user]),
                   capture_output=True, check=True, timeout=120)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                    str(root / "server.log"), "-w", "start"]), capture_output=True, check=True,
                   timeout=120)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True, check=False).returncode != 0:
            assert time.monotonic() < deadline, (root / "server.log").read_text()[-2000:]
            time.sleep(0.2)
        yield Postgres(host="127.0.0.1", port=port, user=user, bin_dir=bin_dir)
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
