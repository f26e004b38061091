"""A PostgreSQL server for the store's tests: the one MS_TEST_PG names (.ci/run starts one), or
else one this helper starts itself from the installed binaries, on loopback, in a temp dir, as a
non-root user when the tests run as root (initdb and postgres refuse root)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

ENV = "MS_TEST_PG"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "no PostgreSQL server binaries found (apt-get install postgresql), and MS_TEST_PG is"
        " not set to a server's URL"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    """The command prefix that runs the server's tools as a user they accept."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root without a 'postgres' or 'nobody' user to run PostgreSQL")


@contextlib.contextmanager
def own_server() -> Iterator[str]:
    """Start a throwaway server; yield its admin URL; stop it and remove its files."""
    bindir = _bin_dir()
    prefix = _as_user()
    top = Path(tempfile.mkdtemp(prefix="ms-pg-"))
    data = top / "data"
    if prefix:
        shutil.chown(top, user=prefix[2])
    os.chmod(top, 0o755)
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True)
    opts = f"-h 127.0.0.1 -p {port} -k {top} -c fsync=off -c full_page_writes=off"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                    "-l", str(top / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[str]:
    url = os.environ.get(ENV)
    if url:
        yield url
        return
    with own_server() as started:
        yield started


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server; its URL; dropped afterwards."""
    import psycopg

    name = f"ms_{uuid.uuid4().hex[:12]}"
    base, _, _ = admin_url.rpartition("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
