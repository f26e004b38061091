"""Benchmark (not a test): how long `meterseal fleet` takes to make a service area.

Runs `meterseal fleet --meters N --days D --seed 1 --out DIR` (a subprocess, its start-up and a
local Dask cluster included; the wall time) for each N asked, and, in the same run, a baseline:
the twin simulating one meter-year on this machine (the seed-experiment year of
benchmarks/twin_speed.py with hourly load steps, as a fleet meter has; the best of a few runs,
CPU time). Prints each fleet's time, meters/s, meter-days/s and the ratio of its time to the
baseline's, so figures from a loaded or a faster machine can be compared.

    python benchmarks/fleet_gen.py [--meters 2000 10000] [--days 90] [--workers W] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.twin_speed import year_scenario  # noqa: E402

from meterseal.sim.kernel import Kernel  # noqa: E402
from meterseal.sim.scenario import LoadStep, Scenario  # noqa: E402

H_US = 3_600_000_000


def baseline_s(repeat: int = 5) -> float:
    """CPU seconds of one meter-year of the twin (kernel only), best of ``repeat``."""
    base = year_scenario("interrupt")
    rng = random.Random(7)
    loads = tuple(LoadStep(h * H_US, round(rng.uniform(100, 3000), 1), 0.0)
                  for h in range(365 * 24))
    sc = Scenario(name="one meter-year, hourly loads", start=base.start,
                  duration_us=base.duration_us, seed=base.seed, overrides=base.overrides,
                  outages=base.outages, cover=base.cover, loads=loads)
    Kernel(sc, trace=False).run()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        Kernel(sc, trace=False).run()
        best = min(best, time.process_time() - t0)
    return best


def fleet_s(meters: int, days: int, out: Path, workers: int | None) -> float:
    cmd = [sys.executable, "-m", "meterseal", "fleet", "--meters", str(meters), "--days",
           str(days), "--seed", "1", "--out", str(out), "--quiet"]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"meterseal fleet failed: {done.stderr.strip()}")
    print("   ", done.stdout.strip().replace("\n", "\n    "))
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meters", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the fleets under this folder")
    args = ap.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    base = baseline_s()
    print(f"baseline: one meter-year of the twin (hourly loads) {base * 1000:.1f} ms CPU")
    top = args.keep or Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        for n in args.meters:
            out = top / f"fleet-{n}x{args.days}"
            shutil.rmtree(out, ignore_errors=True)
            print(f"meterseal fleet --meters {n} --days {args.days} --seed 1"
                  + (f" --workers {args.workers}" if args.workers else ""))
            t = fleet_s(n, args.days, out, args.workers)
            print(f"  {t:.1f} s wall: {n / t:,.0f} meters/s, {n * args.days / t:,.0f} "
                  f"meter-days/s; {t / base:,.0f}× the baseline meter-year")
    finally:
        if args.keep is None:
            shutil.rmtree(top, ignore_errors=True)
    print(f"reproduce: python benchmarks/fleet_gen.py --meters {' '.join(map(str, args.meters))}"
          f" --days {args.days}")


if __name__ == "__main__":
    main()
