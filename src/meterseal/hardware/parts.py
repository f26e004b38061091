"""Effective part parameters for one run: the supercapacitor and the load currents, adjusted for
temperature, tolerance and ageing. Computed once per run from a resolved profile.

Temperature laws (the model; numbers and their sources are in profile.py):

- supercapacitor C and ESR: nominal at and above 20 °C, the profile's ``*_ratio_cold`` at and
  below −25 °C, linear in between;
- supercapacitor leakage current: doubles every ``supercap.leakage_doubling_c`` above 20 °C, no
  change below (the leakage resistance falls by the same factor);
- MCU sleep current: nominal at and below 25 °C, ``mcu.sleep_current_ratio_85c`` times nominal at
  85 °C, linear in between (the profile's temperature range ends at 85 °C).

Must not know about the kernel, the firmware, or when each load is on: it only says how large
each current is. The kernel sums them per mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "COLD_C",
    "NOMINAL_C",
    "Loads",
    "SupercapParams",
    "cold_ratio",
    "effective_loads",
    "effective_supercap",
    "leakage_factor",
    "sleep_current_factor",
]

NOMINAL_C = 20.0
"""Temperature at which the supercapacitor's nominal C, ESR and leakage are stated (Eaton PB)."""
COLD_C = -25.0
"""Temperature of the KEMET FC row's cold limits (C ≥ 50 %, ESR ≤ 400 %)."""
_SLEEP_NOMINAL_C = 25.0
_SLEEP_HOT_C = 85.0


@dataclass(frozen=True, slots=True)
class SupercapParams:
    """The supercapacitor as the run sees it (ideal C + series ESR + parallel leakage R)."""

    capacitance_f: float
    esr_ohm: float
    leakage_ohm: float


@dataclass(frozen=True, slots=True)
class Loads:
    """Current of each load while it is on, in amperes, at the run's temperature.

    ``pullup_a`` flows while the cover switch is closed (cover on): the static bias current, or
    for pulsed bias its average (current × pulse / period). ``nvm_write_a`` is the EEPROM's own
    current during a page write and ``radio_a`` the module's current during a burst; the MCU's
    current during either is the kernel's to add.
    """

    sleep_a: float
    active_a: float
    rtc_a: float
    pullup_a: float
    nvm_write_a: float
    radio_a: float


def cold_ratio(ratio_at_cold: float, temperature_c: float) -> float:
    """A parameter's ratio to its 20 °C value: 1.0 at ≥ 20 °C, ``ratio_at_cold`` at ≤ −25 °C,
    linear in between."""
    if temperature_c >= NOMINAL_C:
        return 1.0
    if temperature_c <= COLD_C:
        return ratio_at_cold
    return 1.0 + (ratio_at_cold - 1.0) * (NOMINAL_C - temperature_c) / (NOMINAL_C - COLD_C)


def leakage_factor(doubling_c: float, temperature_c: float) -> float:
    """Leakage current at ``temperature_c`` over that at 20 °C: 2^((T − 20)/doubling), ≥ 1."""
    if temperature_c <= NOMINAL_C:
        return 1.0
    return 2.0 ** ((temperature_c - NOMINAL_C) / doubling_c)


def sleep_current_factor(ratio_85c: float, temperature_c: float) -> float:
    """MCU sleep current at ``temperature_c`` over that at 25 °C: 1.0 at ≤ 25 °C, ``ratio_85c`` at
    85 °C, linear in between (and clamped above 85 °C)."""
    if temperature_c <= _SLEEP_NOMINAL_C:
        return 1.0
    if temperature_c >= _SLEEP_HOT_C:
        return ratio_85c
    span = (temperature_c - _SLEEP_NOMINAL_C) / (_SLEEP_HOT_C - _SLEEP_NOMINAL_C)
    return 1.0 + (ratio_85c - 1.0) * span


def _num(profile: Mapping[str, object], key: str) -> float:
    value = profile[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"profile key {key!r} should be a number, got {value!r}")
    return float(value)


def effective_supercap(profile: Mapping[str, object]) -> SupercapParams:
    """The supercapacitor at the profile's temperature, tolerance and ageing.

    C = C_nom·(1 + tolerance)·(1 − ageing)·c_ratio(T);  ESR = ESR_nom·esr_ageing·esr_ratio(T);
    R_leak = R_leak_nom / 2^((T − 20)/doubling) above 20 °C.
    """
    temperature_c = _num(profile, "ambient.temperature_c")
    capacitance_f = (
        _num(profile, "supercap.capacitance_f")
        * (1.0 + _num(profile, "supercap.tolerance"))
        * (1.0 - _num(profile, "supercap.ageing"))
        * cold_ratio(_num(profile, "supercap.c_ratio_cold"), temperature_c)
    )
    esr_ohm = (
        _num(profile, "supercap.esr_ohm")
        * _num(profile, "supercap.esr_ageing_factor")
        * cold_ratio(_num(profile, "supercap.esr_ratio_cold"), temperature_c)
    )
    leakage_ohm = _num(profile, "supercap.leakage_ohm") / leakage_factor(
        _num(profile, "supercap.leakage_doubling_c"), temperature_c
    )
    return SupercapParams(capacitance_f=capacitance_f, esr_ohm=esr_ohm, leakage_ohm=leakage_ohm)


def charge_path_ohm(profile: Mapping[str, object]) -> float:
    """The resistance the supercapacitor charges through: the charge resistor meets the part at
    its pin, so the charging current also crosses the ESR (at the run's temperature)."""
    return _num(profile, "supercap.charge_resistor_ohm") + effective_supercap(profile).esr_ohm


def effective_loads(profile: Mapping[str, object]) -> Loads:
    """The load currents at the profile's temperature and cover bias.

    Sleep current scaled by ``sleep_current_factor``. Pulsed bias: the pull-up current averaged
    over its duty cycle, pulse / period, where the period is ``mcu.poll_period_s`` in polling wake
    mode (the pulses ride on the poll tick) and ``cover.bias_period_s`` otherwise. ``radio_a`` is
    the burst current even when ``radio.present`` is false (then no burst is ever sent).
    """
    temperature_c = _num(profile, "ambient.temperature_c")
    sleep_a = _num(profile, "mcu.sleep_current_a") * sleep_current_factor(
        _num(profile, "mcu.sleep_current_ratio_85c"), temperature_c
    )
    pullup_a = _num(profile, "cover.pullup_current_a")
    if profile["cover.bias"] == "pulsed":
        if profile["mcu.wake_mode"] == "polling":
            period_s = _num(profile, "mcu.poll_period_s")
        else:
            period_s = _num(profile, "cover.bias_period_s")
        pullup_a *= min(_num(profile, "cover.bias_pulse_s"), period_s) / period_s
    return Loads(
        sleep_a=sleep_a,
        active_a=_num(profile, "mcu.active_current_a"),
        rtc_a=_num(profile, "rtc.current_a"),
        pullup_a=pullup_a,
        nvm_write_a=_num(profile, "nvm.write_current_a"),
        radio_a=_num(profile, "radio.burst_current_a"),
    )
