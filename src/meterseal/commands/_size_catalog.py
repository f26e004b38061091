"""`meterseal size` with a catalogue requirement: its progress bar and its table.

Owns the presentation only; the search and the verdicts are verify.sizing_catalog's."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from meterseal.commands._output import plain
from meterseal.verify.sizing_case import BRACKET_DOUBLING_C, END_OF_LIFE, CatalogRequirement
from meterseal.verify.sizing_catalog import (
    CatalogSizing,
    TemperatureResult,
    case_count,
    catalog_verdict,
    limit_text,
    margin_text,
    size_catalog,
)


def run_with_progress(req: CatalogRequirement, supercaps: Sequence[str],
                      nvms: Sequence[str]) -> CatalogSizing:
    """The search with a Rich progress bar on stderr (a terminal only: pipes stay clean)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    total = case_count(req, supercaps, nvms)
    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), disable=not sys.stderr.isatty(),
                   transient=True)
    with bar:
        task = bar.add_task("sizing", total=total)
        return size_catalog(req, supercaps, nvms, progress=lambda: bar.advance(task))


def _cell(t: TemperatureResult, reports_needed: bool) -> str:
    """One temperature of one pair: watch · openings written on backup · reports out in full."""
    r = t.run
    n = len(r.openings)
    parts = [f"{'≥ ' if r.outlasted else ''}{r.watch_h:.1f} h",
             f"{sum(o.quality == 'exact' for o in r.openings)}/{n}"]
    if reports_needed:
        full = sum(o.on_backup and o.sends == o.sends_planned and not o.cut_short
                   for o in r.openings)
        parts.append(f"{full}/{n}")
    text = " · ".join(parts)
    return text if t.verdict.meets else f"[red]{text}[/red]"


def _details(s: CatalogSizing) -> list[str]:
    """What each failing supercapacitor's closest pair showed (the JSON has every pair's)."""
    out: dict[str, str] = {}
    for p in s.pairs:  # the closest pair of each part comes first
        f = p.first_failure
        if f is not None and p.supercap not in out:
            out[p.supercap] = f"{p.supercap} with {p.nvm}, {f[0]} {f[1]}"
    return list(out.values())


def print_catalog(s: CatalogSizing) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 160)
    req = s.requirement
    con.print(f"[bold]requirement[/bold]: {plain(req.describe())}")
    cells = "watch · openings written on backup" + (
        " · reports sent in full on backup" if req.reports_needed else "")
    tab = Table(title=f"catalogue pairs, each simulated at every temperature (cells: {cells})")
    for col in ("supercap", "NVM", "meets", "longest watch met (worst °C)"):
        tab.add_column(col)
    temps = req.temperatures_c
    for temp in temps:
        tab.add_column(f"{temp:g} °C", justify="right")
    bracket = req.leakage_bracket is not None
    if bracket:
        tab.add_column(f"{temps[-1]:g} °C, leakage ×2 per {BRACKET_DOUBLING_C:g} °C "
                       "[U] bracket", justify="right")
    tab.add_column("first limit that failed")
    for p in s.pairs:
        results = [*p.temperatures, *([p.bracket] if p.bracket is not None else [])]
        cells = ([_cell(t, req.reports_needed) for t in results] if p.excluded is None
                 else ["[dim]not simulated[/dim]"] * (len(temps) + bracket))
        tab.add_row(p.supercap, p.nvm, "[green]yes[/green]" if p.meets else "no",
                    plain(margin_text(p, req)), *cells, plain(limit_text(p)))
    con.print(tab)
    for line in _details(s):
        con.print(f"[dim]{plain(line)}[/dim]")
    if req.end_of_life:
        for name in dict.fromkeys(p.supercap for p in s.pairs if p.excluded is None):
            ageing, esr, source = END_OF_LIFE[name]
            con.print(f"end of life, {name}: C −{ageing:.0%}, ESR ×{esr:g} ({plain(source)})")
    warnings = dict.fromkeys(w for p in s.pairs for t in p.temperatures for w in t.run.warnings)
    for w in warnings:
        con.print(f"[yellow]warning[/yellow]: {plain(w)}")
    con.print(("[green]" if s.meeting else "[red]") + plain(catalog_verdict(s)))
