"""The built-in verification matrix: the seed experiment, reproduced and extended.

Each case is a scenario plus what a hardware engineer expects of it: per true opening, its
status and the time quality of its record. A case passes when the oracle finds every invariant
kept and every expectation met. This module holds the cases and nothing of how they are run.
"""

from __future__ import annotations

from collections.abc import Callable

from meterseal.sim.scenario import CoverOp, Fault, Outage, Scenario
from meterseal.verify.matrix_field import field_cases
from meterseal.verify.matrix_types import (
    BOUNDED,
    DEFERRED,
    EXACT,
    START,
    UNDETECTABLE,
    UNSYNCED,
    Case,
    Expect,
    d,
)

__all__ = ["BOUNDED", "DEFERRED", "EXACT", "START", "UNDETECTABLE", "UNSYNCED", "Case", "Expect",
           "case_by_key", "cases", "d"]

def _sc(name: str, duration: str, outages=(), cover=(), faults=(), seed: int = 1,
        profile: str = "supercap-watch", **overrides: object) -> Scenario:
    return Scenario(
        name=name,
        start=START,
        duration_us=d(duration),
        seed=seed,
        profile_name=profile,
        overrides=tuple(sorted((k.replace("__", "."), v) for k, v in overrides.items())),
        outages=tuple(Outage(d(a), d(f)) for a, f in outages),
        cover=tuple(CoverOp(d(o), None if c is None else d(c)) for o, c in cover),
        faults=tuple(Fault("power-cut", d(a)) for a in faults),
    )




_Add = Callable[..., None]  # add(key, title, why, scenario, *expect)


def cases() -> list[Case]:
    out: list[Case] = []

    def add(key: str, title: str, why: str, sc: Scenario, *expect: Expect) -> None:
        out.append(Case(key, title, why, sc, tuple(expect)))

    _holdup_depth(add)
    _exhaustion_and_reconciliation(add)
    _timing_edges(add)
    _battery_and_temperature(add)
    _wake_modes_and_supplies(add)
    _faults_and_latches(add)
    field_cases(add)
    return out


def _holdup_depth(add: _Add) -> None:
    """Opened on mains, and at growing depths into a long outage."""
    add("before-outage", "opened on mains, still open through a 10 h outage",
        "the ordinary case: recorded at once with energies, closed after the outage",
        _sc("opened before the outage", "1d", [("2h", "10h")], [("1h", "14h")]), EXACT)
    for depth in ("1min", "2h", "24h", "48h"):
        add(f"holdup-{depth}", f"opened {depth} into a 3-day outage",
            "the seed's claim: the supercapacitor keeps the MCU watching after mains is gone",
            _sc(f"opened {depth} into the hold-up", "4d", [("1h", "3d")],
                [(f"1h {depth}", f"1h {depth} 10min")]), EXACT)


def _exhaustion_and_reconciliation(add: _Add) -> None:
    """After the backup is exhausted: reconciled at power-up, or undetectable; and many openings
    in one outage."""
    add("after-exhaustion", "opened after the backup is exhausted, open at restore",
        "nobody saw it: reconciled at power-up with an interval that must hold the truth",
        _sc("opened after exhaustion", "5d", [("1h", "4d")], [("3d", None)]), BOUNDED)
    add("blackout-open-close", "opened and closed during total blackout",
        "no hardware of this profile can see it: reported as undetectable, never as missed",
        _sc("opened and closed while dead", "5d", [("1h", "4d")], [("3d", "3d 1h")]),
        UNDETECTABLE)
    add("several-in-one-outage", "five openings in one outage",
        "field firmware records only the first open/close pair per outage; every one counts",
        _sc("five openings in one outage", "2d", [("1h", "1d")],
            [(f"{2 + 3 * i}h", f"{2 + 3 * i}h 20min") for i in range(5)]),
        *([EXACT] * 5))


def _timing_edges(add: _Add) -> None:
    """Openings at the edges of an outage: the power-fail window, restore, chatter."""
    add("power-fail-window", "opened 30 ms after mains loss, inside the power-fail window",
        "the MCU is saving its state on the bulk capacitor's energy while the cover moves",
        _sc("opened in the power-fail window", "1d", [("1h", "5h")],
            [("1h 0.030s", "1h 10min")]), EXACT)
    add("restore-debounce-dead", "opened 20 ms before mains returns, MCU long dead",
        "seen only at power-up, while the switch is still settling: a bounded record",
        _sc("opened just before restore (dead)", "5d", [("1h", "4d")],
            [("4d 59min 59.98s", None)]), BOUNDED)
    add("restore-debounce-alive", "opened 20 ms before mains returns, MCU watching",
        "the debounce started on backup finishes on mains: still an exact record",
        _sc("opened just before restore (alive)", "1d", [("1h", "2h")],
            [("2h 59min 59.98s", "4h")]), EXACT)
    add("mains-chatter", "mains chatter: 50 drops in 10 s, cover opened in the middle",
        "each drop trips the power-fail path; the journal must survive and stay countable",
        _sc("mains chatter", "1h",
            [(f"{10 + i * 0.2:.1f}s", "100ms") for i in range(50)], [("15.05s", "30s")]),
        EXACT)


