"""`meterseal suspects [--db URL] [--top K] [--explain ADDRESS] [--json]`: whom to visit first,
and why — every registered meter ranked by its theft-suspicion score, with its reasons in words;
or one meter's timeline and reasons with their numbers.

An empty store, one without the utility's register, a store from a newer meterseal, an unknown
address: one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import re

from meterseal.commands._output import emit, emit_json, plain
from meterseal.errors import UsageError

_ADDRESS = re.compile(r"\d{12}")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from meterseal.headend.store import DEFAULT_URL

    p = sub.add_parser("suspects", help="theft-suspicion ranking of the store's meters, with"
                       " reasons")
    p.add_argument("--db", default=DEFAULT_URL, metavar="URL",
                   help=f"the store: sqlite:///PATH or postgresql://… (default {DEFAULT_URL})")
    p.add_argument("--top", type=int, default=20, metavar="K",
                   help="how many to list (default 20; 0: all)")
    p.add_argument("--explain", metavar="ADDRESS", help="one meter's timeline and reasons")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_suspects)


def cmd_suspects(args: argparse.Namespace) -> int:
    from meterseal.headend.analytics import AnalyticsError, analyse

    if args.top < 0:
        raise UsageError(f"suspects: --top is 0 (all) or more, got {args.top}")
    if args.explain is not None and not _ADDRESS.fullmatch(args.explain):
        raise UsageError(f"suspects: --explain {args.explain!r}: an address is 12 digits")
    try:
        analysis = analyse(args.db)
        try:
            if args.explain is not None:
                _explain(analysis.timeline(args.explain), args.json)
            else:
                _ranking(analysis.ranking, args.top, args.json)
        finally:
            analysis.close()
    except AnalyticsError as exc:
        raise UsageError(f"suspects: {exc}") from None
    return 0


def _ranking(ranking, top: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    shown = ranking[:top] if top else ranking
    if as_json:
        emit_json([{"rank": i, **s.as_json()} for i, s in enumerate(shown, start=1)])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"theft suspicion: {len(shown)} of {len(ranking)} meters",
                  show_lines=True)
    for col in ("#", "meter", "score", "feeder", "type", "model", "why"):
        table.add_column(col, overflow="fold")
    for i, s in enumerate(shown, start=1):
        model = s.meter_model + ("" if s.sees_outage_openings else " (blind in outages)")
        why = "\n".join([*s.caveats, *s.reasons[:3]]) or "nothing found"
        table.add_row(str(i), s.address, f"{s.score:.1f}", plain(s.feeder),
                      plain(s.customer_type), plain(model), plain(why))
    Console(width=160).print(table)


def _explain(t, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        emit_json(t.as_json())
        return
    s = t.suspect
    lines = [f"meter {s.address}: score {s.score:.1f} of 100, rank {t.rank} of {t.of}",
             f"  customer type {s.customer_type}, feeder {s.feeder}, meter model {s.meter_model}"
             + ("" if s.sees_outage_openings else " (cannot see openings during outages)"),
             *[f"  caveat: {c}" for c in s.caveats], "reasons:"]
    lines += [f"  - {r}" for r in s.reasons] or ["  - nothing found"]
    lines.append(f"timeline (UTC{t.offset_h:+g}):")
    lines += [f"  {e.kind:<12} {e.text}" for e in t.events] or ["  (no events)"]
    if t.usage:
        total = sum(k for _d, k in t.usage)
        lines.append(f"consumption: {len(t.usage)} days, {total:.1f} kWh,"
                     f" {total / len(t.usage):.2f} kWh/day on average")
    emit("\n".join(lines))
