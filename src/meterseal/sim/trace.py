"""The trace of a run and the supercapacitor trajectory it implies.

Owns the trace's CSV form (DESIGN.md, "Trace") and the one reconstruction of the voltage between
trace rows: between two rows every load is constant, so the voltage follows the supply's closed
form with that interval's load and charging state. The plot and the ngspice cross-check both read
the run through :class:`Trajectory`, so they cannot disagree about what the twin computed.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from typing import IO

from meterseal.hardware import rc2
from meterseal.hardware.board import BoardParams
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario

TRACE_HEADER = ("t_us", "supercap_v", "battery_v", "load_a", "state")
TRACE_HEADER_BRANCH = ("t_us", "supercap_v", "redistribution_v", "battery_v", "load_a", "state")


def write_trace_csv(log: RunLog, fh: IO[str]) -> None:
    """One row per kernel event: ``t_us,supercap_v,battery_v,load_a,state``, with
    ``redistribution_v`` after ``supercap_v`` when the part has a redistribution branch."""
    w = csv.writer(fh)
    if log.redistribution:
        w.writerow(TRACE_HEADER_BRANCH)
        for t, v, vb, i, state, vd in log.trace:
            w.writerow([t, f"{v:.9f}", f"{vd:.9f}", f"{vb:.6f}", f"{i:.9g}", state])
        return
    w.writerow(TRACE_HEADER)
    for t, v, vb, i, state, _vd in log.trace:
        w.writerow([t, f"{v:.9f}", f"{vb:.6f}", f"{i:.9g}", state])


def mains_intervals(sc: Scenario) -> tuple[tuple[int, int], ...]:
    """When mains is present (the charging path connected): the complement of the outages."""
    out: list[tuple[int, int]] = []
    t = 0
    for o in sorted(sc.outages, key=lambda o: o.at_us):
        if o.at_us > t:
            out.append((t, o.at_us))
        t = max(t, o.end_us)
    end = max(sc.duration_us, t)
    if t < end:
        out.append((t, end))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Trajectory:
    """The supercapacitor along a traced run: each row's voltage, its load proper (the trace's
    load column with the charger's current taken back out while mains is present) and whether
    it was charging; between rows, the closed form."""

    t_us: tuple[int, ...]
    v: tuple[float, ...]
    vd: tuple[float, ...]  # the redistribution branch's capacitor (= v without a branch)
    load_a: tuple[float, ...]
    charging: tuple[bool, ...]
    mains: tuple[tuple[int, int], ...]
    end_us: int
    capacitance_f: float
    leakage_ohm: float
    charge_source_v: float
    charge_path_ohm: float
    redistribution_f: float
    redistribution_ohm: float

    @classmethod
    def of(cls, sc: Scenario, log: RunLog) -> Trajectory:
        if not log.trace:
            raise ValueError("the run has no trace: run the kernel with trace=True")
        b = BoardParams.from_profile(sc.profile)
        mains = mains_intervals(sc)
        starts = [a for a, _ in mains]
        ts, vs, vds, loads, charging = [], [], [], [], []
        for t, v, _vb, load, _state, vd in log.trace:
            k = bisect.bisect_right(starts, t) - 1
            on = k >= 0 and mains[k][0] <= t < mains[k][1]
            if on:
                # The trace's load is the load minus the charger's current at that instant
                # (negative while it charges); the loads alone are what holds until the next row.
                load += (b.charge_source_v - v) / b.charge_path_ohm
                if abs(load) < 1e-15:
                    load = 0.0  # rounding of the subtraction, not a current
            ts.append(t)
            vs.append(v)
            vds.append(vd)
            loads.append(load)
            charging.append(on)
        cap = b.supercap
        return cls(tuple(ts), tuple(vs), tuple(vds), tuple(loads), tuple(charging), mains,
                   log.t_end_us, cap.capacitance_f, cap.leakage_ohm, b.charge_source_v,
                   b.charge_path_ohm, cap.redistribution_f, cap.redistribution_ohm)

    def row_at(self, t_us: int) -> int:
        """The row that governs ``t_us``: the last at or before it (-1 before the first)."""
        return bisect.bisect_right(self.t_us, t_us) - 1

    def shape(self, i: int) -> rc2.Node2:
        """The node (its closed form) of the trajectory that starts at row ``i``."""
        source = ((self.charge_source_v, self.charge_path_ohm) if self.charging[i]
                  else (None, None))
        return rc2.node(self.capacitance_f, self.leakage_ohm, self.load_a[i],
                        self.redistribution_f, self.redistribution_ohm, *source)

    def voltage_at(self, t_us: int, row: int | None = None) -> float:
        """The internal voltage at ``t_us``, carried from its governing row on the closed form."""
        i = self.row_at(t_us) if row is None else row
        if i < 0:
            raise ValueError(f"t_us={t_us} is before the first trace row")
        return rc2.voltage_after(self.shape(i), self.v[i], self.vd[i],
                                 (t_us - self.t_us[i]) * 1e-6)

    def steps(self) -> tuple[tuple[int, float], ...]:
        """(t_us, load proper) at each row: a piecewise-constant load a circuit can replay."""
        return tuple(zip(self.t_us, self.load_a, strict=True))
