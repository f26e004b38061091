"""Benchmark (not a test): what floods cost `meterseal serve`, and whether a reader still gets in.

Starts `meterseal serve` (DL/T 645 over TCP, the tests' 14-opening meter) as a subprocess and,
one after the other, sends it on one connection:
  - a baseline: N MB of FE bytes (what the decoder skips cheapest),
  - N MB of 68 bytes (each one looks like the start of a frame),
  - M MB of valid-looking read frames with bad checksums,
  - M MB of valid read requests pipelined and never read (the server must drop the client),
while another connection issues a normal read every 50 ms. For each flood it prints the
server's CPU seconds (from /proc, until the server is idle again), the ratio to the baseline,
and the worst latency of the normal reads during it (targets: ≤ 1 s of CPU for 10 MB of 68
and for 2 MB of bad checksums, reads answered within 1 s). Then 1,100 idle connections from
127.0.0.1 and a reader from 127.0.0.2 (target: answered).

    python benchmarks/floods.py [--mb68 10] [--mbbad 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import served  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))

from meterseal.protocols.dlt645.frame import (  # noqa: E402
    Frame,
    FrameDecoder,
    address_from_string,
    encode,
    read_request,
)

SCENARIO = ROOT / "tests" / "data" / "dlt645_meter.toml"
METER = address_from_string("202603010042")
READ = encode(read_request(METER, 0x03300D00), 4)
BAD = READ[:-2] + bytes(((READ[-2] + 1) & 0xFF,)) + READ[-1:]
TICK = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve() -> Iterator[tuple[subprocess.Popen[str], int]]:
    with served(["--scenario", str(SCENARIO), "--dlt645", "tcp://127.0.0.1:0"],
                r"tcp://127\.0\.0\.1:(\d+)") as (proc, port):
        yield proc, port


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def settle(pid: int, quiet_s: float = 0.4) -> float:
    """Wait until the server's CPU time stops growing; return it."""
    last = cpu_s(pid)
    while True:
        time.sleep(quiet_s)
        now = cpu_s(pid)
        if now - last < 0.01:
            return now
        last = now


def read_once(port: int, source: str = "127.0.0.1", timeout_s: float = 5.0) -> float:
    """Latency (s) of one normal read on a fresh connection, or inf if not answered."""
    t0 = time.perf_counter()
    with socket.socket() as s:
        s.settimeout(timeout_s)
        s.bind((source, 0))
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(READ)
            decoder = FrameDecoder()
            while True:
                chunk = s.recv(1024)
                if not chunk:
                    return float("inf")
                if any(isinstance(i, Frame) for i in decoder.feed(chunk)):
                    return time.perf_counter() - t0
        except OSError:
            return float("inf")


def flood(pid: int, port: int, data: bytes, *, read_answers: bool = True) -> tuple[float, float]:
    """(server CPU s, worst normal-read latency s) while `data` is sent on one connection."""
    settle(pid)
    cpu0 = cpu_s(pid)
    worst = [0.0]
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            worst[0] = max(worst[0], read_once(port))
            time.sleep(0.05)

    t = threading.Thread(target=reader)
    t.start()
    with socket.create_connection(("127.0.0.1", port)) as s:
        if not read_answers:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with contextlib.suppress(OSError):
            s.sendall(data)  # the server may drop a client that does not read its answers
        if read_answers:
            threading.Thread(target=lambda: _drain(s), daemon=True).start()
        cpu = settle(pid) - cpu0
    done.set()
    t.join()
    return cpu, worst[0]


def _drain(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while s.recv(65536):
            pass


def idle_connections(port: int, n: int) -> tuple[int, float]:
    """Open n idle connections from 127.0.0.1; (how many the server kept, a reader's latency
    from 127.0.0.2)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    socks = []
    try:
        for _ in range(n):
            with contextlib.suppress(OSError):
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1.0)
        kept = 0
        for s in socks:
            s.setblocking(False)
            try:
                kept += s.recv(1) != b""
            except BlockingIOError:
                kept += 1  # still open, nothing to read
            except OSError:
                pass
        return kept, read_once(port, "127.0.0.2")
    finally:
        for s in socks:
            s.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb68", type=float, default=10.0, help="MB of 68 (and of the FE baseline)")
    ap.add_argument("--mbbad", type=float, default=2.0, help="MB of bad-checksum frames")
    ap.add_argument("--idle", type=int, default=1100, help="idle connections from one address")
    args = ap.parse_args()
    n68 = int(args.mb68 * 1e6)
    nbad = int(args.mbbad * 1e6)
    print(f"python {platform.python_version()} on {platform.machine()},"
          f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    with serve() as (proc, port):
        print(f"idle read latency: {read_once(port) * 1000:.2f} ms")
        base, base_lat = flood(proc.pid, port, b"\xfe" * n68)
        rows = [("FE (baseline)", args.mb68, base, base_lat)]
        for name, mb, data, answers in (
            ("68 run", args.mb68, b"\x68" * n68, True),
            ("bad checksums", args.mbbad, BAD * (nbad // len(BAD)), True),
            ("pipelined reads, never read", args.mbbad, READ * (nbad // len(READ)), False),
        ):
            cpu, lat = flood(proc.pid, port, data, read_answers=answers)
            rows.append((name, mb, cpu, lat))
        print(f"{'flood':<30} {'MB':>5} {'server CPU s':>13} {'× FE':>6} {'worst read ms':>14}")
        for name, mb, cpu, lat in rows:
            ratio = cpu / base if base > 0 else float("nan")
            print(f"{name:<30} {mb:>5.1f} {cpu:>13.2f} {ratio:>6.1f} {lat * 1000:>14.1f}")
        kept, lat = idle_connections(port, args.idle)
        print(f"{args.idle} idle connections from 127.0.0.1: {kept} kept by the server;"
              f" a reader from 127.0.0.2 answered in {lat * 1000:.1f} ms")
        ok = rows[1][2] <= 1.0 and rows[2][2] <= 1.0 and max(r[3] for r in rows) <= 1.0
        print(f"targets (≤ 1 s CPU per flood, reads within 1 s, the reader answered):"
              f" {'met' if ok and lat < 1.0 else 'NOT met'}")
    print(f"reproduce: python benchmarks/floods.py --mb68 {args.mb68:g} --mbbad {args.mbbad:g}"
          f" --idle {args.idle}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
