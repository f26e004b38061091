"""`meterseal collect --endpoints FILE|URL… [--db URL] [--concurrency N] [--timeout S]
[--retries N] [--json]`: every meter behind the endpoints into the store, incrementally.

A progress bar (on a terminal) while it runs, then one summary: meters read and failed, new
events, problems, the rate. Meters that fail are problem rows in the store, not errors; an
endpoints file or a store that cannot be used, or endpoints none of which can be reached, are
one line and exit status 2; some gateways down and others read: exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys

from meterseal.errors import EXIT_FAIL, UsageError

MAX_TIMEOUT_S = 3600.0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from meterseal.headend.collector import DEFAULT_CONCURRENCY
    from meterseal.headend.store import DEFAULT_URL

    p = sub.add_parser("collect", help="collect every meter behind the endpoints into the store")
    p.add_argument("--endpoints", required=True, nargs="+", metavar="FILE|URL",
                   help="endpoints files (TOML, docs/headend.md) and/or tcp://HOST:PORT,"
                   " serial:DEV[:BAUD] of single meters")
    p.add_argument("--db", default=DEFAULT_URL, metavar="URL",
                   help=f"the store: sqlite:///PATH or postgresql://… (default {DEFAULT_URL})")
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                   help="gateways worked at once; each reads one meter at a time"
                   f" (default {DEFAULT_CONCURRENCY})")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds to wait for each answer (default: the endpoints file's, or 2)")
    p.add_argument("--retries", type=int, default=2, metavar="N",
                   help="tries again after a timeout or garbage, with back-off (default 2)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_collect)


def cmd_collect(args: argparse.Namespace) -> int:
    from meterseal.headend.collector import Settings
    from meterseal.headend.endpoints import EndpointsError, load_endpoints
    from meterseal.headend.store import Store, StoreError

    if not 1 <= args.concurrency <= 10_000:
        raise UsageError(f"--concurrency: 1..10000, got {args.concurrency}")
    if not 0 <= args.retries <= 10:
        raise UsageError(f"--retries: 0..10, got {args.retries}")
    if args.timeout is not None and not (math.isfinite(args.timeout)
                                         and 0 < args.timeout <= MAX_TIMEOUT_S):
        raise UsageError(f"--timeout: seconds above 0 and at most {MAX_TIMEOUT_S:g}")
    try:
        endpoints = load_endpoints(args.endpoints)
    except EndpointsError as exc:
        raise UsageError(str(exc)) from None
    timeout = args.timeout or endpoints.timeout_s or 2.0
    settings = Settings(concurrency=args.concurrency, timeout_s=timeout,
                        connect_timeout_s=min(timeout * 2, 10.0), retries=args.retries)
    try:
        store = Store.open(args.db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        summary = asyncio.run(_collect(store, endpoints, settings))
    finally:
        store.close()
    return _report(summary, endpoints, args)


async def _collect(store, endpoints, settings):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from meterseal.headend.collector import Collector

    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn(),
                   disable=not sys.stderr.isatty(), transient=True)
    with bar:
        task = bar.add_task("collecting", total=endpoints.meter_count)
        collector = Collector(store, endpoints, settings,
                              progress=lambda _address, _ok: bar.advance(task))
        return await collector.run()


def _report(summary, endpoints, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    s = summary
    down = len(s.gateways_down)
    if down and down == len(endpoints.gateways):
        raise UsageError(
            f"collect: no endpoint could be reached ({', '.join(s.gateways_down[:3])}"
            f"{', …' if down > 3 else ''}); nothing was collected (problems in run {s.run_id})"
        )
    if args.json:
        print(json.dumps({
            "run": s.run_id, "meters_total": s.meters_total, "meters_read": s.meters_read,
            "meters_failed": s.meters_failed, "new_events": s.new_events,
            "problems": s.problems, "gateways_down": s.gateways_down,
            "seconds": round(s.seconds, 3), "meters_per_s": round(s.meters_per_s, 1),
        }))
    else:
        print(f"collected {s.meters_read} of {s.meters_total} meters ({s.meters_failed} failed)"
              f" in {s.seconds:.1f} s, {s.meters_per_s:.1f} meters/s; {s.new_events} new"
              f" events; {s.problems} problems (collection_problem, run {s.run_id})")
        if down:
            print(f"gateways down: {', '.join(s.gateways_down)}")
    return EXIT_FAIL if down else 0
