"""Today's kernel and firmware on the workload of the code before the redesign (2416091).

That code's `twin_speed.py` year ran on its own default board (supercapacitor-first, no battery
model, no standby loads, no charge redistribution) with no daily freeze and no record chain.
This script runs today's code on that year: the board's keys set to that board's values, the
record MACs off, and the daily freeze taken out of the firmware for the run (the old firmware
had none; nothing else is changed). With ``--old PATH`` (a checkout of 2416091, e.g.
``git worktree add /tmp/old 2416091``) it times the old code on its own year in the same run and
prints the ratio.

Reproduce: python benchmarks/redesign_baseline.py [--old /tmp/old] [--repeat 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

from meterseal.firmware.recorder import Recorder
from meterseal.sim.kernel import Kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from twin_speed import year_scenario

# The keys whose defaults differ between that code's board and today's (the rest match).
OLD_BOARD = (
    ("supply.topology", "battery+supercap"), ("supercap.esr_ohm", 0.5),
    ("supercap.leakage_ohm", 420_000.0), ("supercap.rated_v", 5.0),
    ("supercap.redistribution_f", 0.0), ("radio.burst_current_a", 0.05),
    ("radio.burst_s", 0.2), ("supply.quiescent_current_a", 0.0),
    ("nvm.standby_current_a", 0.0), ("battery.self_discharge_per_year", 0.0),
)

OLD_YEAR = """
import sys, time
sys.path.insert(0, "benchmarks")
from twin_speed import year_scenario
from meterseal.sim.kernel import Kernel
sc = year_scenario("interrupt")
Kernel(sc, trace=False).run()
best = min(
    (lambda t: (Kernel(sc, trace=False).run(), time.process_time() - t)[1])(time.process_time())
    for _ in range({repeat}))
print(1.0 / best)
"""


def best_of(sc: object, repeat: int) -> float:
    Kernel(sc, trace=False).run()  # type: ignore[arg-type]
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        Kernel(sc, trace=False).run()  # type: ignore[arg-type]
        best = min(best, time.process_time() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, help="a checkout of the code before the redesign")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    base = year_scenario("interrupt", record_mac=False)
    sc = dataclasses.replace(base, overrides=base.overrides + OLD_BOARD)
    Recorder._freezes_on_mains = lambda self, now, valid: None  # type: ignore[method-assign]
    today = 1.0 / best_of(sc, args.repeat)
    print(f"today's code, that year and board, no freezes, no MACs: {today:.0f} meter-years "
          "per CPU-second (simulation)")
    if args.old is not None:
        env = {**os.environ, "PYTHONPATH": str(args.old / "src")}
        out = subprocess.run([sys.executable, "-c", OLD_YEAR.format(repeat=args.repeat)],
                             cwd=args.old, env=env, capture_output=True, text=True, check=True)
        old = float(out.stdout.strip())
        print(f"the code at {args.old}: {old:.0f} meter-years per CPU-second; today / then ="
              f" {today / old:.2f}")
    print("reproduce: python benchmarks/redesign_baseline.py --old /tmp/old")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
