"""The board as one run sees it: the resolved profile turned once into typed, frozen parameters.

Owns the conversion of a profile's loose values into what the simulator and the oracle compute
with: integer microseconds for every time (a time that rounds to no microsecond at all is
refused, naming its key), enums for the topology, the wake mode and the switch bias, and the
parts at the run's temperature, tolerance and ageing (parts.py). Every reader of the board reads
this object, so a key is interpreted in one place.

It also says what is doubtful about the board without refusing it: ``warnings`` (a part run
outside its rated temperature, an NVM that cannot write down to the MCU's brown-out).

Must not know the kernel, the firmware or scenarios: a profile in, parameters out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from meterseal.hardware.battery import (
    COULOMBS_PER_MAH,
    Battery,
    pulse_resistance_ohm,
    self_discharge_current_a,
)
from meterseal.hardware.parts import (
    Loads,
    SupercapParams,
    effective_loads,
    effective_supercap,
    radio_phases,
)
from meterseal.hardware.profile import ProfileError
from meterseal.hardware.radio import phases_us

__all__ = ["Bias", "BoardParams", "Topology", "WakeMode"]


class Topology(enum.StrEnum):
    """How the backup sources feed the MCU domain and the RTC domain (DESIGN.md, profile keys)."""

    SUPERCAP_ONLY = "supercap-only"
    BATTERY_SUPERCAP = "battery+supercap"
    DIODE_OR = "diode-or"
    # The seed's design: the MCU's watch runs on the clock battery while it is above its
    # undervoltage level; the supercapacitor (switched in by the MCU) feeds the report, and the
    # MCU and its writes when the battery is undervoltage, absent or sagging.
    BATTERY_FIRST = "battery-first"
    BATTERY_ONLY = "battery-only"  # the meter before the seed's design: no supercapacitor


class WakeMode(enum.StrEnum):
    INTERRUPT = "interrupt"
    POLLING = "polling"


class Bias(enum.StrEnum):
    STATIC = "static"
    PULSED = "pulsed"


def _f(p: Mapping[str, object], key: str) -> float:
    return float(p[key])  # type: ignore[arg-type]


def _us(p: Mapping[str, object], key: str, *, zero_ok: bool = False) -> int:
    """A time key in whole µs; a positive time that rounds to 0 µs cannot be simulated."""
    s = _f(p, key)
    us = round(s * 1e6)
    if us == 0 and not zero_ok and s > 0:
        raise ProfileError(f"profile key {key!r} = {s!r} s is below the simulator's 1 µs "
                           "resolution")
    return us


@dataclass(frozen=True, slots=True)
class BoardParams:
    """Everything about the board a run needs, typed; built by :meth:`from_profile`."""

    topology: Topology
    supercap: SupercapParams  # at the run's temperature, tolerance and ageing (branch included)
    charge_source_v: float
    charge_path_ohm: float  # charge resistor + ESR: the charging current crosses both
    loads: Loads  # currents at the run's temperature and bias
    battery_present: bool
    battery_voltage_v: float
    battery_capacity_mah: float
    battery_internal_resistance_ohm: float
    battery_cutoff_v: float
    battery_undervoltage_v: float
    brownout_v: float
    rtc_min_v: float
    rtc_drift_ppm: float
    utc_offset_h: float
    rail_v: float
    power_fail_v: float
    bulk_us: int  # the PSU's bulk capacitor keeps the rail up this long after mains loss
    pf_us: int  # when the power-fail comparator trips, after mains loss
    wake_us: int
    wake_mode: WakeMode
    poll_us: int
    bias: Bias
    bias_period_us: int
    tamper_latch: bool
    terminal_cover: bool  # a second key switch under the terminal cover
    sample_us: int  # mains-time sampling of the cover switch
    debounce_samples: int
    bounce_us: int
    nvm_page_size: int
    nvm_write_us: int
    radio_present: bool
    radio_us: int
    # The designer's worst case the firmware is built with (not this particular part).
    design_esr_ohm: float  # at 20 °C, aged; the cold ratio below applies at temperature
    design_capacitance_f: float  # at 20 °C, end of tolerance
    design_esr_ratio_cold: float
    design_c_ratio_cold: float
    write_margin_v: float
    # The parts as the catalogue names them ("custom": the profile's keys as they are).
    supercap_part: str
    nvm_part: str
    battery_part: str
    battery_state: str
    temperature_c: float  # the run's ambient temperature
    warnings: tuple[str, ...]  # doubtful but possible: run anyway, say so
    # The clock battery beyond its curve: what its state has drawn, its self-discharge as a
    # constant drain, and the series resistance a pulse meets on a rested cell (internal +
    # passivation at the run's temperature; the passivation alone at 20 °C and its cold ratio
    # for battery.Battery).
    battery_initial_drawn_c: float
    battery_self_discharge_a: float
    battery_pulse_resistance_ohm: float
    battery_passivation_ohm: float
    battery_passivation_ratio_cold: float
    nvm_min_v: float  # the NVM writes only at or above this supply (0: no limit)
    # The communication module: one send is these phases (current A, duration µs), in order;
    # radio_us is their total and loads.radio_a their average. A report is sent 1 + retries
    # times, retry_gap_us apart (end of one send to the start of the next). With own storage
    # the phases are all the meter's backup pays (raising the module's event line).
    radio_module: str
    radio_phases: tuple[tuple[float, int], ...]
    radio_retries: int
    radio_retry_gap_us: int
    radio_own_storage: bool
    # The security module: whether records are chained with its MAC, its key (hex), and how
    # long one MAC takes (its current is loads.mac_a).
    record_mac: bool = False
    security_key_hex: str = ""
    mac_us: int = 0

    @property
    def debounce_us(self) -> int:
        """The firmware's debounce: equal samples needed × the sampling period. The one value
        the firmware, the oracle and the profile's `cover.debounce_s` agree on."""
        return self.debounce_samples * self.sample_us

    def new_battery(self) -> Battery:
        """The clock battery as the scenario starts (a fresh object: it keeps state)."""
        return Battery(
            self.battery_voltage_v, self.battery_capacity_mah,
            self.battery_internal_resistance_ohm, self.battery_cutoff_v,
            present=self.battery_present, drawn_c=self.battery_initial_drawn_c,
            self_discharge_a=self.battery_self_discharge_a,
            passivation_ohm=self.battery_passivation_ohm,
            passivation_ratio_cold=self.battery_passivation_ratio_cold,
        )

    @classmethod
    def from_profile(cls, p: Mapping[str, object]) -> BoardParams:
        bulk_us = _us(p, "supply.bulk_holdup_s", zero_ok=True)
        rail_v = _f(p, "supply.rail_v")
        cap = effective_supercap(p)
        temperature_c = _f(p, "ambient.temperature_c")
        capacity_mah = _f(p, "battery.capacity_mah")
        phases = phases_us(radio_phases(p))
        return cls(
            topology=Topology(str(p["supply.topology"])),
            supercap=cap,
            charge_source_v=_f(p, "supercap.charge_source_v"),
            charge_path_ohm=_f(p, "supercap.charge_resistor_ohm") + cap.esr_ohm,
            loads=effective_loads(p),
            battery_present=bool(p["battery.present"]),
            battery_voltage_v=_f(p, "battery.voltage_v"),
            battery_capacity_mah=_f(p, "battery.capacity_mah"),
            battery_internal_resistance_ohm=_f(p, "battery.internal_resistance_ohm"),
            battery_cutoff_v=_f(p, "battery.cutoff_v"),
            battery_undervoltage_v=_f(p, "battery.undervoltage_v"),
            brownout_v=_f(p, "mcu.brownout_v"),
            rtc_min_v=_f(p, "rtc.min_voltage_v"),
            rtc_drift_ppm=_f(p, "rtc.drift_ppm"),
            utc_offset_h=_f(p, "meter.utc_offset_h"),
            rail_v=rail_v,
            power_fail_v=_f(p, "supply.power_fail_v"),
            bulk_us=bulk_us,
            # The bulk capacitor under the PSU's load falls about linearly; the comparator trips
            # when the rail passes power_fail_v, and the MCU leaves the rail when it is spent.
            pf_us=round(bulk_us * (1.0 - _f(p, "supply.power_fail_v") / rail_v)),
            wake_us=max(1, _us(p, "mcu.wake_time_s", zero_ok=True)),
            wake_mode=WakeMode(str(p["mcu.wake_mode"])),
            poll_us=_us(p, "mcu.poll_period_s"),
            bias=Bias(str(p["cover.bias"])),
            bias_period_us=_us(p, "cover.bias_period_s"),
            tamper_latch=bool(p["cover.tamper_latch"]),
            terminal_cover=bool(p["terminal_cover.present"]),
            sample_us=_us(p, "cover.sample_period_s"),
            debounce_samples=int(p["cover.debounce_samples"]),  # type: ignore[call-overload]
            bounce_us=_us(p, "cover.bounce_s", zero_ok=True),
            nvm_page_size=int(p["nvm.page_size"]),  # type: ignore[call-overload]
            nvm_write_us=max(1, _us(p, "nvm.page_write_time_s", zero_ok=True)),
            radio_present=bool(p["radio.present"]),
            radio_us=sum(us for _, us in phases),
            design_esr_ohm=_design_esr(p),
            # End-of-tolerance capacitance (−20 %); the cold is the firmware's to apply.
            design_capacitance_f=_f(p, "supercap.capacitance_f") * 0.8,
            design_esr_ratio_cold=_f(p, "supercap.esr_ratio_cold"),
            design_c_ratio_cold=_f(p, "supercap.c_ratio_cold"),
            write_margin_v=_f(p, "firmware.write_margin_v"),
            supercap_part=str(p["supercap.part"]),
            nvm_part=str(p["nvm.part"]),
            battery_part=str(p["battery.part"]),
            battery_state=str(p["battery.state"]),
            temperature_c=temperature_c,
            warnings=_warnings(p),
            battery_initial_drawn_c=(_f(p, "battery.initial_drawn_fraction") * capacity_mah
                                     * COULOMBS_PER_MAH),
            battery_self_discharge_a=self_discharge_current_a(
                capacity_mah, _f(p, "battery.self_discharge_per_year")),
            battery_pulse_resistance_ohm=pulse_resistance_ohm(
                _f(p, "battery.internal_resistance_ohm"), _f(p, "battery.passivation_ohm"),
                _f(p, "battery.passivation_ratio_cold"), temperature_c),
            battery_passivation_ohm=_f(p, "battery.passivation_ohm"),
            battery_passivation_ratio_cold=_f(p, "battery.passivation_ratio_cold"),
            nvm_min_v=_f(p, "nvm.min_voltage_v"),
            radio_module=str(p["radio.module"]),
            radio_phases=phases,
            radio_retries=int(p["radio.retries"]),  # type: ignore[call-overload]
            radio_retry_gap_us=_us(p, "radio.retry_gap_s", zero_ok=True),
            radio_own_storage=bool(p["radio.own_storage"]),
            record_mac=bool(p.get("security.record_mac", False)),
            security_key_hex=str(p.get("security.key", "")),
            mac_us=_us(p, "security.mac_time_s", zero_ok=True) if "security.mac_time_s" in p
            else 0,
        )


