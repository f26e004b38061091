"""Sizing the backup supercapacitor: `meterseal size`.

Owns the question a hardware engineer brings — "which is the smallest standard supercapacitor
that keeps the meter watching its cover for N hours after mains is lost, at this temperature,
at end of life, with this battery?" — and its answer, found by simulating the twin (kernel and
firmware, so the watch ends where the firmware really ends it, budget reserves included), not
from a formula. Also owns the energy budget of a watch (the charge each drain takes from the
supercapacitor), the sweeps over capacitance, temperature, wake mode and switch bias, their
tables, JSON and plot, and the command's arguments.

It reads the kernel's load state to attribute charge (``_MeteredKernel``) but never changes
what the kernel does; physics stays in hardware/, behaviour in firmware/.

Capacitance changes a part's other figures: by default (``--part-family eaton-pb``) a
candidate's ESR and leakage follow the Eaton PB 5.0 V family of hardware.md (0.1 / 0.47 / 1.0 F:
ESR 4.0 / 1.0 / 0.5 Ω, leakage 3 / 7 / 12 µA), interpolated log-log and scaled so that 1.0 F
keeps the profile's own values; ``--part-family fixed`` keeps the profile's ESR and leakage for
every candidate. A value set with ``--set`` is always kept as it is.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meterseal.hardware.parts import charge_path_ohm, effective_supercap
from meterseal.hardware.profile import ProfileError, list_keys, resolve_profile
from meterseal.sim.kernel import Kernel, OutageLog
from meterseal.sim.scenario import CoverOp, Outage, Scenario, ScenarioError, parse_duration
from meterseal.verify.matrix import START

__all__ = [
    "BATTERY_STATES",
    "CATEGORIES",
    "STANDARD_F",
    "Budget",
    "Requirement",
    "Sizing",
    "SizingError",
    "Trial",
    "add_parser",
    "part_values",
    "plot_sizing",
    "run_trial",
    "size",
    "sizing_dict",
]

STANDARD_F: tuple[float, ...] = (0.1, 0.22, 0.33, 0.47, 0.68, 1.0, 1.5, 2.2, 3.3, 4.7, 5.0)
"""Standard supercapacitor values in farads (the E6-like series meters use, up to 5 F)."""

BATTERY_STATES: dict[str, dict[str, object]] = {
    "good": {"battery.present": True},
    # The matrix's weak battery: 2.4 V, under the 2.50 V undervoltage warning (hardware.md, clock-
    # battery undervoltage row): the RTC domain falls back to the supercapacitor and retained RAM
    # no longer outlives the MCU.
    "weak": {"battery.present": True, "battery.voltage_v": 2.4},
    "absent": {"battery.present": False},
}

CATEGORIES: tuple[str, ...] = (
    "leakage",
    "mcu_sleep",
    "switch_bias",
    "rtc",
    "wakes",
    "nvm_writes",
    "radio",
    "unattributed",
)
_CATEGORY_LABELS = {
    "leakage": "supercap leakage",
    "mcu_sleep": "MCU sleep",
    "switch_bias": "cover switch bias",
    "rtc": "RTC",
    "wakes": "MCU wakes",
    "nvm_writes": "NVM writes",
    "radio": "radio reports",
    "unattributed": "unattributed",
}

TEMPERATURES_C: tuple[float, ...] = (-25.0, 0.0, 20.0, 45.0, 70.0)
"""The temperature sweep of the plot and the grid (the PB part's −25…+70 °C range), plus the
requirement's own temperature."""

VARIANTS: tuple[tuple[str, str], ...] = (
    ("interrupt", "static"),
    ("interrupt", "pulsed"),
    ("polling", "static"),
    ("polling", "pulsed"),
)

# Eaton PB 5.0 V stacked parts (hardware.md, "Supercapacitors used in meters"): C, ESR, leakage
# current after 72 h at 20 °C at the rated 5.0 V.
_PB_ROWS: tuple[tuple[float, float, float], ...] = (
    (0.1, 4.0, 3e-6),
    (0.47, 1.0, 7e-6),
    (1.0, 0.5, 12e-6),
)
PART_FAMILIES = ("eaton-pb", "fixed")

# Keys that a requirement option sets: --set may not set them too.
_OPTION_KEYS = {
    "supercap.capacitance_f": "--candidates",
    "ambient.temperature_c": "--temperature",
    "supercap.tolerance": "--tolerance",
    "supercap.ageing": "--ageing",
    "battery.present": "--battery",
    "battery.voltage_v": "--battery",
}

_OPEN_US = 600_000_000  # each cover opening of the design case lasts 10 min
_HOUR_US = 3_600_000_000


class SizingError(ValueError):
    """A requirement that cannot be read or is out of range; the message names the option."""


# ---------------------------------------------------------------------------------- requirement


@dataclass(frozen=True, slots=True)
class Requirement:
    """What the backup supply must do, and the board it does it on.

    ``watch_us``: the firmware must still be watching the cover this long after mains is lost,
    at ``temperature_c``, with the capacitance at ``tolerance`` (−0.2: the −20 % end) and
    ``ageing`` (0.3: −30 %), the clock battery ``battery`` (good, weak, absent), and
    ``openings`` cover openings of 10 min, one an hour from the first hour after mains loss,
    each recorded and reported as the firmware can afford (fixed instants, so a candidate's
    trial does not depend on the hours required and the answer is monotonic in them).
    ``overrides`` are further profile keys.
    """

    watch_us: int
    temperature_c: float = -25.0
    tolerance: float = -0.2
    ageing: float = 0.3
    battery: str = "weak"
    openings: int = 2
    overrides: tuple[tuple[str, object], ...] = ()
    part_family: str = "eaton-pb"

    def __post_init__(self) -> None:
        if self.watch_us <= 0:
            raise SizingError("--watch: the required watch must be longer than zero")
        if self.watch_us > 365 * 24 * _HOUR_US:
            raise SizingError("--watch: more than a year of hold-up is not a supercapacitor's job")
        if self.battery not in BATTERY_STATES:
            raise SizingError(
                f"--battery: {self.battery!r} is not one of {', '.join(BATTERY_STATES)}"
            )
        if not 0 <= self.openings <= 50:
            raise SizingError(f"--openings: {self.openings} must be between 0 and 50")
        if self.part_family not in PART_FAMILIES:
            raise SizingError(f"--part-family: {self.part_family!r} is not one of "
                              f"{', '.join(PART_FAMILIES)}")
        for key, _value in self.overrides:
            if key in _OPTION_KEYS:
                raise SizingError(f"--set {key}: set it with {_OPTION_KEYS[key]} instead")
        # Every value checked against the profile now, with the option named.
        for option, key, value in (
            ("--temperature", "ambient.temperature_c", self.temperature_c),
            ("--tolerance", "supercap.tolerance", self.tolerance),
            ("--ageing", "supercap.ageing", self.ageing),
        ):
            try:
                resolve_profile({key: value})
            except ProfileError as exc:
                raise SizingError(f"{option}: {exc}") from None
        try:
            resolve_profile(dict(self.overrides))
        except ProfileError as exc:
            raise SizingError(f"--set: {exc}") from None

    @property
    def watch_h(self) -> float:
        return self.watch_us / _HOUR_US

    def describe(self) -> str:
        p = self.profile_overrides(1.0)
        return (
            f"watch ≥ {_hours(self.watch_us)} after mains is lost, at {self.temperature_c:g} °C, "
            f"capacitance {self.tolerance * 100:+g} % tolerance and {-self.ageing * 100:+g} % "
            f"ageing, {self.battery} clock battery, {p['mcu.wake_mode']} wake, "
            f"{p['cover.bias']} switch bias, {self.openings} cover opening(s) in the watch, "
            f"{self.part_family} part family"
        )

    def profile_overrides(
        self,
        capacitance_f: float,
        *,
        temperature_c: float | None = None,
        wake_mode: str | None = None,
        bias: str | None = None,
    ) -> dict[str, object]:
        """The profile keys of one trial: the requirement, the candidate and its part values."""
        ov: dict[str, object] = dict(self.overrides)
        ov.update(BATTERY_STATES[self.battery])
        ov["supercap.capacitance_f"] = capacitance_f
        ov["ambient.temperature_c"] = (
            self.temperature_c if temperature_c is None else temperature_c
        )
        ov["supercap.tolerance"] = self.tolerance
        ov["supercap.ageing"] = self.ageing
        if wake_mode is not None:
            ov["mcu.wake_mode"] = wake_mode
        if bias is not None:
            ov["cover.bias"] = bias
        base = resolve_profile(ov)
        if self.part_family == "eaton-pb":
            set_keys = dict(self.overrides)
            esr, leak = part_values(
                capacitance_f,
                float(base["supercap.esr_ohm"]),  # type: ignore[arg-type]
                float(base["supercap.leakage_ohm"]),  # type: ignore[arg-type]
            )
            if "supercap.esr_ohm" not in set_keys:
                ov["supercap.esr_ohm"] = esr
            if "supercap.leakage_ohm" not in set_keys:
                ov["supercap.leakage_ohm"] = leak
        resolved = resolve_profile(ov)
        return dict(resolved.flat())


def _loglog(c_f: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise log-log interpolation through ``points`` (x ascending), extrapolated along the
    end segments."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    x = math.log(c_f)
    i = min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 2)
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    return math.exp(ys[i] + slope * (x - xs[i]))


def part_values(
    capacitance_f: float, esr_1f_ohm: float, leakage_1f_ohm: float
) -> tuple[float, float]:
    """(ESR, leakage resistance) of a ``capacitance_f`` part of the Eaton PB family, scaled so a
    1.0 F part has ``esr_1f_ohm`` and ``leakage_1f_ohm`` (the profile's values)."""
    esr_rows = [(c, esr) for c, esr, _i in _PB_ROWS]
    leak_rows = [(c, i) for c, _esr, i in _PB_ROWS]
    esr = esr_1f_ohm * _loglog(capacitance_f, esr_rows) / _loglog(1.0, esr_rows)
    # Leakage resistance is inverse to the leakage current at the same voltage.
    leak = leakage_1f_ohm * _loglog(1.0, leak_rows) / _loglog(capacitance_f, leak_rows)
    return esr, leak


# ---------------------------------------------------------------------------------- one trial


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
            (_CATEGORY_LABELS[c], q, 100.0 * self.share(c))
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


class _MeteredKernel(Kernel):
    """The kernel, plus the charge each drain takes from the supercapacitor during one outage.

    Between two events every load is constant (that is the kernel's model); this subclass reads
    which loads are on after every load update and integrates them, and the leakage on the
    closed form, over the outage. It changes no state the kernel uses.
    """

    def __init__(self, scenario: Scenario, window_us: tuple[int, int]) -> None:
        self._window = window_us
        self._parts: tuple[float, ...] = (0.0,) * len(CATEGORIES)
        self._cum = [0.0] * len(CATEGORIES)
        self.snapshots_t: list[int] = []
        self.snapshots: list[tuple[float, tuple[float, ...]]] = []
        super().__init__(scenario, trace=False)

    def _update_loads(self) -> None:
        super()._update_loads()
        L = self.loads
        sleep = bias = wakes = writes = radio = rtc = 0.0
        if self.mcu_alive and not self.on_rail and not self.mcu_on_battery:
            sleep = L.sleep_a
            wakes = (L.active_a if self.active else 0.0) + self.skip_avg_a
            writes = L.nvm_write_a if self.nvm_busy else 0.0
            radio = L.radio_a if self.radio_busy else 0.0
            bias = L.pullup_a if (self.bias_on and self.pin == 1) else 0.0
        if self.rtc_on_sc:
            rtc = L.rtc_a
        known = sleep + bias + wakes + writes + radio + rtc
        other = self.i_sc - known
        if abs(other) <= 1e-12 * max(abs(self.i_sc), 1e-9):
            other = 0.0
        # Order of CATEGORIES; leakage is integrated separately.
        self._parts = (0.0, sleep, bias, rtc, wakes, writes, radio, other)

    def _advance(self, t: int) -> None:
        a, b = self._window
        lo = max(self.v_t, a)
        hi = min(t, b)
        if hi > lo:
            dt = (hi - lo) * 1e-6
            v_lo = self.v
            if lo > self.v_t:
                v_lo = _voltage_after(self.v, (lo - self.v_t) * 1e-6, self.v_inf, self.tau)
            cum = self._cum
            for k, i_a in enumerate(self._parts):
                if i_a:
                    cum[k] += i_a * dt
            # ∫V dt on V(t) = V∞ + (V0 − V∞)·e^(−t/τ), divided by R_leak.
            integral = self.v_inf * dt - (v_lo - self.v_inf) * self.tau * math.expm1(-dt / self.tau)
            cum[0] += integral / self.r_leak
        super()._advance(t)
        if a <= t <= b:
            self.snapshots_t.append(t)
            self.snapshots.append((self.v, tuple(self._cum)))


def _voltage_after(v0: float, dt_s: float, v_inf: float, tau_s: float) -> float:
    return v0 - (v_inf - v0) * math.expm1(-dt_s / tau_s)


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
    bound_us = int(min(bound_s * 1.1e6, 400 * 24 * _HOUR_US))
    return max(bound_us, int(req.watch_us * 1.5)) + _HOUR_US


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
    outage_us = _outage_length_us(req, resolve_profile(ov))
    at_us = _HOUR_US
    covers = tuple(
        CoverOp(at_us + (k + 1) * _HOUR_US, at_us + (k + 1) * _HOUR_US + _OPEN_US)
        for k in range(req.openings)
    )
    return Scenario(
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
    k = _MeteredKernel(sc, (outage.at_us, outage.end_us))
    log = k.run()
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


# ---------------------------------------------------------------------------------- the sweep


@dataclass(frozen=True, slots=True)
class Sizing:
    """The answer and everything behind it.

    ``trials``: each candidate under the requirement. ``chosen``: the smallest that meets it
    (None: none does). ``by_temperature``: temperature → one trial per candidate. ``variants``:
    (wake mode, bias) → one trial per candidate, at the requirement's temperature.
    """

    requirement: Requirement
    candidates: tuple[float, ...]
    trials: tuple[Trial, ...]
    chosen: Trial | None
    by_temperature: dict[float, tuple[Trial, ...]] = field(default_factory=dict)
    variants: dict[tuple[str, str], tuple[Trial, ...]] = field(default_factory=dict)

    def smallest(self, trials: Sequence[Trial]) -> Trial | None:
        return next((t for t in trials if t.meets), None)

    @property
    def reference(self) -> Trial:
        """The chosen trial, or (nothing meets) the largest candidate's."""
        return self.chosen if self.chosen is not None else self.trials[-1]


def size(
    req: Requirement, candidates: Sequence[float] = STANDARD_F, *, sweeps: bool = True
) -> Sizing:
    """Simulate every candidate under ``req``; the smallest that keeps the watch is the answer.

    Candidates are tried in ascending order and each one is simulated, so the table shows the
    margin of every value. With ``sweeps`` the same is done at the sweep temperatures and for
    each wake mode × bias variant (for the plot and the tables).
    """
    cands = tuple(sorted(set(candidates)))
    if not cands:
        raise SizingError("--candidates: give at least one capacitance")
    memo: dict[tuple[float, float, str, str], Trial] = {}

    def trial(c: float, temp: float | None = None, wake: str | None = None,
              bias: str | None = None) -> Trial:
        t = run_trial(req, c, temperature_c=temp, wake_mode=wake, bias=bias)
        key = (c, t.temperature_c, t.wake_mode, t.bias)
        return memo.setdefault(key, t)

    def cached(c: float, temp: float, wake: str, bias: str) -> Trial:
        hit = memo.get((c, temp, wake, bias))
        return hit if hit is not None else trial(c, temp, wake, bias)

    main = tuple(trial(c) for c in cands)
    chosen = next((t for t in main if t.meets), None)
    by_temp: dict[float, tuple[Trial, ...]] = {}
    variants: dict[tuple[str, str], tuple[Trial, ...]] = {}
    if sweeps:
        wake0, bias0 = main[0].wake_mode, main[0].bias
        for temp in sorted({*TEMPERATURES_C, req.temperature_c}):
            by_temp[temp] = tuple(cached(c, temp, wake0, bias0) for c in cands)
        for wake, bias in VARIANTS:
            variants[(wake, bias)] = tuple(
                cached(c, req.temperature_c, wake, bias) for c in cands
            )
    return Sizing(req, cands, main, chosen, by_temp, variants)


# ---------------------------------------------------------------------------------- presenting


def _hours(us: int) -> str:
    h = us / _HOUR_US
    return f"{h:g} h"


def _watch_text(t: Trial) -> str:
    return f"≥ {t.watch_h:.1f}" if t.outlasted else f"{t.watch_h:.1f}"


def verdict(s: Sizing) -> str:
    """One line: the answer, or why there is none."""
    req = s.requirement
    if s.chosen is None:
        best = max(s.trials, key=lambda t: t.watch_s)
        line = (
            f"impossible with these candidates: even {s.candidates[-1]:g} F watches only "
            f"{_watch_text(s.trials[-1])} h of the {req.watch_h:g} h required"
        )
        if best is not s.trials[-1]:
            line += f" (the longest watch: {best.capacitance_f:g} F, {_watch_text(best)} h)"
        return line
    c = s.chosen
    line = (
        f"smallest standard value: {c.capacitance_f:g} F — watches {_watch_text(c)} h "
        f"of the {req.watch_h:g} h required"
    )
    i = s.trials.index(c)
    if i > 0:
        below = s.trials[i - 1]
        line += f"; {below.capacitance_f:g} F watches {_watch_text(below)} h"
    return line


def sizing_dict(s: Sizing) -> dict[str, Any]:
    """The result as JSON-able data (``meterseal size --json``)."""

    def trial_dict(t: Trial) -> dict[str, Any]:
        return {
            "capacitance_f": t.capacitance_f,
            "effective_capacitance_f": round(t.effective_f, 6),
            "esr_ohm": round(t.esr_ohm, 6),
            "leakage_ohm": round(t.leakage_ohm, 1),
            "temperature_c": t.temperature_c,
            "wake_mode": t.wake_mode,
            "bias": t.bias,
            "watch_h": round(t.watch_h, 4),
            "watch_outlasted_outage": t.outlasted,
            "meets": t.meets,
            "supercap_v_at_outage": round(t.v_start, 6),
            "supercap_v_at_watch_end": round(t.v_end, 6),
            "budget_c": {k: round(v, 9) for k, v in t.budget.coulombs.items()},
        }

    req = s.requirement
    ref = s.reference
    return {
        "requirement": {
            "watch_h": req.watch_h,
            "temperature_c": req.temperature_c,
            "tolerance": req.tolerance,
            "ageing": req.ageing,
            "battery": req.battery,
            "openings": req.openings,
            "part_family": req.part_family,
            "set": dict(req.overrides),
        },
        "chosen_f": s.chosen.capacitance_f if s.chosen else None,
        "verdict": verdict(s),
        "candidates": [trial_dict(t) for t in s.trials],
        "budget": {
            "capacitance_f": ref.capacitance_f,
            "stored_c": round(ref.budget.stored, 9),
            "rows": [
                {"drain": label, "coulombs": round(q, 9), "percent": round(pct, 3)}
                for label, q, pct in ref.budget.rows()
            ],
        },
        "by_temperature": {
            f"{temp:g}": [
                {"capacitance_f": t.capacitance_f, "watch_h": round(t.watch_h, 4),
                 "meets": t.meets} for t in trials
            ]
            for temp, trials in s.by_temperature.items()
        },
        "variants": [
            {
                "wake_mode": wake,
                "bias": bias,
                "smallest_f": (lambda m: m.capacitance_f if m else None)(s.smallest(trials)),
                "watch_h_with_chosen": round(_same_c(trials, ref.capacitance_f).watch_h, 4),
                "budget_percent_with_chosen": {
                    k: round(100 * _same_c(trials, ref.capacitance_f).budget.share(k), 3)
                    for k in CATEGORIES
                },
            }
            for (wake, bias), trials in s.variants.items()
        ],
    }


def _same_c(trials: Sequence[Trial], c: float) -> Trial:
    return next(t for t in trials if t.capacitance_f == c)


def print_sizing(s: Sizing) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output gets room for the tables instead of rich's 80-column default.
    con = Console(width=None if sys.stdout.isatty() else 110)
    req = s.requirement
    con.print(f"[bold]requirement[/bold]: {req.describe()}")
    tab = Table(title="candidates under the requirement (each one simulated)")
    for col in ("C nominal", "C effective", "ESR", "leakage", "V at loss", "watch h", "meets"):
        tab.add_column(col, justify="right")
    for t in s.trials:
        tab.add_row(f"{t.capacitance_f:g} F", f"{t.effective_f:.3f} F", f"{t.esr_ohm:.3g} Ω",
                    f"{t.leakage_ohm / 1e3:.0f} kΩ", f"{t.v_start:.3f} V", _watch_text(t),
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
            t = _same_c(trials, ref.capacitance_f)
            sh = t.budget.share
            v.add_row(wake, bias, f"{m.capacitance_f:g} F" if m else "none",
                      f"{_watch_text(t)} h", f"{100 * sh('leakage'):.0f} %",
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
                text = _watch_text(t)
                cells.append(text if t.meets else f"[dim]{text}[/dim]")
            g.add_row(f"{c:g} F", *cells)
        con.print(g)
    con.print(("[green]" if s.chosen else "[red]") + verdict(s))


def plot_sizing(s: Sizing, path: str | Path) -> None:
    """Four panels: watch vs capacitance per temperature; watch vs temperature around the
    answer; watch vs capacitance per wake mode and bias; the energy budget of each variant."""
    import textwrap

    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    req = s.requirement
    fig = Figure(figsize=(13, 10), constrained_layout=True)
    FigureCanvasAgg(fig)
    (ax_c, ax_t), (ax_v, ax_b) = fig.subplots(2, 2)
    fig.suptitle(textwrap.fill(f"meterseal size — {req.describe()}. {verdict(s)}.", 160),
                 fontsize=9)

    def log_axes(ax: Any) -> None:
        ax.set_xscale("log")
        ax.set_yscale("log")
        shown: list[float] = []
        for c in s.candidates:  # a label only where it does not run into the last one
            if not shown or c / shown[-1] >= 1.2:
                shown.append(c)
        ax.set_xticks(shown, [f"{c:g}" for c in shown], fontsize=7)
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())

    def req_line(ax: Any) -> None:
        ax.axhline(req.watch_h, color="#d62728", ls="--", lw=1.2,
                   label=f"required {req.watch_h:g} h")

    # (a) watch vs capacitance, one curve per temperature
    cmap = {temp: c for temp, c in zip(
        sorted(s.by_temperature or {req.temperature_c: s.trials}),
        ("#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"),
        strict=False)}
    series = s.by_temperature or {req.temperature_c: s.trials}
    for temp, trials in sorted(series.items()):
        ax_c.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                  ms=3.5, lw=1.4 if temp != req.temperature_c else 2.4,
                  color=cmap.get(temp, "#333333"), label=f"{temp:g} °C")
    req_line(ax_c)
    if s.chosen is not None:
        ax_c.plot([s.chosen.capacitance_f], [s.chosen.watch_h], marker="*", ms=16, color="gold",
                  mec="black", ls="none", label=f"answer {s.chosen.capacitance_f:g} F")
    log_axes(ax_c)
    ax_c.set_xlabel("nominal capacitance (F)")
    ax_c.set_ylabel("watch after mains loss (h)")
    ax_c.set_title("hold-up against capacitance and temperature", fontsize=10)
    ax_c.grid(True, which="both", alpha=0.3)
    ax_c.legend(fontsize=7)

    # (b) watch vs temperature around the answer
    if s.by_temperature:
        temps = sorted(s.by_temperature)
        ref_i = s.trials.index(s.reference)
        for j in sorted({max(ref_i - 1, 0), ref_i, min(ref_i + 1, len(s.candidates) - 1)}):
            c = s.candidates[j]
            ax_t.plot(temps, [s.by_temperature[temp][j].watch_h for temp in temps],
                      marker="o", lw=2.4 if j == ref_i else 1.2, label=f"{c:g} F")
        req_line(ax_t)
        ax_t.axvline(req.temperature_c, color="#777777", lw=0.8, ls=":")
    ax_t.set_xlabel("temperature (°C)")
    ax_t.set_ylabel("watch after mains loss (h)")
    ax_t.set_title("hold-up against temperature", fontsize=10)
    ax_t.grid(True, alpha=0.3)
    ax_t.legend(fontsize=7)

    # (c) wake mode and bias
    styles = {("interrupt", "static"): ("#1f77b4", "-"), ("interrupt", "pulsed"): ("#1f77b4", "--"),
              ("polling", "static"): ("#ff7f0e", "-"), ("polling", "pulsed"): ("#ff7f0e", "--")}
    for (wake, bias), trials in s.variants.items():
        colour, ls = styles[(wake, bias)]
        ax_v.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                  ms=3.5, color=colour, ls=ls, label=f"{wake} wake, {bias} bias")
    req_line(ax_v)
    log_axes(ax_v)
    ax_v.set_xlabel("nominal capacitance (F)")
    ax_v.set_ylabel("watch after mains loss (h)")
    ax_v.set_title(f"wake mode and switch bias at {req.temperature_c:g} °C", fontsize=10)
    ax_v.grid(True, which="both", alpha=0.3)
    ax_v.legend(fontsize=7)

    # (d) energy budget per variant at the answer's capacitance
    ref_c = s.reference.capacitance_f
    rows = [(f"{w}/{b}", _same_c(tr, ref_c)) for (w, b), tr in s.variants.items()] or [
        ("requirement", s.reference)]
    colours = ("#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
               "#d62728")
    for y, (_name, t) in enumerate(rows):
        left = 0.0
        for k, cat in enumerate(CATEGORIES):
            share = 100 * t.budget.share(cat)
            if share < 1e-3:  # nothing drawn (rounding is not a drain)
                continue
            ax_b.barh(y, share, left=left, color=colours[k],
                      label=_CATEGORY_LABELS[cat] if y == 0 or cat not in _seen(ax_b) else None)
            if share >= 6:
                ax_b.text(left + share / 2, y, f"{share:.0f}%", ha="center", va="center",
                          fontsize=7, color="white")
            left += share
    ax_b.set_yticks(range(len(rows)), [f"{n}\n{t.watch_h:.0f} h" for n, t in rows], fontsize=8)
    ax_b.invert_yaxis()
    ax_b.set_xlim(0, 100)
    ax_b.set_xlabel(f"share of the charge drawn during the watch (%), {ref_c:g} F")
    ax_b.set_title("energy budget", fontsize=10)
    handles, labels = ax_b.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax_b.legend(uniq.values(), uniq.keys(), fontsize=7, loc="upper center",
                bbox_to_anchor=(0.5, -0.13), ncol=4)
    fig.savefig(str(path), dpi=110)


def _seen(ax: Any) -> set[str]:
    return {str(lbl) for lbl in ax.get_legend_handles_labels()[1]}


# ---------------------------------------------------------------------------------- the command


def _usage_error(message: str) -> Exception:
    from meterseal.cli import UsageError

    return UsageError(message)


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


def requirement_from_args(args: argparse.Namespace) -> Requirement:
    return Requirement(
        watch_us=_parse_watch(args.watch),
        temperature_c=args.temperature,
        tolerance=args.tolerance,
        ageing=args.ageing,
        battery=args.battery,
        openings=args.openings,
        overrides=_parse_set(args.set or ()),
        part_family=args.part_family,
    )


def cmd_size(args: argparse.Namespace) -> int:
    try:
        req = requirement_from_args(args)
        candidates = _parse_candidates(args.candidates)
        plot = None
        if args.plot:
            plot = Path(args.plot)
            parent = plot.parent if str(plot.parent) else Path(".")
            if not parent.is_dir():
                raise SizingError(f"--plot: directory {parent} does not exist")
            if plot.is_dir():
                raise SizingError(f"--plot: {plot} is a directory")
    except SizingError as exc:
        raise _usage_error(str(exc)) from None
    result = size(req, candidates)
    if plot is not None:
        plot_sizing(result, plot)
    if args.json:
        json.dump(sizing_dict(result), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
        if result.chosen is None:
            # A finding, not a usage error: one line beside the JSON (the table says it too).
            print(f"meterseal size: {verdict(result)}", file=sys.stderr)
    else:
        print_sizing(result)
    return 0 if result.chosen is not None else 1


# argparse takes "-5h" for an option; a value that reads as a negative duration is a value here,
# so that `--watch -5h` gets the clear "is negative" message instead of "expected one argument".
_NEGATIVE_VALUE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+\s*(us|µs|ms|s|min|h|d)\b.*$")


def add_parser(sub: Any) -> None:
    """Register `meterseal size` on the CLI's subparsers."""
    p = sub.add_parser(
        "size",
        help="the smallest standard supercapacitor that keeps the cover watched long enough",
        description="Simulate the twin (kernel and firmware) after a mains loss for every "
        "candidate supercapacitor under the requirement, and report the smallest that keeps "
        "the watch, the energy budget, and hold-up against capacitance, temperature, wake mode "
        "and switch bias. Exit 0: found; 1: no candidate meets the requirement; 2: bad input.",
    )
    p._negative_number_matcher = _NEGATIVE_VALUE
    p.add_argument("--watch", required=True, metavar="DURATION",
                   help="required watch after mains loss, e.g. 72h or '3d 12h'")
    p.add_argument("--temperature", type=float, default=-25.0, metavar="°C",
                   help="ambient temperature (default −25, the part's cold limit)")
    p.add_argument("--tolerance", type=float, default=-0.2, metavar="FRACTION",
                   help="capacitance tolerance (default −0.2, the −20 %% end)")
    p.add_argument("--ageing", type=float, default=0.3, metavar="FRACTION",
                   help="capacitance lost to ageing (default 0.3, end of life)")
    p.add_argument("--battery", choices=tuple(BATTERY_STATES), default="weak",
                   help="clock battery: good, weak (2.4 V, undervoltage) or absent "
                   "(default weak)")
    p.add_argument("--openings", type=int, default=2, metavar="N",
                   help="cover openings of 10 min on backup, at 1 h, 2 h, … after mains "
                   "loss, each recorded and reported (default 2)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a profile key, e.g. mcu.wake_mode=polling (repeatable)")
    p.add_argument("--candidates", default=",".join(f"{c:g}" for c in STANDARD_F),
                   metavar="F,F,…", help="capacitances to try, in farads (default the "
                   "standard values 0.1 … 5.0)")
    p.add_argument("--part-family", choices=PART_FAMILIES, default="eaton-pb",
                   help="how ESR and leakage follow capacitance (default eaton-pb)")
    p.add_argument("--plot", metavar="FILE.png", help="write the hold-up and budget plot")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_size)
