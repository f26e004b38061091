"""`meterseal size`: the smallest standard supercapacitor that keeps the cover watched, or the
catalogue parts that meet a requirement.

Owns the options, which of the two questions they ask, their checks (one line and exit 2 for bad
input), and the capacitance sweep's tables; the sizing itself (every candidate simulated with
the firmware) is verify.sizing's and verify.sizing_catalog's, the catalogue answer's table
_size_catalog's."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from typing import Any

from meterseal.commands._output import emit_json, plain
from meterseal.commands._paths import atomic_write, write_target
from meterseal.errors import UsageError
from meterseal.hardware import catalog
from meterseal.hardware.profile import ProfileError, list_keys, resolve_profile
from meterseal.sim.scenario import ScenarioError, parse_duration
from meterseal.verify.sizing import (
    STANDARD_F,
    Sizing,
    size,
    sizing_dict,
    trial_at,
    verdict,
    watch_text,
)
from meterseal.verify.sizing_case import CatalogRequirement
from meterseal.verify.sizing_catalog import catalog_dict, catalog_verdict, pick_parts
from meterseal.verify.sizing_requirement import (
    BATTERY_STATES,
    PART_FAMILIES,
    Requirement,
    SizingError,
)


def print_sizing(s: Sizing) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output gets room for the tables instead of rich's 80-column default.
    con = Console(width=None if sys.stdout.isatty() else 110)
    req = s.requirement
    con.print(f"[bold]requirement[/bold]: {plain(req.describe())}")
    tab = Table(title="candidates under the requirement (each one simulated)")
    for col in ("C nominal", "C effective", "ESR", "leakage", "V at loss", "watch h", "meets"):
        tab.add_column(col, justify="right")
    for t in s.trials:
        tab.add_row(f"{t.capacitance_f:g} F", f"{t.effective_f:.3f} F", f"{t.esr_ohm:.3g} Ω",
                    f"{t.leakage_ohm / 1e3:.0f} kΩ", f"{t.v_start:.3f} V", watch_text(t),
                    "[green]yes[/green]" if t.meets else "no")
    con.print(tab)
    ref = s.reference
    b = Table(title=f"energy budget of the watch, {ref.capacitance_f:g} F "
                    f"({ref.v_start:.3f} V → {ref.v_end:.3f} V, {ref.watch_h:.1f} h)")
    b.add_column("drain")
    b.add_column("charge", justify="right")
    b.add_column("share", justify="right")
    for label, q, pct in ref.budget.rows():
        b.add_row(label, f"{q * 1e3:.3f} mC", f"{pct:.1f} %")
    b.add_row("[bold]total[/bold]", f"{ref.budget.total * 1e3:.3f} mC", "100.0 %")
    con.print(b)
    if s.variants:
        v = Table(title=f"wake mode and switch bias at {req.temperature_c:g} °C: smallest C, "
                        f"and the watch and its budget with {ref.capacitance_f:g} F")
        for col in ("wake", "bias", "smallest", "watch", "leak", "sleep", "bias", "wakes",
                    "NVM+radio"):
            v.add_column(col, justify="right")
        for (wake, bias), trials in s.variants.items():
            m = s.smallest(trials)
            t = trial_at(trials, ref.capacitance_f)
            sh = t.budget.share
            v.add_row(wake, bias, f"{m.capacitance_f:g} F" if m else "none",
                      f"{watch_text(t)} h", f"{100 * sh('leakage'):.0f} %",
                      f"{100 * sh('mcu_sleep'):.0f} %", f"{100 * sh('switch_bias'):.0f} %",
                      f"{100 * sh('wakes'):.0f} %",
                      f"{100 * (sh('nvm_writes') + sh('radio')):.1f} %")
        con.print(v)
    if s.by_temperature:
        g = Table(title="watch (h) against capacitance and temperature")
        g.add_column("C nominal", justify="right")
        temps = list(s.by_temperature)
        for temp in temps:
            g.add_column(f"{temp:g} °C", justify="right")
        for k, c in enumerate(s.candidates):
            cells = []
            for temp in temps:
                t = s.by_temperature[temp][k]
                text = watch_text(t)
                cells.append(text if t.meets else f"[dim]{text}[/dim]")
            g.add_row(f"{c:g} F", *cells)
        con.print(g)
    con.print(("[green]" if s.chosen else "[red]") + verdict(s))


# ---------------------------------------------------------------------------------- the command


def _parse_value(text: str) -> object:
    """A --set value as TOML reads it (numbers, true/false, quoted strings), else a bare string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_set(items: Sequence[str]) -> tuple[tuple[str, object], ...]:
    known = {k.name for k in list_keys()}
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise SizingError(f"--set {item!r}: expected KEY=VALUE, e.g. mcu.wake_mode=polling")
        if key not in known:
            try:
                resolve_profile({key: 0})
            except ProfileError as exc:
                raise SizingError(f"--set: {exc}") from None
        out[key] = _parse_value(value.strip())
    return tuple(sorted(out.items()))


