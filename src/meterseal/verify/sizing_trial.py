"""One sizing trial: a candidate's design case simulated, and the energy budget of its watch.

Owns the design case as a scenario (on mains for an hour, the part long charged, then one
outage long enough for the watch to end, the requirement's cover openings in it), its run on
the twin (kernel and firmware, so the watch ends where the firmware really ends it, budget
reserves included), and the charge each drain takes from the supercapacitor from mains loss to
the end of the watch.

It observes the kernel to attribute charge (``_BudgetMeter``, a kernel observer) but never
changes what the kernel does; physics stays in hardware/, behaviour in firmware/. Which
candidates are tried and how the answer is told is sizing.py's.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass

from meterseal.hardware.parts import charge_path_ohm, effective_supercap
from meterseal.hardware.profile import resolve_profile
from meterseal.hardware.supply import CATEGORIES as SUPPLY_CATEGORIES
from meterseal.hardware.supply import SupplyPath
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import OutageLog
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify.matrix import START
from meterseal.verify.sizing_requirement import HOUR_US, PROFILE, Requirement

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "Budget",
    "Trial",
    "run_trial",
    "trial_scenario",
]

# The supply path's loads, between the leakage and what no load accounts for.
CATEGORIES: tuple[str, ...] = ("leakage", *SUPPLY_CATEGORIES, "unattributed")
CATEGORY_LABELS = {
    "leakage": "supercap leakage",
    "mcu_sleep": "MCU sleep",
    "switch_bias": "cover switch bias",
    "rtc": "RTC",
    "wakes": "MCU wakes",
    "nvm_writes": "NVM writes",
    "radio": "radio reports",
    "standby": "regulator, NVM standby, IR receiver",
    "record_mac": "record MACs (security module)",
    "unattributed": "unattributed",
}

_OPEN_US = 600_000_000  # each cover opening of the design case lasts 10 min


@dataclass(frozen=True, slots=True)
class Budget:
    """Charge taken from the supercapacitor from mains loss to the end of the watch, coulombs.

    ``coulombs`` maps each of CATEGORIES to its charge. ``stored`` is C·(V_start − V_end), what
    the capacitor gave up: the categories add up to it (``unattributed`` holds the rounding, or
    a load the attribution does not know).
    """

    coulombs: dict[str, float]
    stored: float

    @property
    def total(self) -> float:
        return sum(self.coulombs.values())

    def share(self, category: str) -> float:
        total = self.total
        return self.coulombs[category] / total if total > 0 else 0.0

    def rows(self) -> list[tuple[str, float, float]]:
        """(label, coulombs, percent), largest first, zero rows dropped."""
        rows = [
            (CATEGORY_LABELS[c], q, 100.0 * self.share(c))
            for c, q in self.coulombs.items()
            if abs(q) > 1e-12
        ]
        return sorted(rows, key=lambda r: -r[1])


@dataclass(frozen=True, slots=True)
class Trial:
    """One simulated outage: a candidate at one temperature, wake mode and bias."""

    capacitance_f: float
    temperature_c: float
    wake_mode: str
    bias: str
    effective_f: float
    esr_ohm: float
    leakage_ohm: float
    outage_s: float
    watch_s: float
    outlasted: bool  # the watch lasted the whole simulated outage (watch_s is a lower bound)
    meets: bool
    v_start: float
    v_end: float
    budget: Budget

    @property
    def watch_h(self) -> float:
        return self.watch_s / 3600.0


class _BudgetMeter:
    """A kernel observer: the charge each drain takes from the supercapacitor during one outage.

    Between two events every load is constant (the kernel's model), and the supply path says
    which loads the supercapacitor carries; the leakage is integrated on the closed form. It
    changes nothing the kernel does.
    """

    def __init__(self, window_us: tuple[int, int]) -> None:
        self._window = window_us
        self._cum = [0.0] * len(CATEGORIES)
        self.snapshots_t: list[int] = []
        self.snapshots: list[tuple[float, tuple[float, ...]]] = []

    def segment(self, t0: int, t1: int, supply: SupplyPath) -> None:
        a, b = self._window
        lo, hi = max(t0, a), min(t1, b)
        if hi > lo:
            dt = (hi - lo) * 1e-6
            cum = self._cum
            for k, i_a in enumerate(supply.parts, start=1):  # after "leakage"
                if i_a:
                    cum[k] += i_a * dt
            # The leakage over [lo, hi]: ∫V dt / R_leak on the closed form, as the supply has it.
            cum[0] += (supply.leak_charge((hi - t0) * 1e-6)
                       - supply.leak_charge((lo - t0) * 1e-6))
        if a <= t1 <= b:
            self.snapshots_t.append(t1)
            self.snapshots.append((supply.voltage_after((t1 - t0) * 1e-6), tuple(self._cum)))


def _outage_length_us(req: Requirement, profile: Mapping[str, object]) -> int:
    """Long enough that the watch ends inside it: with no load at all the capacitor reaches the
    brown-out level after τ_leak·ln(V_charged / V_brownout); loads only shorten that."""
    cap = effective_supercap(profile)
    charge_v = float(profile["supercap.charge_source_v"])  # type: ignore[arg-type]
    charge_r = charge_path_ohm(profile)
    v_full = charge_v * cap.leakage_ohm / (cap.leakage_ohm + charge_r)
    brownout_v = float(profile["mcu.brownout_v"])  # type: ignore[arg-type]
    bound_s = 0.0
    if v_full > brownout_v:
        bound_s = cap.leakage_ohm * cap.capacitance_f * math.log(v_full / brownout_v)
    bound_us = int(min(bound_s * 1.1e6, 400 * 24 * HOUR_US))
    return max(bound_us, int(req.watch_us * 1.5)) + HOUR_US


def trial_scenario(
    req: Requirement,
    capacitance_f: float,
    *,
    temperature_c: float | None = None,
    wake_mode: str | None = None,
    bias: str | None = None,
) -> Scenario:
    """The design case as a scenario: on mains for an hour (the part long charged), then one
    outage long enough for the watch to end, with the requirement's cover openings 1 h, 2 h, …
    after mains loss."""
    ov = req.profile_overrides(
        capacitance_f, temperature_c=temperature_c, wake_mode=wake_mode, bias=bias
    )
    outage_us = _outage_length_us(req, resolve_profile(ov, PROFILE))
    at_us = HOUR_US
    covers = tuple(
        CoverOp(at_us + (k + 1) * HOUR_US, at_us + (k + 1) * HOUR_US + _OPEN_US)
        for k in range(req.openings)
    )
    return Scenario(
        profile_name=PROFILE,
        name=f"size {capacitance_f:g} F",
        start=START,
        duration_us=at_us + outage_us + 60_000_000,
        seed=1,
        overrides=tuple(sorted(ov.items())),
        outages=(Outage(at_us, outage_us),),
        cover=covers,
    )


def run_trial(
    req: Requirement,
    capacitance_f: float,
    *,
    temperature_c: float | None = None,
    wake_mode: str | None = None,
    bias: str | None = None,
) -> Trial:
    """Simulate one candidate: the twin's watch after mains loss, and its energy budget."""
    sc = trial_scenario(
        req, capacitance_f, temperature_c=temperature_c, wake_mode=wake_mode, bias=bias
    )
    outage = sc.outages[0]
    k = _BudgetMeter((outage.at_us, outage.end_us))
    log = Kernel(sc, trace=False, observers=[k]).run()
    out: OutageLog = log.outages[0]
    outlasted = out.watch_until_us is None
    end_us = outage.end_us if outlasted else int(out.watch_until_us)  # type: ignore[arg-type]
    i = bisect.bisect_right(k.snapshots_t, end_us) - 1
    v_end, cum = k.snapshots[i] if i >= 0 else (out.supercap_v, (0.0,) * len(CATEGORIES))
    cap = effective_supercap(sc.profile)
    coulombs = dict(zip(CATEGORIES, cum, strict=True))
    stored = cap.capacitance_f * (out.supercap_v - v_end)
    coulombs["unattributed"] += stored - sum(cum)
    watch_s = (end_us - outage.at_us) * 1e-6
    p = sc.profile
    return Trial(
        capacitance_f=capacitance_f,
        temperature_c=float(p["ambient.temperature_c"]),  # type: ignore[arg-type]
        wake_mode=str(p["mcu.wake_mode"]),
        bias=str(p["cover.bias"]),
        effective_f=cap.capacitance_f,
        esr_ohm=cap.esr_ohm,
        leakage_ohm=cap.leakage_ohm,
        outage_s=outage.for_us * 1e-6,
        watch_s=watch_s,
        outlasted=outlasted,
        meets=end_us - outage.at_us >= req.watch_us,
        v_start=out.supercap_v,
        v_end=v_end,
        budget=Budget(coulombs=coulombs, stored=stored),
    )
