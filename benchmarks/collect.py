"""Benchmark (not a test): the head-end collecting a fleet served on this machine.

Makes N meter images from a few template scenarios of D days of history (each template run once
by the twin; its NVM image copied under N addresses, with their own energies — the fleet
directory format of docs/fleet.md), serves them with `meterseal serve --fleet` behind G bus
gateways (a subprocess, every meter built before it listens), then runs `meterseal collect` (a
subprocess) into each store: a full collection into an empty store, then an incremental one with
nothing new. Prints meters/s,
events/s, both runs' times and their ratio (targets: 10,000 meters with 90 days of history under
5 minutes on 2 cores; the incremental run at least 10x faster).

    python benchmarks/collect.py [--meters 10000] [--days 90] [--gateways 100]
        [--db sqlite|postgresql|both] [--pg URL] [--concurrency 64] [--keep DIR]

Without --pg, PostgreSQL is a throwaway server started from the installed binaries (fsync off:
the figure is the collector's, not the disk's).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meterseal.sim.fleetdir import start_fleet, write_meter  # noqa: E402
from meterseal.sim.live import LiveMeter  # noqa: E402
from meterseal.sim.scenario import parse_scenario  # noqa: E402

TEMPLATES = 6


def template(seed: int, days: int) -> LiveMeter:
    """A meter after ``days`` days: outages of minutes to a day, cover openings (some during
    outages, some left open), as a utility sees in a season; seeded."""
    rng = random.Random(seed)
    hours = days * 24
    outages, t = [], rng.uniform(5, 50)
    while t < hours - 30:
        length = rng.choice([0.05, 0.5, 2, 8, 20])
        outages.append({"at": f"{t:.3f}h", "for": f"{length}h"})
        t += length + rng.uniform(24, 24 * 12)
    covers, t = [], rng.uniform(10, 100)
    for _ in range(rng.choice([0, 2, 5, 12, 16])):
        t += rng.uniform(20, hours / 18)
        if t > hours - 2:
            break
        covers.append({"open_at": f"{t:.3f}h", "close_at": f"{t + rng.uniform(0.02, 1):.3f}h"})
        t += 1.5
    doc = {"name": f"template {seed}", "start": "2026-03-01T00:00:00+08:00",
           "duration": f"{days}d", "seed": seed, "outage": outages, "cover": covers,
           "meter": {"meter.address": f"{900000000000 + seed:012d}"}}
    return LiveMeter.from_scenario(parse_scenario(doc))


def make_fleet(root: Path, meters: int, days: int, gateways: int) -> tuple[Path, int]:
    """The fleet directory; the number of records its meters hold (ring-limited)."""
    start_fleet(root, f"benchmark {meters} meters x {days} days")
    temps = [template(seed, days) for seed in range(TEMPLATES)]
    images = [(t, t.nvm_image(), t.clock_datetime(), t.image()) for t in temps]
    records = 0
    rng = random.Random(7)
    for i in range(meters):
        live, nvm, clock, img = images[i % TEMPLATES]
        records += len(img.cover) + len(img.power_down) + len(img.clears)
        write_meter(root, nvm, {
            "address": f"{300000000000 + i:012d}", "manufacturer": "meterseal",
            "gateway": f"gw-{i % gateways:05d}", "utc_offset_h": 8.0,
            "import_kwh": round(rng.uniform(100, 9000), 2), "export_kwh": 0.0,
            "clock": clock, "clock_valid": True, "scenario": live.name,
        })
    return root, records


@contextlib.contextmanager
def served(fleet: Path, endpoints: Path) -> Iterator[None]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "meterseal", "serve", "--fleet", str(fleet), "--dlt645",
         "tcp://127.0.0.1:0", "--endpoints-out", str(endpoints), "--preload"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "serving;" in line:
            break
    else:
        raise SystemExit(f"meterseal serve did not start: {proc.wait()}")
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def collect(endpoints: Path, url: str, concurrency: int) -> dict[str, float]:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "meterseal", "collect", "--endpoints", str(endpoints), "--db",
         url, "--json", "--concurrency", str(concurrency)],
        cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"collect failed: {done.stderr.strip()}")
    out = json.loads(done.stdout)
    out["wall_s"] = time.monotonic() - t0
    return out


@contextlib.contextmanager
def stores(which: str, pg: str | None, tmp: Path) -> Iterator[list[tuple[str, str]]]:
    with contextlib.ExitStack() as stack:
        urls = []
        if which in ("sqlite", "both"):
            urls.append(("sqlite", f"sqlite:///{tmp}/bench.db"))
        if which in ("postgresql", "both"):
            if pg is None:
                from tests.pg_helpers import fresh_database, own_server

                pg = stack.enter_context(own_server())
                urls.append(("postgresql", stack.enter_context(fresh_database(pg))))
            else:
                urls.append(("postgresql", pg))
        yield urls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--gateways", type=int, default=100)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--pg", help="a PostgreSQL URL to use instead of a throwaway server")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--keep", type=Path, help="make the fleet here and keep it")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ms-bench-"))
    top = a.keep or tmp
    t0 = time.monotonic()
    fleet, records = make_fleet(top / "fleet", a.meters, a.days, a.gateways)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"fleet: {a.meters} meters x {a.days} days on {a.gateways} gateways,"
          f" {records} records in their rings, made in {time.monotonic() - t0:.1f} s")
    endpoints = top / "endpoints.toml"
    try:
        with served(fleet, endpoints), stores(a.db, a.pg, tmp) as urls:
            for name, url in urls:
                full = collect(endpoints, url, a.concurrency)
                inc = collect(endpoints, url, a.concurrency)
                print(f"{name:>10}: full {full['wall_s']:.1f} s"
                      f" ({full['meters_read'] / full['wall_s']:.0f} meters/s,"
                      f" {full['new_events'] / full['wall_s']:.0f} events/s,"
                      f" {full['new_events']} events, {full['meters_failed']} failed);"
                      f" incremental {inc['wall_s']:.1f} s ({inc['new_events']} new);"
                      f" full/incremental {full['wall_s'] / inc['wall_s']:.1f}x")
    finally:
        if a.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
