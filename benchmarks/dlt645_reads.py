"""Benchmark (not a test): DL/T 645 reads of 03 30 0D 01 per second over loopback.

Sends reads with the PyPI `dlt645` client's raw `TcpClient.send_request` (independent code,
pinned 3.2.0) to, in one run:
  - our meter: `meterseal serve` on a scenario with 14 openings (a subprocess),
  - the `dlt645` package's own meter simulator, MeterServerService (a subprocess too), and
  - a canned responder of a few lines (a subprocess): the ceiling this client allows here,
in interleaved rounds (so a change of machine load hits all three alike), then prints reads/s
of each, the ratio ours/theirs (target >= 3x), p50/p99 latency (target p99 < 2 ms), and 100
concurrent TCP clients against our server (target: no error).

    python benchmarks/dlt645_reads.py [--reads N] [--rounds R] [--clients 100]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import served  # noqa: E402

ADDRESS = "202603010042"
DI = 0x03300D01

SCENARIO = f"""
name = "benchmark meter: 14 openings"
start = "2026-03-01T08:00:00+08:00"
duration = "1d"
seed = 3
[meter]
"meter.address" = "{ADDRESS}"
""" + "".join(
    f'[[cover]]\nopen_at = "{h}h"\nclose_at = "{h}h 5min"\n' for h in range(1, 15)
) + '[[outage]]\nat = "16h"\nfor = "2h"\n'

THEIR_SERVER = textwrap.dedent(
    """
    import sys
    from dlt645.service.clientsvc.log import log  # noqa: F401  (keeps their logging quiet)
    from dlt645.service.serversvc.server_service import MeterServerService
    port = int(sys.argv[1])
    svc = MeterServerService.new_tcp_server("127.0.0.1", port, 5.0)
    svc.set_address(sys.argv[2])
    record = ["260301090000", "260301090500"] + ["00000000"] * 12
    svc.set_03(0x03300D01, record)
    svc.server.start()
    print("READY", flush=True)
    sys.stdin.read()
    svc.server.stop()
    """
)


CANNED = textwrap.dedent(
    """
    import socket, sys, threading
    from dlt645.protocol.protocol import DLT645Protocol
    addr = bytes.fromhex(sys.argv[2])[::-1]
    reply = bytes(DLT645Protocol.build_frame(addr, 0x91, bytes((1, 0x0D, 0x30, 3)) + bytes(60)))
    s = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print("READY", flush=True)
    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while c.recv(1024):
            c.sendall(reply)
    while True:
        threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def ours(scenario_path: Path) -> Iterator[int]:
    with served(["--scenario", str(scenario_path), "--dlt645", "tcp://127.0.0.1:0"],
                r"tcp://127\.0\.0\.1:(\d+)") as (_proc, port):
        yield port


@contextlib.contextmanager
def theirs(script: str = THEIR_SERVER, wire: bool = True) -> Iterator[int]:
    port = free_port()
    addr = bytes.fromhex(ADDRESS)[::-1].hex() if wire else ADDRESS
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(port), addr],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stdout is not None
        if "READY" not in proc.stdout.readline():
            raise SystemExit("the dlt645 simulator did not start")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # its listener starts in a thread
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield port
    finally:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.terminate()
        proc.wait(10)


def request_bytes() -> bytes:
    from dlt645.protocol.protocol import DLT645Protocol

    addr = bytes.fromhex(ADDRESS)[::-1]
    return bytes(DLT645Protocol.build_frame(addr, 0x11, DI.to_bytes(4, "little")))


def valid(reply: bytes | None) -> bool:
    from dlt645.protocol.protocol import DLT645Protocol

    if reply is None:
        return False
    frame = DLT645Protocol.deserialize(reply)
    return frame.ctrl_code == 0x91 and bytes(frame.data[:4]) == DI.to_bytes(4, "little")


class Target:
    """One server under test: a connected client, and what it measured."""

    def __init__(self, name: str, port: int) -> None:
        from dlt645.transport.client.tcp_client import TcpClient

        self.name = name
        self.client = TcpClient("127.0.0.1", port, timeout=2.0)
        if not self.client.connect():
            raise SystemExit(f"cannot connect to {name} at 127.0.0.1:{port}")
        self.lat: list[float] = []
        self.elapsed = 0.0
        self.errors = 0

    def run(self, reads: int) -> None:
        req = request_bytes()
        send = self.client.send_request
        lat = self.lat
        perf = time.perf_counter
        if not valid(send(req)):
            self.errors += 1
        t_start = perf()
        for _ in range(reads):
            t0 = perf()
            if send(req) is None:
                self.errors += 1
            lat.append(perf() - t0)
        self.elapsed += perf() - t_start

    @property
    def rate(self) -> float:
        return len(self.lat) / self.elapsed