def _parse_candidates(text: str) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            c = float(part)
        except ValueError:
            raise SizingError(
                f"--candidates: {part!r} is not a capacitance in farads (e.g. 0.47,1.0,1.5)"
            ) from None
        if not (math.isfinite(c) and 0 < c <= 1000):
            raise SizingError(f"--candidates: {part} F must be above 0 and at most 1000 F")
        values.append(c)
    if not values:
        raise SizingError("--candidates: give at least one capacitance")
    return tuple(sorted(set(values)))


def _parse_watch(text: str) -> int:
    t = text.strip()
    if t.startswith("-"):
        raise SizingError(f"--watch: {text!r} is negative; give a positive duration like 72h")
    try:
        return parse_duration(t, "--watch")
    except ScenarioError as exc:
        raise SizingError(str(exc)) from None


def _parse_temperature(text: str | None) -> tuple[float, float] | None:
    """``-25`` or a range ``-25..70`` (°C) as (cold end, hot end); None when not given."""
    if text is None:
        return None
    ends = text.replace("−", "-").split("..")
    if len(ends) > 2:
        raise SizingError(f"--temperature: {text!r} is not a temperature or a range like -25..70")
    try:
        values = [float(e) for e in ends]
    except ValueError:
        raise SizingError(f"--temperature: {text!r} is not a temperature in °C or a range like "
                          "-25..70") from None
    lo, hi = values[0], values[-1]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SizingError(f"--temperature: {text!r} must be finite")
    return lo, hi


def _catalog_mode(args: argparse.Namespace, temps: tuple[float, float] | None) -> bool:
    """The requirement names catalogue terms: the answer is catalogue parts, not a capacitance."""
    return (args.module is not None or args.end_of_life or args.parts is not None
            or (temps is not None and temps[0] != temps[1])
            or args.battery in ("healthy", "undervoltage"))


def requirement_from_args(args: argparse.Namespace) -> Requirement:
    temps = _parse_temperature(args.temperature)
    return Requirement(
        watch_us=_parse_watch(args.watch),
        temperature_c=-25.0 if temps is None else temps[0],
        tolerance=args.tolerance,
        ageing=0.3 if args.ageing is None else args.ageing,
        battery=args.battery or "weak",
        openings=2 if args.openings is None else args.openings,
        overrides=_parse_set(args.set or ()),
        part_family=args.part_family or "eaton-pb",
    )


# Options of the capacitance sweep that a catalogue requirement has no use for.
_SWEEP_ONLY = (("candidates", "--candidates", ""), ("part_family", "--part-family", ""),
               ("ageing", "--ageing", " (--end-of-life takes each part's own ageing)"),
               ("plot", "--plot", ""))


def catalog_requirement_from_args(args: argparse.Namespace) -> CatalogRequirement:
    for attr, flag, hint in _SWEEP_ONLY:
        if getattr(args, attr) is not None:
            raise SizingError(f"{flag}: belongs to sizing a capacitance, not to a requirement "
                              "over the catalogue (--module, --end-of-life, --parts, a "
                              f"temperature range, --battery healthy|undervoltage){hint}")
    temps = _parse_temperature(args.temperature) or (-25.0, 70.0)
    return CatalogRequirement(
        watch_us=_parse_watch(args.watch),
        battery=args.battery or "undervoltage",
        module=args.module or "rf-micropower",
        temperature_range_c=temps,
        end_of_life=args.end_of_life,
        tolerance=args.tolerance,
        openings=2 if args.openings is None else args.openings,
        overrides=_parse_set(args.set or ()),
    )


def _cmd_catalog(args: argparse.Namespace) -> int:
    from meterseal.commands._size_catalog import print_catalog, run_with_progress

    try:
        req = catalog_requirement_from_args(args)
        supercaps, nvms = pick_parts(_split(args.parts or ""))
    except SizingError as exc:
        raise UsageError(str(exc)) from None
    result = run_with_progress(req, supercaps, nvms)
    if args.json:
        emit_json(catalog_dict(result))
        if not result.meeting:
            # A finding, not a usage error: one line beside the JSON (the table says it too).
            print(f"meterseal size: {catalog_verdict(result)}", file=sys.stderr)
    else:
        print_catalog(result)
    return 0 if result.meeting else 1