def _degrees(t: float, sign: bool = False) -> str:
    """A temperature as a reader writes it: −40, +85 (a true minus sign)."""
    text = f"{t:+g}" if sign and t > 0 else f"{t:g}"
    return text.replace("-", "−")


def _warnings(p: Mapping[str, object]) -> tuple[str, ...]:
    """What is doubtful about this board but still simulated."""
    out = []
    t = _f(p, "ambient.temperature_c")
    t_min, t_max = _f(p, "supercap.min_temperature_c"), _f(p, "supercap.max_temperature_c")
    if not t_min <= t <= t_max:
        out.append(f"supercap {p['supercap.part']} at {_degrees(t)} °C is outside its rated "
                   f"{_degrees(t_min)}…{_degrees(t_max, sign=True)} °C")
    # The firmware keeps its writes above the NVM's minimum (its budget), which only costs watch
    # time; a minimum above what a backup source can give at all means no write on that source.
    nvm_min = _f(p, "nvm.min_voltage_v")
    sources = []
    if p["supply.topology"] != Topology.BATTERY_ONLY:
        sources.append(("the supercapacitor's charge", _f(p, "supercap.charge_source_v")))
    if p["battery.present"] and p["supply.topology"] in (Topology.BATTERY_FIRST,
                                                        Topology.BATTERY_ONLY):
        sources.append(("the battery", _f(p, "battery.voltage_v")))
    for what, v in sources:
        if nvm_min >= v:
            out.append(f"nvm {p['nvm.part']} writes only at or above {nvm_min:g} V: no write on "
                       f"{what} ({v:g} V)")
    return tuple(out)


def _design_esr(p: Mapping[str, object]) -> float:
    """The supercapacitor's ESR a designer budgets with at 20 °C: aged. (With a diode-OR the
    firmware's budget takes the worse of it and the battery's: either may carry a pulse.)"""
    return _f(p, "supercap.esr_ohm") * _f(p, "supercap.esr_ageing_factor")
