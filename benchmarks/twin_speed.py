"""How fast the twin simulates, and what fast-forward buys (issue "The meter twin").

Prints, in one run on this machine:
  1. simulated meter-years per CPU-second for a one-year scenario with 12 outages of 1 min to
     3 days and 6 cover operations, in interrupt and in polling wake (start-up excluded: the
     scenario is built once, each repetition runs kernel + oracle); peak memory of one run;
  2. the speed-up of fast-forward over stepping every tick on the same (shorter) scenario;
  3. the firmware's own cost on backup (watch kept vs. quiescent drains alone).
A pure-Python reference loop is timed in the same run as a machine baseline, so figures from
noisy machines can be compared.

Reproduce: python benchmarks/twin_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import time
import tracemalloc

from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify.cost import firmware_cost
from meterseal.verify.matrix import START, d
from meterseal.verify.oracle import judge

YEAR_US = 365 * 86_400_000_000


def year_scenario(wake_mode: str, seed: int = 2026, record_mac: bool = True) -> Scenario:
    rng = random.Random(seed)
    lengths = [60, 600, 1800, 3600, 7200, 4 * 3600, 8 * 3600, 12 * 3600, 86400,
               2 * 86400, 3 * 86400, 5 * 60]
    rng.shuffle(lengths)
    outages = []
    slot = YEAR_US // 12
    for k, length_s in enumerate(lengths):
        at = k * slot + rng.randrange(0, slot // 2)
        outages.append(Outage(at, length_s * 1_000_000))
    covers = []
    slot = YEAR_US // 6
    for k in range(6):
        o = k * slot + rng.randrange(slot // 4, slot // 2)
        covers.append(CoverOp(o, o + rng.randrange(10, 7200) * 1_000_000))
    return Scenario(name=f"one year, {wake_mode}", start=START, duration_us=YEAR_US, seed=seed,
                    overrides=(("mcu.wake_mode", wake_mode), ("security.record_mac", record_mac)),
                    outages=tuple(outages),
                    cover=tuple(covers))


def reference_loop() -> float:
    """CPU seconds of a fixed pure-Python workload (the machine baseline)."""
    t = time.process_time()
    acc = 0.0
    for i in range(2_000_000):
        acc += (i % 7) * 0.5
    return time.process_time() - t


def years_per_cpu_second(sc: Scenario, repeat: int) -> tuple[float, float]:
    Kernel(sc, trace=False).run()  # warm-up (imports, caches)
    best_sim = best_all = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        log = Kernel(sc, trace=False).run()
        t1 = time.process_time()
        j = judge(sc, log)
        t2 = time.process_time()
        assert j.passed, j.problems
        best_sim = min(best_sim, t1 - t0)
        best_all = min(best_all, t2 - t0)
    years = sc.duration_us / YEAR_US
    return years / best_sim, years / best_all


def peak_memory_mb(sc: Scenario) -> float:
    tracemalloc.start()
    log = Kernel(sc, trace=True).run()
    judge(sc, log)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def ff_speedup() -> tuple[float, float, float, int]:
    sc = Scenario(name="ff vs stepping", start=START, duration_us=d("2h"), seed=5,
                  overrides=(("mcu.wake_mode", "polling"),),
                  outages=(Outage(d("20min"), d("1h")),),
                  cover=(CoverOp(d("10min"), d("12min")), CoverOp(d("50min"), d("55min"))))
    t0 = time.process_time()
    ff = Kernel(sc, trace=False).run()
    t1 = time.process_time()
    step = Kernel(sc, trace=False, fast_forward=False).run()
    t2 = time.process_time()
    assert ff.writes == step.writes  # the same page writes at the same instants
    return (t2 - t1) / (t1 - t0), t1 - t0, t2 - t1, step.ticks_fired


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} "
          f"python {platform.python_version()}")
    base = reference_loop()
    print(f"baseline: reference loop {base * 1000:.1f} ms CPU")
    for mode, target in (("interrupt", 50.0), ("polling", 20.0)):
        sc = year_scenario(mode)
        sim, with_oracle = years_per_cpu_second(sc, args.repeat)
        print(f"{mode:9s}: {sim:7.1f} meter-years per CPU-second (simulation), "
              f"{with_oracle:7.1f} with the oracle; target >= {target:g} -> "
              f"{'met' if sim >= target else 'NOT met'} ({sim / target:.2f}x target); "
              f"{sim * base:.2f} meter-years per reference-loop")
    # What the record chain costs: the same year with no MAC on any page.
    sim, with_oracle = years_per_cpu_second(year_scenario("interrupt", record_mac=False),
                                            args.repeat)
    print(f"no chain : {sim:7.1f} meter-years per CPU-second (simulation), {with_oracle:7.1f} "
          "with the oracle: interrupt wake, security.record_mac = false")
    print(f"memory  : peak {peak_memory_mb(year_scenario('polling')):.1f} MB traced for a "
          "one-year run with trace and oracle (target < 200 MB); "
          f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    ratio, t_ff, t_step, ticks = ff_speedup()
    print(f"ff      : fast-forward {t_ff * 1000:.1f} ms vs stepping every tick "
          f"{t_step:.2f} s ({ticks} ticks) on a 2 h polling scenario: {ratio:.0f}x "
          f"(target >= 100x)")
    cost = firmware_cost()
    print(f"cost    : the firmware keeps {cost.ratio * 100:.2f} % of the quiescent-only watch "
          f"({cost.watch_s / 3600:.1f} h of {cost.quiescent_s / 3600:.1f} h; target >= 95 %)")
    print("reproduce: python benchmarks/twin_speed.py")


if __name__ == "__main__":
    main()
