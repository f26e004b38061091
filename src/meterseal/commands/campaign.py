"""`meterseal campaign`: randomised scenarios on Dask, judged, written to Parquet.

Checks every argument before any work starts; runs on Dask with a Rich progress bar; writes the
Parquet file (atomically) and each failing scenario's TOML; prints the summary. Exit status 1
when any scenario broke an invariant. Dask and Arrow load only when the command runs.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meterseal.commands._output import count_bar, plain
from meterseal.commands._paths import atomic_write, target_dir, write_target
from meterseal.errors import EXIT_FAIL, EXIT_OK, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress

# Only plain TCP: a tls:// scheduler needs a security configuration this command has no options
# for, inproc:// lives inside another process, and ucx:// needs a transport that is not
# installed; Dask answers each of those with a traceback.
_SCHEDULER = re.compile(r"^tcp://(\[[^\]\s/]+\]|[^\s/:\[\]]+):\d{1,5}$")
MAX_SCENARIOS = 100_000_000  # a week of a large cluster; above it a typo is likelier than a plan


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "campaign",
        help="run randomised scenarios on Dask and judge them all",
        description="Draw N random scenarios from SEED (each a pure function of seed and index), "
        "run them on Dask (a local cluster, or --scheduler), judge each, write the results to "
        "Parquet and every failing scenario as TOML; exit 1 if any invariant failed.",
    )
    p.add_argument("--scenarios", type=int, required=True, metavar="N", help="how many")
    p.add_argument("--seed", type=int, required=True, metavar="S", help="the campaign seed")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="a running Dask scheduler (default: a LocalCluster on this machine)")
    p.add_argument("--workers", type=int, metavar="W",
                   help="worker processes of the local cluster (default: all cores)")
    p.add_argument("--out", metavar="FILE.parquet", default="campaign.parquet",
                   help="results, one row per scenario (default: campaign.parquet)")
    p.add_argument("--failures", metavar="DIR", default="campaign-failures",
                   help="where each failing scenario goes as a TOML file, made only if one "
                   "fails (default: campaign-failures)")
    p.add_argument("--batch", type=int, metavar="K",
                   help="scenarios per Dask task (default: from N; never changes the results)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_campaign)


def _check(args: argparse.Namespace) -> tuple[Path, Path]:
    from meterseal.verify.campaign.engine import default_workers

    if not 1 <= args.scenarios <= MAX_SCENARIOS:
        raise UsageError(f"--scenarios: need 1 to {MAX_SCENARIOS:,}, got {args.scenarios}")
    if args.seed < 0 or args.seed >= 2**63:
        raise UsageError(f"--seed: need 0 <= S < 2**63, got {args.seed}")
    if args.workers is not None:
        if args.scheduler:
            raise UsageError("--workers: only for the local cluster; a --scheduler has its own")
        cores = default_workers()
        if not 1 <= args.workers <= cores:
            raise UsageError(f"--workers: this machine has {cores} core(s) for workers; "
                             f"need 1 to {cores}, got {args.workers}")
    if args.batch is not None and not 1 <= args.batch <= args.scenarios:
        raise UsageError(f"--batch: need 1 to {args.scenarios} (the scenarios), got {args.batch}")
    if args.scheduler is not None and not _SCHEDULER.match(args.scheduler):
        raise UsageError(f"--scheduler: expected a Dask scheduler's address tcp://HOST:PORT, "
                         f"got {args.scheduler!r}")
    return write_target(args.out, "--out"), target_dir(args.failures, "--failures")


def _progress_task(progress: Progress, total: int) -> Callable[[int], None]:
    """Add the run's task to a started bar; the callback that advances it by a finished batch
    and shows the rate since now."""
    task = progress.add_task("run", total=total, rate="")
    done = [0]
    t0 = time.perf_counter()

    def advance(n: int) -> None:
        done[0] += n
        rate = done[0] / max(1e-9, time.perf_counter() - t0)
        progress.update(task, advance=n, rate=f"{rate:,.0f} scenarios/s")

    return advance


def cmd_campaign(args: argparse.Namespace) -> int:
    out_path, failures_dir = _check(args)

    from rich.console import Console

    from meterseal.verify.campaign.engine import (
        CampaignError,
        dask_client,
        run_campaign,
        write_failures,
        write_parquet,
    )
    from meterseal.verify.campaign.summary import render, summarise

    con = Console()
    progress = count_bar("campaign", quiet=args.quiet, console=con, rate=True)
    try:
        with dask_client(args.scheduler, args.workers) as client, progress:
            advance = _progress_task(progress, args.scenarios)
            result = run_campaign(client, args.scenarios, args.seed, batch=args.batch,
                                  on_batch=advance)
    except CampaignError as exc:
        raise UsageError(str(exc)) from None

    with atomic_write(out_path, "--out", mode="wb") as fh:
        write_parquet(result, fh)
    try:
        written = write_failures(result, failures_dir)
    except OSError as exc:
        raise UsageError(f"--failures: could not write into {failures_dir} "
                         f"({exc.strerror or exc})") from None
    summary = summarise(result.table)
    render(summary, con, title=f"campaign seed {args.seed}")
    con.print(f"{result.scenarios} scenarios in {result.elapsed_s:.1f} s on {result.workers} "
              f"worker(s): {result.rate:,.0f} scenarios/s; results: {plain(out_path)}")
    if summary.failed:
        con.print(f"[red]{summary.failed} failing scenario(s)[/red]")
        if written:
            con.print(f"written to {plain(failures_dir)}/ (replay one with: "
                      f"meterseal run {plain(written[0])} --json)")
        return EXIT_FAIL
    con.print("[green]every invariant held in every scenario[/green]")
    return EXIT_OK
