"""The clock battery (a Li-SOCl2 primary cell such as the ER14250): charge drawn and voltage.

The model. The open-circuit voltage is a function of the charge drawn q, piecewise linear:

- flat at the nominal voltage over the first 90 % of capacity (Li-SOCl2 cells hold a flat
  plateau for most of their life);
- linear from the nominal voltage down to the cut-off voltage between 90 % and 100 %;
- past 100 % the same slope continues down to 0 V (a spent cell collapses), so the voltage stays
  continuous and an RTC domain that runs below the cut-off still sees its end.

The terminal voltage is OCV − I·R_int (not below 0). Under a constant current the charge grows
linearly in time, so the time to any open-circuit voltage is solved exactly. Not modelled:
self-discharge, passivation dips, temperature. A cell that is not fitted reads 0 V.

Must not know about the kernel, the supercapacitor or which domain the battery feeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["PLATEAU_FRACTION", "Battery"]

PLATEAU_FRACTION = 0.9
"""Fraction of capacity delivered on the flat plateau."""

_COULOMBS_PER_MAH = 3.6


class Battery:
    """A clock battery's state: the charge drawn so far, and its voltages.

    Plain class (CPython, mutable state on the kernel's path). ``drawn_c`` is the charge drawn in
    coulombs; ``advance`` adds to it.
    """

    __slots__ = (
        "_knee_c",
        "_slope_v_per_c",
        "capacity_c",
        "cutoff_v",
        "drawn_c",
        "internal_resistance_ohm",
        "present",
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
        self.capacity_c = float(capacity_mah) * _COULOMBS_PER_MAH
        self.internal_resistance_ohm = float(internal_resistance_ohm)
        self.present = bool(present)
        self.drawn_c = float(drawn_c)
        self._knee_c = PLATEAU_FRACTION * self.capacity_c
        self._slope_v_per_c = (self.voltage_v - self.cutoff_v) / (self.capacity_c - self._knee_c)

    @classmethod
    def from_profile(cls, profile: Mapping[str, object]) -> Battery:
        """A fresh battery from the profile's ``battery.*`` keys."""
        return cls(
            voltage_v=profile["battery.voltage_v"],  # type: ignore[arg-type]
            capacity_mah=profile["battery.capacity_mah"],  # type: ignore[arg-type]
            internal_resistance_ohm=profile["battery.internal_resistance_ohm"],  # type: ignore[arg-type]
            cutoff_v=profile["battery.cutoff_v"],  # type: ignore[arg-type]
            present=bool(profile["battery.present"]),
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

    def advance(self, dt_s: float, current_a: float) -> None:
        """Draw ``current_a`` for ``dt_s`` seconds (a primary cell: the current must be >= 0)."""
        if current_a < 0.0:
            raise ValueError(f"a primary cell cannot be charged (current {current_a!r} A)")
        if self.present:
            self.drawn_c += current_a * dt_s

    def time_to_ocv(self, v: float, current_a: float) -> float:
        """Seconds of a constant ``current_a`` until the open-circuit voltage falls to ``v``.

        0.0 if it is already at or below ``v``; ``math.inf`` if it never gets there (no current,
        or ``v`` below 0 V).
        """
        if self.ocv_v() <= v:
            return 0.0
        if current_a <= 0.0 or v < 0.0:
            return math.inf
        target_c = self._knee_c + (self.voltage_v - v) / self._slope_v_per_c
        return (target_c - self.drawn_c) / current_a

    def time_to_terminal_v(self, v: float, current_a: float) -> float:
        """Seconds of a constant ``current_a`` until the terminal voltage falls to ``v``."""
        return self.time_to_ocv(v + current_a * self.internal_resistance_ohm, current_a)

    def __repr__(self) -> str:
        return (
            f"Battery(voltage_v={self.voltage_v!r}, capacity_c={self.capacity_c!r}, "
            f"drawn_c={self.drawn_c!r}, present={self.present!r})"
        )