def concurrent(port: int, clients: int, reads_each: int) -> tuple[int, int, float]:
    """(answers, errors, seconds) of `clients` connections reading at once."""
    from dlt645.transport.client.tcp_client import TcpClient

    req = request_bytes()
    start = threading.Barrier(clients)
    counts = [0] * clients
    errors = [0] * clients

    def run(i: int) -> None:
        c = TcpClient("127.0.0.1", port, timeout=5.0)
        if not c.connect():
            errors[i] += reads_each
            return
        start.wait()
        for _ in range(reads_each):
            if valid(c.send_request(req, retries=0)):
                counts[i] += 1
            else:
                errors[i] += 1
        c.disconnect()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(errors), time.perf_counter() - t0


def _raw_client(port: int, seconds: float, req: bytes, out: Any) -> None:
    """One light client: a raw socket, a request, read the whole reply, again; count them."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        n = 0
        buf = b""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            s.sendall(req)
            while True:  # a reply ends with 16 once its length byte says so
                buf += s.recv(4096)
                at = buf.find(b"\x68")
                if at >= 0 and len(buf) >= at + 10 and len(buf) >= at + 12 + buf[at + 9]:
                    buf = b""
                    break
            n += 1
        out.put(n)


def capacity(port: int, clients: int, seconds: float) -> float:
    """Reads/s a server answers to `clients` raw-socket client processes at once."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_raw_client, args=(port, seconds, request_bytes(), q))
             for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(q.get(timeout=seconds + 30) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def pct(lat: list[float], p: float) -> float:
    s = sorted(lat)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reads", type=int, default=10000, help="reads per server in all")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--reads-per-client", type=int, default=50)
    ap.add_argument("--raw-clients", type=int, default=4,
                    help="light raw-socket client processes for the capacity figure")
    ap.add_argument("--raw-seconds", type=float, default=3.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(SCENARIO, encoding="utf-8")
        with ours(path) as our_port, theirs() as their_port, theirs(CANNED, False) as c_port:
            targets = [Target("meterseal serve", our_port),
                       Target("dlt645 simulator", their_port),
                       Target("canned responder", c_port)]
            for t in targets:
                t.run(200)  # warm up
                t.lat.clear()
                t.elapsed = 0.0
            for _ in range(args.rounds):
                for t in targets:
                    t.run(args.reads // args.rounds)
            for t in targets:
                t.client.disconnect()
            answers, conc_err, conc_s = concurrent(
                our_port, args.clients, args.reads_per_client
            )
            cap_ours = capacity(our_port, args.raw_clients, args.raw_seconds)
            cap_theirs = capacity(their_port, args.raw_clients, args.raw_seconds)

    our, their, canned = targets
    ratio = our.rate / their.rate
    p99 = pct(our.lat, 99)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {platform.platform()}, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"reads of 03 30 0D 01 over loopback, {len(our.lat)} per server in {args.rounds} "
          f"interleaved rounds, PyPI dlt645 TcpClient.send_request:")
    for t in targets:
        print(f"  {t.name:17s} {t.rate:8.0f} reads/s   p50 {pct(t.lat, 50):.3f} ms   p99 "
              f"{pct(t.lat, 99):.3f} ms   mean {statistics.mean(t.lat) * 1000:.3f} ms   "
              f"errors {t.errors}")
    print(f"  the client's ceiling here (canned responder) {canned.rate:.0f} reads/s: ours "
          f"reaches {our.rate / canned.rate:.0%} of it, theirs {their.rate / canned.rate:.0%}")
    print(f"  ratio ours/theirs {ratio:.2f}x (target >= 3x): "
          f"{'PASS' if ratio >= 3 else 'FAIL'}")
    print(f"  our p99 {p99:.3f} ms (target < 2 ms): {'PASS' if p99 < 2 else 'FAIL'}")
    total = args.clients * args.reads_per_client
    print(f"{args.clients} concurrent TCP clients x {args.reads_per_client} reads against "
          f"meterseal serve: {answers}/{total} answered, {conc_err} errors in {conc_s:.2f} s: "
          f"{'PASS' if conc_err == 0 and answers == total else 'FAIL'}")
    cap_ratio = cap_ours / cap_theirs
    print(f"server capacity, {args.raw_clients} raw-socket client processes for "
          f"{args.raw_seconds:g} s each: meterseal serve {cap_ours:.0f} reads/s, dlt645 simulator "
          f"{cap_theirs:.0f} reads/s: {cap_ratio:.1f}x (target ~8x or better)")
    print(f"reproduce: python benchmarks/dlt645_reads.py --reads {args.reads} --rounds "
          f"{args.rounds} --clients {args.clients} --reads-per-client {args.reads_per_client}"
          f" --raw-clients {args.raw_clients} --raw-seconds {args.raw_seconds:g}")
    ok = ratio >= 3 and p99 < 2 and conc_err == 0 and our.errors == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
