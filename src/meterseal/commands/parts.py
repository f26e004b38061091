"""`meterseal parts [NAME ...] [--kind KIND] [--json]`: the parts catalogue with its sources.

Owns the options, their checks (one line and exit 2 for an unknown part or kind), and the
tables or JSON printed; the catalogue itself is hardware.catalog's."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from meterseal.commands._output import emit_json, plain
from meterseal.errors import UsageError

KINDS = {"supercap": "supercap.part", "nvm": "nvm.part", "battery": "battery.part",
         "radio": "radio.module"}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "parts",
        help="list the parts catalogue: each row's values and where they come from",
        description="List the parts a profile can select (supercap.part, nvm.part, "
        "battery.part, radio.module), each value with its source: a datasheet by name and "
        "table, [U] an assumption, [D] a derivation. Exit 2 on an unknown part or kind.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="only these parts (default: all)")
    p.add_argument("--kind", choices=sorted(KINDS), help="only the parts of one kind")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    p.set_defaults(func=cmd_parts)


def _select(names: list[str], kind: str | None) -> list[Any]:
    from meterseal.hardware import catalog

    rows = list(catalog.PARTS)
    if kind is not None:
        rows = [r for r in rows if r.selects == KINDS[kind]]
    if names:
        known = {r.name: r for r in rows}
        unknown = [n for n in names if n not in known]
        if unknown:
            scope = f" of kind {kind}" if kind else ""
            raise UsageError(f"no part {unknown[0]!r}{scope}; the catalogue has "
                             f"{', '.join(repr(n) for n in known)}")
        rows = [known[n] for n in dict.fromkeys(names)]
    return rows


def _row_dict(row: Any, units: dict[str, str]) -> dict[str, Any]:
    return {
        "name": row.name,
        "selects": row.selects,
        "title": row.title,
        "source": row.source,
        "values": [{"key": v.key, "value": v.value, "unit": units[v.key], "source": v.source}
                   for v in row.values],
        "leakage_figures": [
            {"time_s": f.time_s, "current_a": f.current_a, "voltage_v": f.voltage_v,
             "series_ohm": f.series_ohm, "kind": f.kind, "source": f.source}
            for f in row.figures
        ],
        "notes": list(row.notes),
    }


_PREFIXES = ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))


def _shown(value: object, unit: str) -> str:
    """A value as an engineer reads it: 458.3 kΩ, 32.8 mA, 0.42 F."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value) if value == "" else str(value)
    if unit in ("Ω", "A") and value != 0:
        scale, prefix = next(((s, p) for s, p in _PREFIXES if abs(value) >= s), _PREFIXES[-1])
        return f"{value / scale:.4g} {prefix}{unit}"
    text = f"{value:.4g}"
    return text if unit in ("-", "") else f"{text} {unit}"


def cmd_parts(args: argparse.Namespace) -> int:
    from meterseal.hardware import catalog
    from meterseal.hardware.profile import list_keys

    rows = _select(args.names, args.kind)
    units = {k.name: k.unit for k in list_keys()}
    if args.json:
        emit_json({"parts": [_row_dict(r, units) for r in rows],
                   "battery_states": list(catalog.BATTERY_STATES),
                   "custom": "selects no row: the profile's keys as they are"})
        return 0

    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 120)
    for row in rows:
        tab = Table(title=f"[bold]{plain(row.name)}[/bold] ({plain(row.selects)}): "
                          f"{plain(row.title)}", title_justify="left", expand=False)
        tab.add_column("key")
        tab.add_column("value", justify="right")
        tab.add_column("source", overflow="fold")
        for v in row.values:
            tab.add_row(plain(v.key), plain(_shown(v.value, units[v.key])), plain(v.source))
        for f in row.figures:
            tab.add_row("[dim]leakage figure[/dim]",
                        plain(f"{f.current_a * 1e6:.4g} µA at {f.time_s / 3600:g} h"),
                        plain(f"{f.kind}, at {f.voltage_v:g} V"
                              + (f" through {f.series_ohm:g} Ω" if f.series_ohm else "")
                              + f": {f.source}"))
        con.print(tab)
        for note in row.notes:
            con.print(f"  [dim]note:[/dim] {plain(note)}")
        con.print()
    if args.kind in (None, "battery") and not args.names:
        con.print("battery.state: " + ", ".join(catalog.BATTERY_STATES)
                  + " (placed on the cell's curve; see battery.py)")
    return 0
