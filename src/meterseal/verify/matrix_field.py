"""The verification matrix on the field's board: battery-first with catalogue parts.

The cases the board as meters are built raises (the cases of matrix.py keep the twin's first
board, where the supercapacitor carries the watch, so that they mean what they always meant):
the long watch on the clock battery, the supercapacitor taking over from an undervoltage
battery, an outage soon after a recharge, and what a switch can and cannot see (ESD and EFT
glitches the debounce must reject, a switch held down by a tool). Holds the cases only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from meterseal.sim.scenario import CoverOp, Fault, Outage, Scenario
from meterseal.verify.matrix_types import (
    DEFERRED,
    EXACT,
    START,
    UNDETECTABLE,
    Expect,
    d,
)

_Add = Callable[..., None]  # add(key, title, why, scenario, *expect)


def field(name: str, duration: str, outages: Sequence[tuple[str, str]] = (),
          cover: Sequence[tuple[str, str | None]] = (), *, held: Sequence[int] = (),
          faults: Sequence[Fault] = (), terminal: Sequence[tuple[str, str | None]] = (),
          **keys: object) -> Scenario:
    """A scenario on the field's board (the default profile); cover operations whose index is
    in `held` have the switch held down by a tool; `terminal` the terminal cover's."""
    return Scenario(
        name=name,
        start=START,
        duration_us=d(duration),
        seed=1,
        overrides=tuple(sorted((k.replace("__", "."), v) for k, v in keys.items())),
        outages=tuple(Outage(d(a), d(f)) for a, f in outages),
        cover=tuple(CoverOp(d(o), None if c is None else d(c), i in held)
                    for i, (o, c) in enumerate(cover)),
        faults=tuple(faults),
        terminal_cover=tuple(CoverOp(d(o), None if c is None else d(c)) for o, c in terminal),
    )


def glitch(at: str, width: str) -> Fault:
    return Fault("glitch", d(at), d(width))


def burst(at: str, width: str, count: int, period: str) -> Fault:
    return Fault("glitch-burst", d(at), d(width), count, d(period))


def field_cases(add: _Add) -> None:
    _battery_first(add)
    _switch_attacks(add)


def _battery_first(add: _Add) -> None:
    add("field-day-10", "field board: a 14-day outage, opened on day 10",
        "the seed's design watches on the clock battery for as long as the battery lasts: a "
        "healthy ER14250 outlasts any outage, and the opening is exact",
        field("battery-first, 14-day outage", "16d", [("1h", "14d")], [("10d", "10d 1h")]),
        EXACT)
    add("field-undervoltage-kw", "field board, battery undervoltage: the KW 1 F carries the watch",
        "the supercapacitor takes the watch from the first second and an opening within its "
        "budget is written at once; past it the undervoltage battery still runs the MCU and its "
        "RTC, too low for the EEPROM: the opening waits in retained RAM for mains",
        field("battery undervoltage, KW 1 F", "5d", [("1h", "4d")],
              [("3h", "3h 10min"), ("3d", "3d 1h")], battery__state="undervoltage"),
        EXACT, DEFERRED)


def _switch_attacks(add: _Add) -> None:
    add("esd-eft-glitches", "ESD spikes and EFT bursts on the switch, on mains and on backup",
        "false edges far shorter than the debounce: no record may come of them, and a true "
        "opening amid a burst is still recorded at its time",
        field("glitches", "1d", [("6h", "6h")], [("8h 0.1s", "9h")],
              faults=(glitch("1h", "2ms"), burst("2h", "1ms", 75, "2.2ms"),
                      burst("8h", "3ms", 40, "20ms"), glitch("10h", "40ms"))),
        EXACT)
    add("tool-held-switch", "the switch held down by a tool while the cover is off",
        "nothing electrical can see it: reported as undetectable, with that cause, never as "
        "missed; the next honest opening is recorded",
        field("tool-held switch", "1d", [("2h", "6h")], [("3h", "4h"), ("10h", "10h 30min")],
              held=(0,)),
        UNDETECTABLE, EXACT)
    add("field-terminal-cover", "the terminal cover and the meter cover opened in one outage",
        "a second switch on the same budget: each opening its own event in its own log, both "
        "exact (the terminal cover's judged by the same invariants against its own truth)",
        field("terminal cover and meter cover", "1d", [("2h", "10h")], [("5h", "6h")],
              terminal=[("4h", "7h")], terminal_cover__present=True),
        EXACT)
    add("field-deferred-after-glitch", "a 40 ms glitch on mains right before a real opening",
        "the debounce restarts on the real edge; the record is dated by it, not by the glitch",
        field("glitch then opening", "1d", [], [("5h 0.05s", "6h")],
              faults=(glitch("5h", "40ms"),)),
        EXACT)


__all__ = ["DEFERRED", "Expect", "field", "field_cases"]
