"""`meterseal fleet --meters N --days D --seed S --out DIR [--thieves F] [--workers W]
[--start DATE]`: a synthetic service area, every meter's twin run on Dask (fleet/).

Checks every argument before any work starts (one line and exit 2); draws the plan; runs the
twins on a local Dask cluster with a Rich progress bar; writes everything into a temporary
folder beside DIR and renames it into place at the end, so DIR is whole or absent. Dask loads
only when the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meterseal.commands._output import count_bar
from meterseal.errors import EXIT_OK, UsageError

if TYPE_CHECKING:

    from meterseal.fleet.engine import FleetRun
    from meterseal.fleet.plan import FleetSpec, Plan

MAX_METERS = 1_000_000
MAX_DAYS = 3650
DEFAULT_START = "2026-01-01"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fleet", help="generate a synthetic service area of meter twins (a fleet directory)",
        description="Draw a service area — customers and their loads, feeders and outages, "
        "meter models, staff visits with work orders, thieves — run every meter's twin on Dask "
        "and write the fleet directory (docs/fleet.md): images and manifests that `serve "
        "--fleet` serves, the utility's files and the ground truth.")
    p.add_argument("--meters", type=int, required=True, metavar="N", help="how many meters")
    p.add_argument("--days", type=int, required=True, metavar="D", help="the period, in days")
    p.add_argument("--seed", type=int, required=True, metavar="S", help="the area's seed")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the fleet directory to write (must not exist, or be empty)")
    p.add_argument("--thieves", type=float, default=0.05, metavar="FRACTION",
                   help="the share of customers who steal (default 0.05)")
    p.add_argument("--workers", type=int, metavar="W",
                   help="worker processes of the local Dask cluster (default: all cores)")
    p.add_argument("--start", default=DEFAULT_START, metavar="DATE",
                   help=f"the first day, YYYY-MM-DD, local midnight UTC+8 (default "
                   f"{DEFAULT_START})")
    p.add_argument("--name", default="", help="the fleet's name in fleet.toml")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fleet)


def _start(text: str, days: int) -> datetime:
    from meterseal.fleet.plan import local_midnight

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start: expected a date YYYY-MM-DD, got {text!r}") from None
    if day < date(2000, 1, 1) or day.toordinal() + days >= date(2099, 12, 31).toordinal():
        raise UsageError("--start/--days: the period must lie within 2000-01-01..2099-12-30, "
                         "the meter's calendar")
    return local_midnight(day.year, day.month, day.day)


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out: {out} exists and is not an empty folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--out: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out: cannot write in {parent} (permission denied)")
    return out


def _spec(args: argparse.Namespace) -> FleetSpec:
    from meterseal.fleet.plan import FleetSpec
    from meterseal.verify.campaign.engine import default_workers

    if not 1 <= args.meters <= MAX_METERS:
        raise UsageError(f"--meters: need 1 to {MAX_METERS:,}, got {args.meters}")
    if not 1 <= args.days <= MAX_DAYS:
        raise UsageError(f"--days: need 1 to {MAX_DAYS}, got {args.days}")
    if not 0 <= args.seed < 2**63:
        raise UsageError(f"--seed: need 0 <= S < 2**63, got {args.seed}")
    if not 0.0 <= args.thieves <= 1.0:  # also refuses nan
        raise UsageError(f"--thieves: a fraction from 0 to 1, got {args.thieves}")
    cores = default_workers()
    if args.workers is not None and not 1 <= args.workers <= cores:
        raise UsageError(f"--workers: this machine has {cores} core(s) for workers; need 1 to "
                         f"{cores}, got {args.workers}")
    return FleetSpec(args.meters, args.days, args.seed, _start(args.start, args.days),
                     args.thieves)


@dataclass(frozen=True, slots=True)
class _Made:
    plan: Plan
    run: FleetRun
    elapsed_s: float


def _make(spec: FleetSpec, root: Path, args: argparse.Namespace) -> _Made:
    from meterseal.fleet.engine import run_fleet
    from meterseal.fleet.files import write_fleet_toml, write_truth, write_utility
    from meterseal.fleet.plan import plan_fleet
    from meterseal.sim.fleetdir import start_fleet
    from meterseal.verify.campaign.engine import CampaignError, dask_client

    t0 = time.perf_counter()
    plan = plan_fleet(spec)
    start_fleet(root)
    name = args.name or f"fleet {spec.seed}: {spec.meters} meters, {spec.days} days"
    write_fleet_toml(root, plan, name)
    write_utility(root, plan)
    write_truth(root, plan)
    progress = count_bar("fleet", quiet=args.quiet)
    try:
        with dask_client(None, args.workers) as client, progress:
            task = progress.add_task("meters", total=spec.meters)
            run = run_fleet(client, plan, root / "meters",
                            on_batch=lambda n: progress.update(task, advance=n))
    except CampaignError as exc:
        raise UsageError(str(exc)) from None
    return _Made(plan, run, time.perf_counter() - t0)


def cmd_fleet(args: argparse.Namespace) -> int:
    spec = _spec(args)
    out = _out_dir(args.out)
    parent = out.parent if str(out.parent) else Path(".")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    try:
        made = _make(spec, tmp, args)
        os.chmod(tmp, 0o777 & ~_umask())
        os.replace(tmp, out)
    except OSError as exc:
        raise UsageError(f"--out: could not write {out} ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    run = made.run
    covers = sum(d.cover_total for d in run.done)
    downs = sum(d.power_down_total for d in run.done)
    thieves = sum(1 for m in made.plan.meters if m.theft is not None)
    print(f"{spec.meters} meters on {len(made.plan.feeders)} feeders, {spec.days} days: "
          f"{thieves} thieves, {len(made.plan.work_orders)} work orders; {covers} cover-open "
          f"and {downs} power-down records in the images")
    print(f"made in {made.elapsed_s:.1f} s on {run.workers} worker(s) "
          f"({spec.meters / made.elapsed_s:,.0f} meters/s): {out}")
    return EXIT_OK


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
