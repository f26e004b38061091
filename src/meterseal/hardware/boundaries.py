"""The profile's boundary equalities: one key set exactly to another key's value (or a level).

Owns the table of the profile's edges that physics and firmware meet at an instant rather than
over a range — a voltage equal to a threshold, a pulse as long as its period, a current of zero —
and how one is applied to a set of profile values. The fuzzing strategies of the tests and the
campaign generator both draw from this one table, so an edge added here is exercised by both.

A :class:`Boundary` sets ``key`` to the value of ``to``: another profile key, a derived quantity
(``DERIVED``), or a constant; ``ulps`` moves the result that many representable floats up (> 0)
or down (< 0), for "just under" and "just over". ``context`` holds the other keys the edge
matters under (a battery fitted, a wake mode, a topology). Many edges give a profile the
cross-key rules of profile.py refuse (a battery at its cut-off, say); a refusal is a fine answer,
one clear line — the edge is there to find the combinations that are accepted and then go wrong.

Must not know the kernel, the firmware or scenarios: profile values in, profile values out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from meterseal.hardware.parts import effective_supercap
from meterseal.hardware.profile_keys import KEYS
from meterseal.hardware.profile_spec import ProfileValue
from meterseal.hardware.rc import steady_and_tau

__all__ = ["BOUNDARIES", "DERIVED", "Boundary", "full_values"]

_REGISTRY = {k.name: k for k in KEYS}


def full_values(overrides: Mapping[str, object]) -> dict[str, ProfileValue]:
    """Every registry key: its default, or the override given (unchecked)."""
    values: dict[str, ProfileValue] = {k.name: k.default for k in KEYS}
    values.update(overrides)  # type: ignore[arg-type]
    return values


def _f(values: Mapping[str, object], key: str) -> float:
    return float(values[key])  # type: ignore[arg-type]


def _supercap_steady_v(values: Mapping[str, object]) -> float:
    """Where the supercapacitor rests on mains: the divider of its charge path (resistor + ESR at
    the run's temperature) and its leakage — the voltage it meets an outage with."""
    cap = effective_supercap(values)
    v, _tau = steady_and_tau(cap.capacitance_f, cap.leakage_ohm, 0.0,
                             _f(values, "supercap.charge_source_v"),
                             _f(values, "supercap.charge_resistor_ohm") + cap.esr_ohm)
    return v


def _debounce_s(values: Mapping[str, object]) -> float:
    """The firmware's debounce: equal samples × the sampling period."""
    return int(values["cover.debounce_samples"]) * _f(values,  # type: ignore[call-overload]
                                                      "cover.sample_period_s")


# Quantities a boundary may aim at that are no key of their own.
DERIVED: dict[str, Callable[[Mapping[str, object]], float]] = {
    "derived:supercap_rest_v": _supercap_steady_v,
    "derived:debounce_s": _debounce_s,
}


@dataclass(frozen=True, slots=True)
class Boundary:
    """``key`` := the value of ``to`` (a key, a ``DERIVED`` name or a constant), moved ``ulps``
    representable floats; with ``context`` applied first."""

    key: str
    to: str | float
    ulps: int = 0
    context: tuple[tuple[str, ProfileValue], ...] = ()

    @property
    def name(self) -> str:
        rel = "==" if self.ulps == 0 else ("just under" if self.ulps < 0 else "just over")
        target = self.to.removeprefix("derived:") if isinstance(self.to, str) else repr(self.to)
        ctx = ", ".join(f"{k}={v}" for k, v in self.context)
        return f"{self.key} {rel} {target}" + (f" ({ctx})" if ctx else "")

    def apply(self, values: Mapping[str, object]) -> dict[str, ProfileValue]:
        """The overrides that put ``values`` (every key, e.g. :func:`full_values`) on this edge:
        the context and the key. The result is unchecked (the profile may refuse it); where a
        derived target does not exist on this board, the context alone."""
        merged = {**values, **dict(self.context)}
        if isinstance(self.to, str) and self.to in DERIVED:
            try:
                ref: object = DERIVED[self.to](merged)
            except (ValueError, ArithmeticError):  # no such quantity on this board (C = 0 …)
                return dict(self.context)
        else:
            ref = merged[self.to] if isinstance(self.to, str) else self.to
        value = float(ref)  # type: ignore[arg-type]
        step = math.inf if self.ulps > 0 else -math.inf
        for _ in range(abs(self.ulps)):
            value = math.nextafter(value, step)
        return {**dict(self.context), self.key: value}


_PRESENT = (("battery.present", True),)
_POLLING = (("mcu.wake_mode", "polling"),)
_PULSED_IRQ = (("cover.bias", "pulsed"), ("mcu.wake_mode", "interrupt"))
_PULSED_POLL = (("cover.bias", "pulsed"), ("mcu.wake_mode", "polling"))
_BATTERY_FIRST = (("supply.topology", "battery-first"), ("battery.present", True))
_DIODE_OR = (("supply.topology", "diode-or"), ("battery.present", True))
_CURRENTS = ("mcu.sleep_current_a", "mcu.active_current_a", "cover.pullup_current_a",
             "nvm.write_current_a", "radio.burst_current_a", "rtc.current_a")

BOUNDARIES: tuple[Boundary, ...] = (
    # --- voltage = threshold --------------------------------------------------------------
    Boundary("battery.voltage_v", "battery.undervoltage_v", context=_PRESENT),
    Boundary("battery.undervoltage_v", "battery.voltage_v", ulps=-1, context=_PRESENT),
    Boundary("battery.cutoff_v", "battery.voltage_v", ulps=-1, context=_PRESENT),
    Boundary("battery.undervoltage_v", "battery.cutoff_v", context=_PRESENT),
    Boundary("battery.voltage_v", "mcu.brownout_v", context=_BATTERY_FIRST),
    Boundary("battery.undervoltage_v", "mcu.brownout_v", context=_BATTERY_FIRST),
    Boundary("battery.voltage_v", "rtc.min_voltage_v", context=_PRESENT),
    Boundary("rtc.min_voltage_v", "battery.undervoltage_v", context=_PRESENT),
    Boundary("mcu.brownout_v", "rtc.min_voltage_v"),
    Boundary("supercap.charge_source_v", "supercap.rated_v"),
    Boundary("mcu.brownout_v", "supercap.charge_source_v"),
    Boundary("mcu.brownout_v", "derived:supercap_rest_v"),
    Boundary("mcu.brownout_v", "derived:supercap_rest_v", ulps=-1),
    Boundary("rtc.min_voltage_v", "derived:supercap_rest_v"),
    Boundary("battery.voltage_v", "derived:supercap_rest_v", context=_DIODE_OR),
    Boundary("supercap.charge_source_v", "battery.voltage_v", context=_DIODE_OR),
    Boundary("supply.power_fail_v", "supply.rail_v", ulps=-1),
    # --- period = pulse -------------------------------------------------------------------
    Boundary("cover.bias_pulse_s", "cover.bias_period_s", context=_PULSED_IRQ),
    Boundary("cover.bias_period_s", "cover.sample_period_s", context=_PULSED_IRQ),
    Boundary("cover.bias_pulse_s", "mcu.poll_period_s", context=_PULSED_POLL),
    Boundary("mcu.poll_period_s", "cover.sample_period_s", context=_POLLING),
    Boundary("mcu.poll_period_s", "derived:debounce_s", context=_POLLING),
    Boundary("mcu.poll_period_s", "mcu.wake_time_s", context=_POLLING),
    Boundary("cover.bounce_s", "derived:debounce_s"),
    Boundary("cover.bounce_s", "cover.sample_period_s"),
    Boundary("nvm.page_write_time_s", "cover.sample_period_s"),
    Boundary("radio.burst_s", "supply.bulk_holdup_s"),
    # --- zero currents, times, resistances and margins ------------------------------------
    *(Boundary(k, 0.0) for k in _CURRENTS),
    Boundary(_CURRENTS[0], 0.0, context=tuple((k, 0.0) for k in _CURRENTS[1:])),
    Boundary("supply.bulk_holdup_s", 0.0),
    Boundary("mcu.wake_time_s", 0.0),
    Boundary("nvm.page_write_time_s", 0.0),
    Boundary("radio.burst_s", 0.0),
    Boundary("cover.bounce_s", 0.0),
    Boundary("supercap.esr_ohm", 0.0),
    Boundary("battery.internal_resistance_ohm", 0.0, context=_PRESENT),
    Boundary("firmware.write_margin_v", 0.0),
    Boundary("battery.cutoff_v", 0.0, context=_PRESENT),
    Boundary("battery.undervoltage_v", 0.0, context=_PRESENT),
    Boundary("rtc.min_voltage_v", 0.0),
)


def _check_table() -> None:
    for b in BOUNDARIES:
        names = [b.key, *(k for k, _v in b.context)]
        if isinstance(b.to, str) and b.to not in DERIVED:
            names.append(b.to)
        for name in names:
            if name not in _REGISTRY:  # pragma: no cover - a table bug, caught at import
                raise KeyError(f"boundary {b.name!r} names no profile key {name!r}")
        if _REGISTRY[b.key].kind is not float:  # pragma: no cover
            raise TypeError(f"boundary {b.name!r}: {b.key!r} is no float key")


_check_table()
