"""Sizing the backup supercapacitor: `meterseal size`.

Owns the question a hardware engineer brings — "which is the smallest standard supercapacitor
that keeps the meter watching its cover for N hours after mains is lost, at this temperature,
at end of life, with this battery?" — and its answer, found by simulating the twin (kernel and
firmware, so the watch ends where the firmware really ends it, budget reserves included), not
from a formula. Also owns the energy budget of a watch (the charge each drain takes from the
supercapacitor), the sweeps over capacitance, temperature, wake mode and switch bias, their
JSON form (the tables are printed by the command, the plot drawn by sizing_plot).

It observes the kernel to attribute charge (``_BudgetMeter``, a kernel observer) but never
changes what the kernel does; physics stays in hardware/, behaviour in firmware/.

Capacitance changes a part's other figures: by default (``--part-family eaton-pb``) a
candidate's ESR and leakage follow the Eaton PB 5.0 V family of hardware.md (0.1 / 0.47 / 1.0 F:
ESR 4.0 / 1.0 / 0.5 Ω, leakage 3 / 7 / 12 µA), interpolated log-log and scaled so that 1.0 F
keeps the profile's own values; ``--part-family fixed`` keeps the profile's ESR and leakage for
every candidate. A value set with ``--set`` is always kept as it is.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meterseal.hardware.parts import charge_path_ohm, effective_supercap
from meterseal.hardware.profile import ProfileError, resolve_profile
from meterseal.hardware.supply import CATEGORIES as SUPPLY_CATEGORIES
from meterseal.hardware.supply import SupplyPath
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import OutageLog
from meterseal.sim.scenario import CoverOp, Outage, Scenario
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
    "part_values",
    "run_trial",
    "size",
    "sizing_dict",
]

PROFILE = "supercap-watch"
"""The board sized here: the supercapacitor carries the watch from the first second (the
battery-first design hands it the watch only once the battery is undervoltage)."""

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


def check_options(options: Sequence[tuple[str, str, object]],
                  overrides: Sequence[tuple[str, object]], profile: str) -> None:
    """Each (option, profile key, value) and the --set overrides resolved against the profile
    before anything runs: a SizingError naming the option at the first that is refused."""
    for option, key, value in options:
        try:
            resolve_profile({key: value}, profile)
        except ProfileError as exc:
            raise SizingError(f"{option}: {exc}") from None
    try:
        resolve_profile(dict(overrides), profile)
    except ProfileError as exc:
        raise SizingError(f"--set: {exc}") from None


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
        check_options((("--temperature", "ambient.temperature_c", self.temperature_c),
                       ("--tolerance", "supercap.tolerance", self.tolerance),
                       ("--ageing", "supercap.ageing", self.ageing)), self.overrides, PROFILE)

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
        base = resolve_profile(ov, PROFILE)
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
        resolved = resolve_profile(ov, PROFILE)
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
    outage_us = _outage_length_us(req, resolve_profile(ov, PROFILE))
    at_us = _HOUR_US
    covers = tuple(
        CoverOp(at_us + (k + 1) * _HOUR_US, at_us + (k + 1) * _HOUR_US + _OPEN_US)
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


def watch_text(t: Trial) -> str:
    return f"≥ {t.watch_h:.1f}" if t.outlasted else f"{t.watch_h:.1f}"


def verdict(s: Sizing) -> str:
    """One line: the answer, or why there is none."""
    req = s.requirement
    if s.chosen is None:
        best = max(s.trials, key=lambda t: t.watch_s)
        line = (
            f"impossible with these candidates: even {s.candidates[-1]:g} F watches only "
            f"{watch_text(s.trials[-1])} h of the {req.watch_h:g} h required"
        )
        if best is not s.trials[-1]:
            line += f" (the longest watch: {best.capacitance_f:g} F, {watch_text(best)} h)"
        return line
    c = s.chosen
    line = (
        f"smallest standard value: {c.capacitance_f:g} F — watches {watch_text(c)} h "
        f"of the {req.watch_h:g} h required"
    )
    i = s.trials.index(c)
    if i > 0:
        below = s.trials[i - 1]
        line += f"; {below.capacitance_f:g} F watches {watch_text(below)} h"
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
                "watch_h_with_chosen": round(trial_at(trials, ref.capacitance_f).watch_h, 4),
                "budget_percent_with_chosen": {
                    k: round(100 * trial_at(trials, ref.capacitance_f).budget.share(k), 3)
                    for k in CATEGORIES
                },
            }
            for (wake, bias), trials in s.variants.items()
        ],
    }


def trial_at(trials: Sequence[Trial], c: float) -> Trial:
    return next(t for t in trials if t.capacitance_f == c)
