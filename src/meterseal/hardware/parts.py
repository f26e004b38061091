"""Effective part parameters for one run: the supercapacitor and the load currents, adjusted for
temperature, tolerance and ageing. Computed once per run from a resolved profile.

Temperature laws (the model; numbers and their sources are in profile.py):

- supercapacitor C and ESR: nominal at and above 20 °C, the profile's ``*_ratio_cold`` at and
  below −25 °C, linear in between; the redistribution branch's C_d follows C and its R_d follows
  the ESR (tolerance, ageing and cold alike) — [U] the slow pores are the same carbon and the
  same electrolyte, no maker states the branch;
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

from meterseal.hardware.radio import parse_phases

__all__ = [
    "COLD_C",
    "NOMINAL_C",
    "Loads",
    "SupercapParams",
    "cold_ratio",
    "effective_loads",
    "effective_supercap",
    "leakage_factor",
    "radio_average_a",
    "radio_phases",
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
    """The supercapacitor as the run sees it: ideal C + series ESR + parallel leakage R, and the
    slow redistribution branch R_d–C_d beside C (``redistribution_f`` 0: no branch, rc.py's
    model; else rc2.py's)."""

    capacitance_f: float
    esr_ohm: float
    leakage_ohm: float
    redistribution_f: float = 0.0
    redistribution_ohm: float = 0.0


@dataclass(frozen=True, slots=True)
class Loads:
    """Current of each load while it is on, in amperes, at the run's temperature.

    ``pullup_a`` flows while the cover switch is closed (cover on): the static bias current, or
    for pulsed bias its average (current × pulse / period). ``nvm_write_a`` is the EEPROM's own
    current during a page write and ``radio_a`` the module's average current over one send
    (its charge over its duration: the burst current for a one-phase send; the phases are
    BoardParams.radio_phases); the MCU's current during either is the kernel's to add.

    The standby loads, each 0 unless the profile counts it: ``quiescent_a`` (regulator and
    supervisor) flows whenever the MCU domain's source has voltage, also after the MCU browned
    out; ``nvm_standby_a`` (the NVM chip between writes) and ``ir_receiver_a`` (an optical-wake
    receiver) flow while the MCU domain is powered — during the whole watch, sleep and wakes
    alike. ``standby_a`` is their sum.
    """

    sleep_a: float
    active_a: float
    rtc_a: float
    pullup_a: float
    nvm_write_a: float
    radio_a: float
    quiescent_a: float = 0.0
    nvm_standby_a: float = 0.0
    ir_receiver_a: float = 0.0
    mac_a: float = 0.0  # the security module while it computes a record MAC

    @property
    def standby_a(self) -> float:
        return self.quiescent_a + self.nvm_standby_a + self.ir_receiver_a


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


def _num(profile: Mapping[str, object], key: str, default: float | None = None) -> float:
    """A number key; ``default`` stands in for a key the mapping lacks (keys added since)."""
    value = profile[key] if default is None or key in profile else default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"profile key {key!r} should be a number, got {value!r}")
    return float(value)


def effective_supercap(profile: Mapping[str, object]) -> SupercapParams:
    """The supercapacitor at the profile's temperature, tolerance and ageing.

    C = C_nom·(1 + tolerance)·(1 − ageing)·c_ratio(T);  ESR = ESR_nom·esr_ageing·esr_ratio(T);
    R_leak = R_leak_nom / 2^((T − 20)/doubling) above 20 °C; C_d and R_d by C's and the ESR's
    factors.
    """
    temperature_c = _num(profile, "ambient.temperature_c")
    c_factor = (
        (1.0 + _num(profile, "supercap.tolerance"))
        * (1.0 - _num(profile, "supercap.ageing"))
        * cold_ratio(_num(profile, "supercap.c_ratio_cold"), temperature_c)
    )
    esr_factor = (
        _num(profile, "supercap.esr_ageing_factor")
        * cold_ratio(_num(profile, "supercap.esr_ratio_cold"), temperature_c)
    )
    leakage_ohm = _num(profile, "supercap.leakage_ohm") / leakage_factor(
        _num(profile, "supercap.leakage_doubling_c"), temperature_c
    )
    redistribution_f = _num(profile, "supercap.redistribution_f", 0.0)
    return SupercapParams(
        capacitance_f=_num(profile, "supercap.capacitance_f") * c_factor,
        esr_ohm=_num(profile, "supercap.esr_ohm") * esr_factor,
        leakage_ohm=leakage_ohm,
        redistribution_f=redistribution_f * c_factor,
        redistribution_ohm=(_num(profile, "supercap.redistribution_ohm", 0.0) * esr_factor
                            if redistribution_f > 0.0 else 0.0),
    )


def charge_path_ohm(profile: Mapping[str, object]) -> float:
    """The resistance the supercapacitor charges through: the charge resistor meets the part at
    its pin, so the charging current also crosses the ESR (at the run's temperature)."""
    return _num(profile, "supercap.charge_resistor_ohm") + effective_supercap(profile).esr_ohm


def effective_loads(profile: Mapping[str, object]) -> Loads:
    """The load currents at the profile's temperature and cover bias.

    Sleep current scaled by ``sleep_current_factor``. Pulsed bias: the pull-up current averaged
    over its duty cycle, pulse / period, where the period is ``mcu.poll_period_s`` in polling wake
    mode (the pulses ride on the poll tick) and ``cover.bias_period_s`` otherwise. ``radio_a`` is
    the send's average current even when ``radio.present`` is false (then nothing is sent).
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
        radio_a=radio_average_a(profile),
        quiescent_a=_num(profile, "supply.quiescent_current_a", 0.0),
        nvm_standby_a=_num(profile, "nvm.standby_current_a", 0.0),
        ir_receiver_a=_num(profile, "mcu.ir_receiver_current_a", 0.0),
        mac_a=_num(profile, "security.mac_current_a", 0.0),
    )


def radio_phases(profile: Mapping[str, object]) -> tuple[tuple[float, float], ...]:
    """(current A, duration s) of each phase of one send: ``radio.profile``'s phases, or the one
    burst of ``radio.burst_current_a`` for ``radio.burst_s`` when it is empty."""
    phases = parse_phases(str(profile.get("radio.profile", "")))
    if phases:
        return phases
    return ((_num(profile, "radio.burst_current_a"), _num(profile, "radio.burst_s")),)


def radio_average_a(profile: Mapping[str, object]) -> float:
    """The send's charge over its duration (exactly the burst current for one phase)."""
    phases = radio_phases(profile)
    if len(phases) == 1:
        return phases[0][0]
    total_s = sum(t for _, t in phases)
    return sum(i * t for i, t in phases) / total_s
