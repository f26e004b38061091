"""The seed's experiment, reproduced as a comparison: what the supercapacitor buys, and where it
stops.

The same outage and the same four openings on the meter before the seed's design (battery
only) and on the seed's design (battery-first), with the clock battery healthy or undervoltage,
with a stacked 1 F part (Eaton PB, 0.5 Ω) or the coin cell sold for meters (Eaton KW, 30 Ω, with
its charge-redistribution branch), and with the supercapacitor long charged (three days on
mains) or freshly recharged (30 minutes of mains after an outage that emptied it). Every run is
judged by the oracle like a matrix case; the comparison reports, per variant, the hours of watch,
the openings recorded (and how), and the reports that went out on backup.

Knows scenarios, the kernel's log and the oracle's judgment; holds no physics of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from meterseal.firmware.records import QUALITY_NAMES
from meterseal.hardware.board import BoardParams
from meterseal.sim.design import budget_levels
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.sim.trace import Trajectory
from meterseal.verify.matrix_types import START, d
from meterseal.verify.result import Outcome, simulate

OUTAGE = "5d"
OPENINGS = ("1h", "12h", "2d", "4d")  # into the outage; each open for 10 minutes
PRIOR = "3d"  # the outage before a fresh recharge (it empties any supercapacitor)


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    board: str  # battery-only | battery-first
    part: str | None  # the supercapacitor's catalogue row (None: no supercapacitor)
    battery: str  # healthy | undervoltage
    charge: str  # long | fresh

    @property
    def label(self) -> str:
        sc = "no supercap" if self.part is None else self.part
        return f"{self.board}, {sc}, battery {self.battery}, {self.charge}-charged"


def variants() -> list[Variant]:
    out = [Variant(f"only-{bat}", "battery-only", None, bat, "long")
           for bat in ("healthy", "undervoltage")]
    for part in ("eaton-pb-1f", "eaton-kw-1f"):
        for bat in ("healthy", "undervoltage"):
            for charge in ("long", "fresh"):
                short = part.split("-")[1]
                out.append(Variant(f"first-{short}-{bat}-{charge}", "battery-first", part, bat,
                                   charge))
    return out


def scenario(v: Variant) -> Scenario:
    """The outage under study begins after 3 days on mains (long charged), or 30 minutes after
    the end of a 3-day outage (fresh)."""
    keys: dict[str, object] = {"supply.topology": v.board, "battery.state": v.battery}
    if v.part is not None:
        keys["supercap.part"] = v.part
    if v.charge == "long":
        outages = [Outage(d("3d"), d(OUTAGE))]
    else:
        outages = [Outage(d("1h"), d(PRIOR)), Outage(d("1h") + d(PRIOR) + d("30min"), d(OUTAGE))]
    at = outages[-1].at_us
    cover = tuple(CoverOp(at + d(o), at + d(o) + d("10min")) for o in OPENINGS)
    return Scenario(name=f"seed experiment: {v.label}", start=START,
                    duration_us=at + d(OUTAGE) + d("2h"), seed=3,
                    overrides=tuple(sorted(keys.items())), outages=tuple(outages), cover=cover)


@dataclass(frozen=True, slots=True)
class Row:
    variant: Variant
    outcome: Outcome
    watch_h: float | None  # None: the watch outlasted the outage
    # How long the supercapacitor could still afford a page write / a whole report, by the
    # firmware's own budget (None: to the outage's end; nan: no supercapacitor).
    write_reach_h: float | None
    report_reach_h: float | None
    recorded: int
    qualities: str  # e.g. "exact 2, bounded 1"
    reports_on_backup: int
    passed: bool


def run_experiment() -> list[Row]:
    rows = []
    for v in variants():
        sc = scenario(v)
        out = simulate(sc, trace=True)
        last = out.log.outages[-1]
        watch_h = None if last.watch_until_us is None else (
            (last.watch_until_us - last.from_us) / 3.6e9)
        j = out.judgment
        counts: dict[str, int] = {}
        for verdict in j.verdicts:
            if verdict.status == "recorded" and verdict.record in j.records:
                q = QUALITY_NAMES[j.records[verdict.record].quality]
                counts[q] = counts.get(q, 0) + 1
        on_backup = sum(1 for t, _k, _s, on in out.log.reports
                        if on == "backup" and t >= last.from_us)
        write_h, report_h = _reach(out, last.from_us, last.to_us, v.part is not None)
        rows.append(Row(v, out, watch_h, write_h, report_h, sum(counts.values()),
                        ", ".join(f"{q} {n}" for q, n in counts.items()) or "none",
                        on_backup, j.passed))
    return rows


_PART_NAMES = {"eaton-pb-1f": "PB 1 F", "eaton-kw-1f": "KW 1 F"}


def _reach(out: Outcome, a: int, b: int, has_supercap: bool) -> tuple[float | None, float | None]:
    """Hours after mains loss until the supercapacitor's voltage falls below the firmware's
    write floor, and below what a whole report needs (its budget at the board's temperature)."""
    if not has_supercap:
        return math.nan, math.nan
    board = BoardParams.from_profile(out.scenario.profile)
    write_floor_v, report_level_v = budget_levels(board)
    traj = Trajectory.of(out.scenario, out.log)
    return (_first_below(traj, a, b, write_floor_v), _first_below(traj, a, b, report_level_v))


def _first_below(traj: Trajectory, a: int, b: int, level: float) -> float | None:
    """Hours from a to the first instant in [a, b] the internal voltage is below level."""
    lo = traj.row_at(a)
    hi = traj.row_at(b)
    for i in range(max(lo, 0), hi + 1):
        t0 = max(traj.t_us[i], a)
        t1 = min(traj.t_us[i + 1] if i + 1 < len(traj.t_us) else b, b)
        if traj.voltage_at(t1, row=i) >= level:
            continue
        while t1 - t0 > 1000:  # to the ms: the voltage falls monotonically between events
            mid = (t0 + t1) // 2
            if traj.voltage_at(mid, row=i) < level:
                t1 = mid
            else:
                t0 = mid
        return (t1 - a) / 3.6e9
    return None


def _hours(h: float | None) -> str:
    if h is None:
        return f"≥ {d(OUTAGE) / 3.6e9:.0f} h"
    return "—" if math.isnan(h) else f"{h:.1f} h"


_DESIGN_SHORT = {"battery-only": "battery only", "battery-first": "battery first"}
_BATTERY_SHORT = {"healthy": "ok", "undervoltage": "UV"}


def _qualities_short(text: str) -> str:
    """"exact 2, deferred 2" -> "2E 2D" (the legend is under the table)."""
    out = []
    for part in text.split(", "):
        name, _sp, n = part.rpartition(" ")
        out.append(f"{n}{name[:1].upper()}" if name else part)
    return " ".join(out)


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    """One row per run, short enough for an 80-column terminal (see HEADERS and LEGEND)."""
    out = []
    for r in rows:
        v = r.variant
        out.append((_DESIGN_SHORT.get(v.board, v.board), _PART_NAMES.get(v.part or "", "—"),
                    _BATTERY_SHORT.get(v.battery, v.battery),
                    "3 d" if v.charge == "long" else "30 min", _hours(r.watch_h),
                    _hours(r.write_reach_h), _hours(r.report_reach_h),
                    f"{r.recorded}/{len(OPENINGS)}", _qualities_short(r.qualities),
                    str(r.reports_on_backup), "pass" if r.passed else "FAIL"))
    return out


HEADERS = ("design", "cap", "bat", "mains", "watch", "cap writes", "cap reports", "rec",
           "quality", "sent", "I1–I6")
LEGEND = ("design: where the watch runs; cap: the supercapacitor part; bat: the ER14250 healthy "
          "(ok) or undervoltage (UV); mains: how long mains charged it before the outage; watch: "
          "hours the MCU watched; cap writes / cap reports: hours after mains loss the "
          "supercapacitor could still afford a record write / a whole report; rec: openings "
          "recorded; quality: E exact, D deferred, B bounded, U unsynced; sent: reports sent on "
          "backup; I1–I6: the oracle's verdict")


def plot_experiment(rows: list[Row], where: str | Path | IO[bytes]) -> None:
    """Per variant, how long the supercapacitor could still afford a page write and a whole
    report after mains was lost (to the outage's end: hatched), with what was recorded and
    reported written beside the bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outage_h = d(OUTAGE) / 3.6e9
    fig = Figure(figsize=(12, 7), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    labels = [" / ".join(c for c in table_rows([r])[0][:4]) for r in rows]
    for k, (attr, colour, name) in enumerate((("write_reach_h", "#1f77b4", "page writes"),
                                              ("report_reach_h", "#ff7f0e", "whole reports"))):
        values = [getattr(r, attr) for r in rows]
        heights = [0.0 if v is not None and math.isnan(v) else (outage_h if v is None else v)
                   for v in values]
        ax.barh([i + 0.38 * k - 0.19 for i in range(len(rows))], heights, height=0.36,
                color=colour, hatch=["//" if v is None else "" for v in values],
                edgecolor="white", label=f"the supercapacitor affords {name}")
    for i, r in enumerate(rows):
        ax.text(outage_h * 1.02, i, f"{r.recorded}/{len(OPENINGS)} recorded ({r.qualities}); "
                f"{r.reports_on_backup} reports on backup", va="center", fontsize=7.5)
    for o in OPENINGS:
        ax.axvline(d(o) / 3.6e9, color="#d62728", lw=0.8, ls=":")
    ax.set_yticks(range(len(rows)), labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, outage_h * 1.75)
    ax.set_xlabel(f"hours after mains was lost (outage {outage_h:.0f} h; dotted: the four "
                  "openings; hatched: to the outage's end)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("The seed's experiment: what the supercapacitor buys, and where it stops "
                 "(design / supercap / battery / time on mains before)", fontsize=10)
    fig.savefig(where if not isinstance(where, str | Path) else str(where), format="png",
                dpi=100)
