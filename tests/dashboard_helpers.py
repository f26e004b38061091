"""A real `meterseal dashboard` subprocess on a free loopback port, for the dashboard's tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@contextlib.contextmanager
def dashboard(db_url: str) -> Iterator[str]:
    """Serve the store at ``db_url``; yield the dashboard's base URL; stop it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "meterseal", "dashboard", "--db", db_url,
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited: {proc.stderr.read()}")  # type: ignore
            with contextlib.suppress(OSError):
                if get(base + "/api/suspects?limit=1")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not answer within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