def _battery_and_temperature(add: _Add) -> None:
    """A weak or missing clock battery, cold and heat."""
    add("weak-battery", "weak clock battery (2.4 V, under its undervoltage) with the supercap",
        "the RTC domain falls back to the supercapacitor; retained RAM no longer outlives it",
        _sc("weak battery", "2d", [("1h", "1d")], [("5h", "5h 10min")],
            battery__voltage_v=2.4), EXACT)
    add("dead-battery-unsynced", "no battery, supercap exhausted, opened while dead",
        "the clock stops with the supercap: the record must say the time is unknown",
        _sc("dead battery, exhausted supercap", "8d", [("1h", "6d")], [("5d", None)],
            battery__present=False), UNSYNCED)
    add("cold", "−25 °C: opened 12 h into the outage",
        "capacitance falls and ESR rises in the cold; the budget must still hold",
        _sc("cold", "2d", [("1h", "1d")], [("13h", "13h 10min")],
            ambient__temperature_c=-25.0), EXACT)
    add("hot", "+70 °C: opened 6 h into the outage, then again after the watch ended",
        "leakage and sleep current grow with heat: the watch ends hours earlier than at 20 °C",
        _sc("hot", "3d", [("1h", "2d")], [("7h", "7h 10min"), ("1d 20h", "1d 21h")],
            ambient__temperature_c=70.0), EXACT, UNDETECTABLE)
    add("cold-coin-cell-deferred", "−25 °C with a coin-cell supercap: late openings deferred",
        "75 Ω ESR ×2.5 in the cold makes a page write trip the brown-out long before the watch "
        "ends: records wait in battery-backed retained RAM and are written at restore",
        _sc("coin cell in the cold", "4d", [("1h", "3d")], [("1h 1min", "1h 11min"),
                                                            ("1d 3h", "1d 3h 10min")],
            ambient__temperature_c=-25.0, supercap__capacitance_f=0.47,
            supercap__esr_ohm=75.0, supercap__leakage_ohm=1_000_000.0), EXACT, DEFERRED)


def _wake_modes_and_supplies(add: _Add) -> None:
    """Polling against interrupt wake, and a supercap-only supply."""
    add("polling", "polling wake (1 s): opened 2 h into the outage",
        "the one-per-second poll of some field firmware; its energy cost shows in the watch",
        _sc("polling wake", "2d", [("1h", "1d")], [("3h", "3h 10min")],
            mcu__wake_mode="polling"), EXACT)
    add("polling-short", "polling wake: a 0.4 s opening between two polls",
        "shorter than the poll period: catchable only if a poll lands inside it",
        _sc("polling, short opening", "1d", [("1h", "5h")], [("3h 0.3s", "3h 0.7s")],
            mcu__wake_mode="polling"), UNDETECTABLE)
    add("interrupt-short", "interrupt wake: the same 0.4 s opening",
        "an edge wake sees what the poll missed",
        _sc("interrupt, short opening", "1d", [("1h", "5h")], [("3h 0.3s", "3h 0.7s")]),
        EXACT)
    add("supercap-only", "supercap-only supply: opened 12 h into the outage",
        "no battery domain: the RTC and retained RAM live on the supercapacitor alone",
        _sc("supercap only", "2d", [("1h", "1d")], [("13h", "13h 10min")],
            supply__topology="supercap-only"), EXACT)


def _faults_and_latches(add: _Add) -> None:
    """A power cut inside an NVM write, and the battery-domain tamper latch."""
    add("cut-inside-write", "power cut inside the NVM write of a mains-time record",
        "the journal must decode to before-or-after the write, and the record survive "
        "through retained RAM",
        _sc("power cut inside a write", "1d", [], [("1h", "2h")],
            faults=("1h 0.0425s",)), DEFERRED)
    add("tamper-latch", "battery-domain tamper latch: opened and closed while dead",
        "an option of several metering MCUs: the RTC domain time-stamps the edge",
        _sc("tamper latch", "5d", [("1h", "4d")], [("3d", "3d 1h")],
            cover__tamper_latch=True), DEFERRED)


def case_by_key(key: str) -> Case:
    for c in cases():
        if c.key == key:
            return c
    raise KeyError(key)
