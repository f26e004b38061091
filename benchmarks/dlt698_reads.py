"""Benchmark (not a test): DL/T 698.45 GET-Record of all 10 rows of 301B per second over loopback.

One client — the PyPI `dlt698` package's own Client (C++ with Python bindings, pinned 1.0.1),
`get_record(301B 0200, every row)` — against, in one run:
  - our meter: `meterseal serve --dlt698` on a scenario with 14 openings (a subprocess), and
  - the `dlt698` package's own server holding the same 10 rows: its lower-level Engine with an
    ObjectRegistry, a MemoryObject and bind_record(2, callback) (a subprocess; the callback
    answers every query with the rows, taken from our meter's own answer so both serve the
    same bytes),
in interleaved rounds (so a change of machine load hits both alike); then prints reads/s of
each, the ratio ours/theirs (target >= 0.5, goal 1), our p50/p99 latency (target p99 < 5 ms),
and 100 concurrent clients against our server (target: no error).

    python benchmarks/dlt698_reads.py [--reads N] [--rounds R] [--clients 100]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import served  # noqa: E402

ADDRESS = "202603010042"
WIRE = bytes.fromhex(ADDRESS)[::-1]

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

# The peer's own server: Engine + ObjectRegistry + MemoryObject + bind_record(2, callback).
# It gets the rows as A-XDR (one row per line, hex) on stdin, decodes them with its own codec.
THEIR_SERVER = textwrap.dedent(
    """
    import sys, threading
    import dlt698 as d
    from dlt698 import _native as n
    from dlt698.codec import decode_data
    from dlt698.expert import Endpoint
    lines = []
    for line in sys.stdin:
        if line.strip() == "END":
            break
        lines.append(line.strip())
    columns = [n.Oad(oi=int(c[:4], 16), attribute=int(c[4:6], 16), index=int(c[6:], 16))
               for c in lines[0].split()]
    rows = [[decode_data(bytes.fromhex(cell)) for cell in line.split()] for line in lines[1:]]
    A = n.AttributeSchema
    def answer(query):
        return n.RecordResult(attribute=query.attribute, columns=columns, result=rows)
    schema = n.ObjectSchema(oi=0x301B, name="cover", attributes=[
        A(number=2, readable=True, record=True, type=n.DataType.array)])
    registry = n.ObjectRegistry()
    obj = n.MemoryObject()
    obj.bind_record(2, answer)
    registry.register_object(schema, obj)
    server = n.ServerAddress(bytes=bytes.fromhex(sys.argv[1]), type=n.AddressType.single)
    ep = Endpoint(d.SessionOptions(role=n.Role.server, server=server), registry)
    port = ep.engine.listen("127.0.0.1", 0, d.ConnectionProfile.local_public, 256)
    print("PORT", port, flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.is_set():
        ep.poll(0.001)  # the budget Endpoint.poll defaults to
    ep.close()
    """
)


@contextlib.contextmanager
def ours(scenario_path: Path) -> Iterator[int]:
    with served(["--scenario", str(scenario_path), "--dlt698", "tcp://127.0.0.1:0"],
                r"DL/T 698.45 listening on tcp://127\.0\.0\.1:(\d+)") as (_proc, port):
        yield port


def our_rows(port: int) -> tuple[list[str], list[list[str]]]:
    """The columns and rows our meter answers, as hex A-XDR: what their server will hold."""
    from meterseal.protocols.dlt698.apdu import GetRecord
    from meterseal.protocols.dlt698.client import Dlt698Client
    from meterseal.protocols.dlt698.frame import ServerAddress
    from meterseal.protocols.dlt698.refs import Oad, SelectAll

    with Dlt698Client.tcp("127.0.0.1", port, server=ServerAddress(WIRE)) as c:
        result = c.get_record(GetRecord(Oad(0x301B, 2), SelectAll()))
    columns = [f"{c.value:08X}" for c in result.columns]  # type: ignore[union-attr]
    return columns, [[v.to_bytes().hex() for v in row] for row in result.rows or ()]


@contextlib.contextmanager
def theirs(columns: list[str], rows: list[list[str]]) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", THEIR_SERVER, WIRE.hex()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(" ".join(columns) + "\n")
        for row in rows:
            proc.stdin.write(" ".join(row) + "\n")
        proc.stdin.write("END\n")
        proc.stdin.flush()
        m = re.match(r"PORT (\d+)", proc.stdout.readline())
        if m is None:
            raise SystemExit("the dlt698 server did not start")
        yield int(m.group(1))
    finally:
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        proc.wait(10)


def client(port: int):  # type: ignore[no-untyped-def]
    import dlt698 as d
    from dlt698 import _native as n

    options = d.ClientOptions(login_timeout=5.0, protocol=d.SessionOptions(
        server=n.ServerAddress(bytes=WIRE, type=n.AddressType.single), request_timeout=5.0))
    c = d.Client(options)
    c.connect_tcp("127.0.0.1", port, d.ConnectionProfile.local_public)
    return c


def query():  # type: ignore[no-untyped-def]
    from dlt698 import _native as n

    return n.GetRecord(attribute=n.Oad(oi=0x301B, attribute=2, index=0), columns=[],
                       rows=n.SelectAll())


class Target:
    """One server under test: a connected client, and what it measured."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.client = client(port)
        self.query = query()
        self.lat: list[float] = []
        self.elapsed = 0.0
        self.errors = 0

    def run(self, reads: int) -> None:
        get = self.client.get_record
        q = self.query
        lat = self.lat
        perf = time.perf_counter
        t_start = perf()
        for _ in range(reads):
            t0 = perf()
            result = get(q)
            lat.append(perf() - t0)
            if isinstance(result.result, int) or len(result.result) != 10:
                self.errors += 1
        self.elapsed += perf() - t_start

    @property
    def rate(self) -> float:
        return len(self.lat) / self.elapsed


def concurrent(port: int, clients: int, reads_each: int) -> tuple[int, int, float]:
    """(answers, errors, seconds) of `clients` connections reading at once."""
    start = threading.Barrier(clients)
    counts = [0] * clients
    errors = [0] * clients

    def run(i: int) -> None:
        try:
            c = client(port)
        except Exception:
            errors[i] += reads_each
            return
        q = query()
        start.wait()
        for _ in range(reads_each):
            try:
                result = c.get_record(q)
                ok = not isinstance(result.result, int) and len(result.result) == 10
            except Exception:
                ok = False
            counts[i] += ok
            errors[i] += not ok
        c.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(errors), time.perf_counter() - t0


def pct(lat: list[float], p: float) -> float:
    s = sorted(lat)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000


def report(args: argparse.Namespace, targets: list[Target], conc: tuple[int, int, float]) -> bool:
    our, their = targets
    ratio = our.rate / their.rate
    p99 = pct(our.lat, 99)
    answers, conc_err, conc_s = conc
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {platform.platform()}, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"GET-Record 301B 0200, all 10 rows, over loopback, {len(our.lat)} per server in "
          f"{args.rounds} interleaved rounds, PyPI dlt698 Client.get_record:")
    for t in targets:
        print(f"  {t.name:22s} {t.rate:8.0f} reads/s   p50 {pct(t.lat, 50):.3f} ms   p99 "
              f"{pct(t.lat, 99):.3f} ms   mean {statistics.mean(t.lat) * 1000:.3f} ms   "
              f"errors {t.errors}")
    print(f"  ratio ours/theirs {ratio:.2f}x (target >= 0.5x, goal 1x): "
          f"{'PASS' if ratio >= 0.5 else 'FAIL'}")
    print(f"  our p99 {p99:.3f} ms (target < 5 ms): {'PASS' if p99 < 5 else 'FAIL'}")
    total = args.clients * args.reads_per_client
    print(f"{args.clients} concurrent dlt698 clients x {args.reads_per_client} GET-Records "
          f"against meterseal serve: {answers}/{total} answered, {conc_err} errors in "
          f"{conc_s:.2f} s: {'PASS' if conc_err == 0 and answers == total else 'FAIL'}")
    print(f"reproduce: python benchmarks/dlt698_reads.py --reads {args.reads} --rounds "
          f"{args.rounds} --clients {args.clients} --reads-per-client {args.reads_per_client}")
    return ratio >= 0.5 and p99 < 5 and conc_err == 0 and our.errors == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reads", type=int, default=10000, help="reads per server in all")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--reads-per-client", type=int, default=50)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(SCENARIO, encoding="utf-8")
        with ours(path) as our_port:
            columns, rows = our_rows(our_port)
            with theirs(columns, rows) as their_port:
                targets = [Target("meterseal serve", our_port),
                           Target("dlt698 Engine server", their_port)]
                for t in targets:
                    t.run(200)  # warm up (and take the meter's follow reports)
                    t.lat.clear()
                    t.elapsed = 0.0
                for _ in range(args.rounds):
                    for t in targets:
                        t.run(args.reads // args.rounds)
                for t in targets:
                    t.client.close()
            conc = concurrent(our_port, args.clients, args.reads_per_client)
    return 0 if report(args, targets, conc) else 1


if __name__ == "__main__":
    sys.exit(main())
