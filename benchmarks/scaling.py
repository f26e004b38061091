"""Cost per event as scenarios grow: outages, load steps and cover operations from 10^2 to 10^5.

For each kind and size it runs the twin end to end (kernel and oracle, no trace) and prints the
CPU time per scenario event; the cost must stay flat (10^5 within 2x of 10^2). It also runs the
fleet's typical meter — a year of hourly load steps (8,760) with 12 outages and 6 cover openings
— and prints meter-years per CPU-second. A reference loop timed in the same run is the machine's
baseline (these machines are noisy).

    python benchmarks/scaling.py [--max 100000] [--kinds outages,loads,covers]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime

from meterseal.sim.scenario import CoverOp, LoadStep, Outage, Scenario
from meterseal.verify.result import simulate

START = datetime.fromisoformat("2026-01-01T00:00:00+08:00")
S = 1_000_000
H = 3600 * S


def reference_loop() -> float:
    t0 = time.process_time()
    acc = 0
    for i in range(2_000_000):
        acc += i * i % 7
    return time.process_time() - t0


def scenario(kind: str, n: int) -> Scenario:
    """n events of one kind, 10 min apart (outages of 2 min; cover open 1 min; load steps)."""
    gap = 600 * S
    duration = (n + 2) * gap
    outages: tuple[Outage, ...] = ()
    cover: tuple[CoverOp, ...] = ()
    loads: tuple[LoadStep, ...] = (LoadStep(0, 500.0, 0.0),)
    if kind == "outages":
        outages = tuple(Outage(gap * (k + 1), 120 * S) for k in range(n))
    elif kind == "covers":
        cover = tuple(CoverOp(gap * (k + 1), gap * (k + 1) + 60 * S) for k in range(n))
    else:
        loads = tuple(LoadStep(gap * k, 200.0 + (k % 24) * 40.0, 0.0) for k in range(n))
    return Scenario(name=f"{n} {kind}", start=START, duration_us=duration, seed=1,
                    outages=outages, cover=cover, loads=loads)


def hourly_year() -> Scenario:
    year = 365 * 24 * H
    loads = tuple(LoadStep(h * H, 150.0 + 900.0 * ((h % 24) in range(7, 23)), 0.0)
                  for h in range(365 * 24))
    outages = tuple(Outage(k * 30 * 24 * H + 10 * H, (1 + k % 5) * 3 * H) for k in range(12))
    cover = tuple(CoverOp(k * 60 * 24 * H + 11 * H, k * 60 * 24 * H + 12 * H) for k in range(6))
    return Scenario(name="hourly year", start=START, duration_us=year, seed=1, loads=loads,
                    outages=outages, cover=cover)


def timed(sc: Scenario) -> tuple[float, bool]:
    t0 = time.process_time()
    out = simulate(sc, trace=False)
    return time.process_time() - t0, out.judgment.passed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=100_000)
    ap.add_argument("--kinds", default="outages,loads,covers")
    args = ap.parse_args(argv)
    ref = reference_loop()
    print(f"machine: {platform.machine()}  python {platform.python_version()}")
    print(f"baseline: reference loop {ref * 1e3:.1f} ms CPU")
    sizes = [n for n in (100, 1_000, 10_000, 100_000) if n <= args.max]
    worst = 1.0
    print(f"{'kind':<8} " + " ".join(f"{n:>12,}" for n in sizes) + "   ratio   (µs CPU per event)")
    for kind in args.kinds.split(","):
        per = []
        for n in sizes:
            cpu, ok = timed(scenario(kind, n))
            if not ok:
                print(f"{kind} {n}: an invariant failed", file=sys.stderr)
                return 1
            per.append(cpu / n * 1e6)
        ratio = per[-1] / per[0]
        worst = max(worst, ratio)
        print(f"{kind:<8} " + " ".join(f"{p:>12.1f}" for p in per) + f"   {ratio:5.2f}x")
    cpu, ok = timed(hourly_year())
    rate = 1.0 / cpu
    print(f"hourly-load year (8,760 load steps, 12 outages, 6 openings), kernel and oracle: "
          f"{rate:.0f} meter-years per CPU-second ({cpu * 1e3:.1f} ms; target >= 100) "
          f"{'met' if rate >= 100 and ok else 'NOT met'}; {rate * ref:.1f} per reference-loop")
    print(f"flatness: worst 10^{len(sizes) + 1}/10^2 per-event ratio {worst:.2f}x (target <= 2x) "
          f"{'met' if worst <= 2 else 'NOT met'}")
    print("reproduce: python benchmarks/scaling.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