def _split(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def cmd_size(args: argparse.Namespace) -> int:
    try:
        catalog_mode = _catalog_mode(args, _parse_temperature(args.temperature))
    except SizingError as exc:
        raise UsageError(str(exc)) from None
    if catalog_mode:
        return _cmd_catalog(args)
    try:
        req = requirement_from_args(args)
        candidates = _parse_candidates(args.candidates or ",".join(f"{c:g}" for c in STANDARD_F))
    except SizingError as exc:
        raise UsageError(str(exc)) from None
    plot = write_target(args.plot, "--plot") if args.plot else None
    result = size(req, candidates)
    if plot is not None:
        from meterseal.verify.sizing_plot import plot_sizing

        with atomic_write(plot, "--plot", mode="wb") as fh:
            plot_sizing(result, fh)
    if args.json:
        emit_json(sizing_dict(result))
        if result.chosen is None:
            # A finding, not a usage error: one line beside the JSON (the table says it too).
            print(f"meterseal size: {verdict(result)}", file=sys.stderr)
    else:
        print_sizing(result)
    return 0 if result.chosen is not None else 1


# argparse takes "-5h" for an option; a value that reads as a negative duration is a value here,
# so that `--watch -5h` gets the clear "is negative" message instead of "expected one argument";
# and so is a temperature range that starts below zero (`--temperature -25..70`).
_NEGATIVE_VALUE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+\s*(us|µs|ms|s|min|h|d)\b.*$"
                             r"|^-[\d.]+\.\.[-+]?[\d.]*$")

_BATTERIES = (*BATTERY_STATES, *(s for s in catalog.BATTERY_STATES if s not in BATTERY_STATES))


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "size",
        help="size the backup supply: the smallest supercapacitor, or the catalogue parts that "
        "meet a requirement",
        description="Simulate the twin (kernel and firmware) after a mains loss and size the "
        "backup supply. Given a capacitance question, report the smallest standard value that "
        "keeps the watch, the energy budget, and hold-up against capacitance, temperature, wake "
        "mode and switch bias. Given a requirement over the catalogue (--module, --end-of-life, "
        "--parts, a temperature range like -25..70, or --battery healthy|undervoltage), report "
        "which catalogue supercapacitor and NVM pairs meet it at every temperature of the range "
        "and their margin, or which limit failed first. Exit 0: found; 1: nothing meets the "
        "requirement; 2: bad input.",
    )
    p._negative_number_matcher = _NEGATIVE_VALUE
    p.add_argument("--watch", required=True, metavar="DURATION",
                   help="required watch after mains loss, e.g. 72h or '3d 12h'")
    p.add_argument("--temperature", metavar="°C|LO..HI",
                   help="ambient temperature (default −25, the part's cold limit), or a range "
                   "such as -25..70 (its ends and 20 °C are simulated; default for a catalogue "
                   "requirement -25..70)")
    p.add_argument("--tolerance", type=float, default=-0.2, metavar="FRACTION",
                   help="capacitance tolerance (default −0.2, the −20 %% end)")
    p.add_argument("--ageing", type=float, metavar="FRACTION",
                   help="capacitance lost to ageing (default 0.3, end of life)")
    p.add_argument("--battery", choices=_BATTERIES,
                   help="clock battery: good, weak (2.4 V, undervoltage) or absent (default "
                   "weak); over the catalogue, the ER14250's state healthy (= good), weak, "
                   "undervoltage or absent (default undervoltage)")
    p.add_argument("--module", choices=tuple(r.name for r in catalog.parts_for("radio.module")),
                   help="the communication module that reports each opening on backup "
                   "(catalogue; default rf-micropower)")
    p.add_argument("--end-of-life", action="store_true",
                   help="each catalogue supercapacitor at its own end of life (its datasheet's "
                   "capacitance loss and ESR growth)")
    p.add_argument("--parts", metavar="NAME,…",
                   help="only these catalogue supercapacitors and NVMs (default every one; a "
                   "kind not named is tried in full)")
    p.add_argument("--openings", type=int, metavar="N",
                   help="cover openings of 10 min on backup (default 2): at 1 h, 2 h, … after "
                   "mains loss; over the catalogue spread over the watch, the last closing at "
                   "its end")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a profile key, e.g. mcu.wake_mode=polling (repeatable)")
    p.add_argument("--candidates", metavar="F,F,…",
                   help="capacitances to try, in farads (default the standard values 0.1 … 5.0)")
    p.add_argument("--part-family", choices=PART_FAMILIES,
                   help="how ESR and leakage follow capacitance (default eaton-pb)")
    p.add_argument("--plot", metavar="FILE.png", help="write the hold-up and budget plot")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_size)
