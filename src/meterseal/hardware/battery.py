"""The clock battery (a Li-SOCl2 primary cell such as the ER14250): charge drawn and voltage.

The model. The open-circuit voltage is a function of the charge drawn q, piecewise linear:

- flat at the nominal voltage over the first 90 % of capacity (Li-SOCl2 cells hold a flat
  plateau for most of their life);
- linear from the nominal voltage down to the cut-off voltage between 90 % and 100 %;
- past 100 % the same slope continues down to 0 V (a spent cell collapses), so the voltage stays
  continuous and an RTC domain that runs below the cut-off still sees its end.

The terminal voltage is OCV − I·R_int (not below 0). Under a constant current the charge grows
linearly in time, so the time to any open-circuit voltage is solved exactly. A cell that is not
fitted reads 0 V.

Three effects of a real cell, each 0 unless the profile sets it (so the model without them is
the one above):

- **initial charge drawn**: a cell in the field is not fresh; ``battery.state`` (healthy, weak,
  undervoltage, absent) places it on the curve (``state_drawn_fraction``);
- **self-discharge**: "≤ 1 %/year" (hardware.md, ER14250 row) is a constant drain of that share
  of the capacity, ``self_discharge_a``, added to every current the cell delivers (also to none);
- **passivation**: after the cell has rested, a pulse load first sees an extra series
  resistance — "a transient voltage dip when load starts after storage, worse when cold"
  (hardware.md, Maxell ER passivation row). ``terminal_v_pulse`` adds it: OCV − I·(R_int + R_p(T)),
  with R_p nominal at and above 20 °C, ``passivation_ratio_cold`` times that at and below −25 °C,
  linear between (the same law as the supercapacitor's cold ratios, parts.cold_ratio). When the
  film is broken again (after how much load) is the caller's to decide.

Must not know about the kernel, the supercapacitor or which domain the battery feeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from meterseal.hardware.parts import cold_ratio

__all__ = [
    "COULOMBS_PER_MAH",
    "PLATEAU_FRACTION",
    "SECONDS_PER_YEAR",
    "STATES",
    "UNDERVOLTAGE_MARGIN_V",
    "Battery",
    "drawn_fraction_at_ocv",
    "pulse_resistance_ohm",
    "self_discharge_current_a",
    "state_drawn_fraction",
    "terminal_v_under_pulse",
]

PLATEAU_FRACTION = 0.9
"""Fraction of capacity delivered on the flat plateau."""

SECONDS_PER_YEAR = 365.25 * 86_400.0

STATES = ("healthy", "weak", "undervoltage", "absent")
"""What ``battery.state`` may say about the cell when the scenario starts."""

UNDERVOLTAGE_MARGIN_V = 0.1
"""[D] How far below its undervoltage level an ``undervoltage`` cell starts: the matrix's weak
battery, 2.4 V against the 2.50 V level (hardware.md, clock-battery undervoltage row)."""

COULOMBS_PER_MAH = 3.6


def drawn_fraction_at_ocv(voltage_v: float, cutoff_v: float, ocv_v: float) -> float:
    """The share of capacity drawn when the open-circuit voltage has fallen to ``ocv_v``: the
    inverse of the curve (0 on the plateau; past 1 below the cut-off; 0 V is the end)."""
    if ocv_v >= voltage_v:
        return 0.0
    ocv_v = max(ocv_v, 0.0)
    return PLATEAU_FRACTION + (1.0 - PLATEAU_FRACTION) * (voltage_v - ocv_v) / (voltage_v
                                                                              - cutoff_v)


def state_drawn_fraction(state: str, voltage_v: float, cutoff_v: float,
                         undervoltage_v: float) -> float:
    """The share of capacity already drawn for a ``battery.state``.

    healthy: a fresh cell, 0. weak: on its end-of-life knee, [U] halfway (in volts) between the
    plateau and the undervoltage level — still above it, so it keeps the RTC domain. undervoltage:
    UNDERVOLTAGE_MARGIN_V below the level (0 if the plateau already is below it). absent: 0 (the
    cell is not fitted). ValueError if ``weak`` cannot lie above the level.
    """
    if state in ("healthy", "absent"):
        return 0.0
    if state == "weak":
        if voltage_v <= undervoltage_v:
            raise ValueError(
                f"a weak cell lies between its voltage {voltage_v!r} V and the undervoltage "
                f"level {undervoltage_v!r} V, and there is no room between them"
            )
        return drawn_fraction_at_ocv(voltage_v, cutoff_v, 0.5 * (voltage_v + undervoltage_v))
    if state == "undervoltage":
        return drawn_fraction_at_ocv(voltage_v, cutoff_v, undervoltage_v - UNDERVOLTAGE_MARGIN_V)
    raise ValueError(f"unknown battery state {state!r}; one of {', '.join(STATES)}")


def self_discharge_current_a(capacity_mah: float, per_year: float) -> float:
    """The constant current that draws ``per_year`` of the capacity in a year."""
    return capacity_mah * COULOMBS_PER_MAH * per_year / SECONDS_PER_YEAR


def pulse_resistance_ohm(internal_ohm: float, passivation_ohm: float,
                         passivation_ratio_cold: float, temperature_c: float) -> float:
    """The series resistance a pulse load meets on a rested cell at ``temperature_c``:
    R_int + R_p·ratio(T) (ratio 1 at ≥ 20 °C, ``passivation_ratio_cold`` at ≤ −25 °C)."""
    return internal_ohm + passivation_ohm * cold_ratio(passivation_ratio_cold, temperature_c)


def terminal_v_under_pulse(ocv_v: float, current_a: float, pulse_ohm: float) -> float:
    """OCV − I·R_pulse, not below 0."""
    return max(0.0, ocv_v - current_a * pulse_ohm)


class Battery:
    """A clock battery's state: the charge drawn so far, and its voltages.

    Plain class (CPython, mutable state on the kernel's path). ``drawn_c`` is the charge drawn in
    coulombs; ``advance`` adds to it. ``self_discharge_a`` flows whenever time passes (0: none);
    ``passivation_ohm`` (at 20 °C) and ``passivation_ratio_cold`` shape ``terminal_v_pulse``.
    """

    __slots__ = (
        "_knee_c",
        "_slope_v_per_c",
        "capacity_c",
        "cutoff_v",
        "drawn_c",
        "internal_resistance_ohm",
        "passivation_ohm",
        "passivation_ratio_cold",
        "present",
        "self_discharge_a",
        "voltage_v",
    )

    def __init__(
        self,
        voltage_v: float,
        capacity_mah: float,
        internal_resistance_ohm: float,
        cutoff_v: float,
        present: bool = True,
        drawn_c: float = 0.0,
        self_discharge_a: float = 0.0,
        passivation_ohm: float = 0.0,
        passivation_ratio_cold: float = 1.0,
    ) -> None:
        if not 0.0 <= cutoff_v < voltage_v:
            raise ValueError(
                f"battery cut-off {cutoff_v!r} V must be at least 0 and below its voltage "
                f"{voltage_v!r} V"
            )
        if not capacity_mah > 0.0:
            raise ValueError(f"battery capacity must be positive, got {capacity_mah!r} mAh")
        if not internal_resistance_ohm >= 0.0:
            raise ValueError(
                f"battery internal resistance must be >= 0, got {internal_resistance_ohm!r} Ω"
            )
        self.voltage_v = float(voltage_v)
        self.cutoff_v = float(cutoff_v)
        self.capacity_c = float(capacity_mah) * COULOMBS_PER_MAH
        self.internal_resistance_ohm = float(internal_resistance_ohm)
        if not (self_discharge_a >= 0.0 and passivation_ohm >= 0.0
                and passivation_ratio_cold >= 0.0):
            raise ValueError(
                f"battery self-discharge ({self_discharge_a!r} A), passivation resistance "
                f"({passivation_ohm!r} Ω) and its cold ratio ({passivation_ratio_cold!r}) must be "
                ">= 0"
            )
        self.present = bool(present)
        self.drawn_c = float(drawn_c)
        self.self_discharge_a = float(self_discharge_a)
        self.passivation_ohm = float(passivation_ohm)
        self.passivation_ratio_cold = float(passivation_ratio_cold)
        self._knee_c = PLATEAU_FRACTION * self.capacity_c
        self._slope_v_per_c = (self.voltage_v - self.cutoff_v) / (self.capacity_c - self._knee_c)

    @classmethod
    def from_profile(cls, profile: Mapping[str, object]) -> Battery:
        """The battery as the scenario starts, from the profile's ``battery.*`` keys: the charge
        its state has already drawn, its self-discharge and its passivation (each absent key:
        none, so a mapping with only the first five keys gives a fresh plain cell)."""
        capacity_mah = float(profile["battery.capacity_mah"])  # type: ignore[arg-type]
        per_year = float(profile.get("battery.self_discharge_per_year", 0.0))  # type: ignore[arg-type]
        drawn = float(profile.get("battery.initial_drawn_fraction", 0.0))  # type: ignore[arg-type]
        return cls(
            voltage_v=profile["battery.voltage_v"],  # type: ignore[arg-type]
            capacity_mah=capacity_mah,
            internal_resistance_ohm=profile["battery.internal_resistance_ohm"],  # type: ignore[arg-type]
            cutoff_v=profile["battery.cutoff_v"],  # type: ignore[arg-type]
            present=bool(profile["battery.present"]),
            drawn_c=drawn * capacity_mah * COULOMBS_PER_MAH,
            self_discharge_a=self_discharge_current_a(capacity_mah, per_year),
            passivation_ohm=float(profile.get("battery.passivation_ohm", 0.0)),  # type: ignore[arg-type]
            passivation_ratio_cold=float(
                profile.get("battery.passivation_ratio_cold", 1.0)),  # type: ignore[arg-type]
        )

    def ocv_at(self, drawn_c: float) -> float:
        """Open-circuit voltage after ``drawn_c`` coulombs (the curve; ignores ``present``)."""
        if drawn_c <= self._knee_c:
            return self.voltage_v
        return max(0.0, self.voltage_v - self._slope_v_per_c * (drawn_c - self._knee_c))

    def ocv_v(self) -> float:
        """Open-circuit voltage now (0.0 if the battery is not fitted)."""
        if not self.present:
            return 0.0
        return self.ocv_at(self.drawn_c)

    def terminal_v(self, current_a: float) -> float:
        """Terminal voltage while delivering ``current_a``: OCV − I·R_int, not below 0."""
        if not self.present:
            return 0.0
        return max(0.0, self.ocv_at(self.drawn_c) - current_a * self.internal_resistance_ohm)

    def pulse_resistance_ohm(self, temperature_c: float) -> float:
        """R_int plus the passivation resistance at ``temperature_c`` (a rested cell)."""
        return pulse_resistance_ohm(self.internal_resistance_ohm, self.passivation_ohm,
                                    self.passivation_ratio_cold, temperature_c)

    def terminal_v_pulse(self, current_a: float, temperature_c: float,
                         rested: bool = True) -> float:
        """Terminal voltage under a pulse of ``current_a`` at ``temperature_c``:
        OCV − I·(R_int + R_passivation(T)) on a rested cell, OCV − I·R_int once the film is
        broken (``rested=False``); 0 if not fitted."""
        if not self.present:
            return 0.0
        ohm = (self.pulse_resistance_ohm(temperature_c) if rested
               else self.internal_resistance_ohm)
        return terminal_v_under_pulse(self.ocv_at(self.drawn_c), current_a, ohm)

    def advance(self, dt_s: float, current_a: float) -> None:
        """Draw ``current_a`` for ``dt_s`` seconds (a primary cell: the current must be >= 0),
        plus the self-discharge over the same time."""
        if current_a < 0.0:
            raise ValueError(f"a primary cell cannot be charged (current {current_a!r} A)")
        if self.present:
            self.drawn_c += (current_a + self.self_discharge_a) * dt_s

    def time_to_ocv(self, v: float, current_a: float) -> float:
        """Seconds of a constant ``current_a`` (plus the self-discharge) until the open-circuit
        voltage falls to ``v``.

        0.0 if it is already at or below ``v``; ``math.inf`` if it never gets there (no current,
        or ``v`` below 0 V).
        """
        if self.ocv_v() <= v:
            return 0.0
        total_a = current_a + self.self_discharge_a
        if total_a <= 0.0 or v < 0.0:
            return math.inf
        target_c = self._knee_c + (self.voltage_v - v) / self._slope_v_per_c
        return (target_c - self.drawn_c) / total_a

    def time_to_terminal_v(self, v: float, current_a: float) -> float:
        """Seconds of a constant ``current_a`` until the terminal voltage falls to ``v``."""
        return self.time_to_ocv(v + current_a * self.internal_resistance_ohm, current_a)

    def __repr__(self) -> str:
        return (
            f"Battery(voltage_v={self.voltage_v!r}, capacity_c={self.capacity_c!r}, "
            f"drawn_c={self.drawn_c!r}, present={self.present!r})"
        )
