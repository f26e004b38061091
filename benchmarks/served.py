"""`meterseal serve` in a subprocess, for the protocol benchmarks (not a benchmark itself)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def served(args: list[str], listening: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`meterseal serve ARGS` until the block ends: the process and the port its log line
    matching ``listening`` (a regex whose group 1 is the port) names, once it says it serves.
    Its log is drained from then on, so a chatty server never blocks on a full pipe."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "meterseal", "serve", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        port = None
        for line in proc.stdout:
            m = re.search(listening, line)
            if m:
                port = int(m.group(1))
            if "serving;" in line:
                break
        if port is None:
            raise SystemExit("meterseal serve did not start")
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(10)
