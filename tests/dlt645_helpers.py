"""Shared helpers of the DL/T 645 meter tests: the scenario, a fake monotonic clock, a running
`meterseal serve` subprocess, and a serial link made of two pseudo-terminals bridged together."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "data" / "dlt645_meter.toml"
ADDRESS = "202603010042"
PASSWORD = "123456"  # the profile's default level-02 password (P0 P1 P2)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int | None
    lines: list[str]


@contextlib.contextmanager
def serve(
    scenario: Path = SCENARIO, *, serial: str | None = None, tcp: bool = True,
    extra: list[str] | None = None,
) -> Iterator[Served]:
    """Run `meterseal serve` as a real subprocess; yield once it listens; SIGTERM it after."""
    cmd = [sys.executable, "-m", "meterseal", "serve", "--scenario", str(scenario)]
    cmd += extra or []
    if tcp:
        cmd += ["--dlt645", "tcp://127.0.0.1:0"]
    if serial is not None:
        cmd += ["--serial", serial]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    port = None
    deadline = time.monotonic() + 30
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"meterseal serve exited early: {''.join(lines)}")
            lines.append(line)
            m = re.search(r"tcp://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
            if "serving;" in line:
                break
        else:
            raise AssertionError(f"meterseal serve did not start: {''.join(lines)}")
        yield Served(proc, port, lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            lines.extend(out.splitlines(keepends=True))


@contextlib.contextmanager
def pty_link() -> Iterator[tuple[str, str]]:
    """Two pseudo-terminals whose master ends are bridged both ways: a serial cable with a
    device name at each end (the meter opens one, the head-end the other)."""
    m1, s1 = os.openpty()
    m2, s2 = os.openpty()
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([m1, m2], [], [], 0.05)
            for src in ready:
                try:
                    data = os.read(src, 4096)
                except OSError:
                    continue
                os.write(m2 if src == m1 else m1, data)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        yield os.ttyname(s1), os.ttyname(s2)
    finally:
        stop.set()
        t.join(2)
        for fd in (m1, s1, m2, s2):
            with contextlib.suppress(OSError):
                os.close(fd)
