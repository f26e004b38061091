"""Campaign throughput on Dask: scenarios per second at 1 and 2 workers, in one run (issue 4).

For each worker count: start a LocalCluster of that many worker processes, warm it up (every
worker imports meterseal and runs a few scenarios), then time a campaign of N scenarios from the
first task submitted to the last row gathered — cluster start-up excluded, scheduling, transfer
and gathering included. The same scenarios are run at both counts (same seed), so the two rates
are directly comparable; the rows are checked equal (minus runtime) as a by-product. Prints
both rates and their ratio (target: 2 workers >= 1.8x one), the machine, and the command.

Other processes on the machine compete for the same cores: run it on an idle machine.

Reproduce: python benchmarks/campaign_throughput.py [--scenarios N] [--seed S] [--workers 1 2]
           [--batch K]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from meterseal.verify.campaign.engine import dask_client, run_campaign


def _rows(result) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    rows = result.table.drop_columns(["runtime_s"]).to_pylist()
    return rows


def _cpu_s() -> float:
    """CPU seconds this (worker) process has used."""
    t = os.times()
    return t.user + t.system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, default=None,
                    help="scenarios per task (default: the campaign's own choice)")
    args = ap.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rates: dict[int, float] = {}
    reference = None
    for w in args.workers:
        with dask_client(workers=w) as client:
            run_campaign(client, 8 * w, args.seed + 1, batch=1)  # warm-up: imports, caches
            w_cpu0 = client.run(_cpu_s)
            t0 = time.perf_counter()
            cpu0 = os.times()
            result = run_campaign(client, args.scenarios, args.seed, batch=args.batch)
            wall = time.perf_counter() - t0
            cpu1 = os.times()
            w_cpu1 = client.run(_cpu_s)
        rates[w] = args.scenarios / wall
        worker_cpu = sum(w_cpu1[k] - w_cpu0[k] for k in w_cpu1)
        client_cpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system
        print(f"{w} worker(s): {args.scenarios} scenarios in {wall:.2f} s = "
              f"{rates[w]:.1f} scenarios/s; workers got {worker_cpu:.1f} CPU-s of "
              f"{w * wall:.1f} ({100 * worker_cpu / (w * wall):.0f} %: below ~95 % means other "
              f"processes took the cores), client {client_cpu:.1f} CPU-s")
        rows = _rows(result)
        if reference is None:
            reference = rows
        elif rows != reference:
            print("ERROR: the rows differ between worker counts", file=sys.stderr)
            return 1
    if 1 in rates and 2 in rates:
        ratio = rates[2] / rates[1]
        verdict = "meets" if ratio >= 1.8 else "BELOW"
        print(f"speed-up 2 workers / 1 worker: {ratio:.2f}x ({verdict} the 1.8x target)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    batch = f" --batch {args.batch}" if args.batch else ""
    print(f"reproduce: python benchmarks/campaign_throughput.py --scenarios {args.scenarios} "
          f"--seed {args.seed} --workers {' '.join(map(str, args.workers))}{batch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
