"""What the recorder firmware is built knowing about its board: the design values.

A real recorder is compiled with its board's design numbers at their worst case (end-of-
tolerance capacitance, cold and aged ESR, the part currents), whatever the particular part in a
scenario turns out to be. This module turns the board's parameters into the firmware's
configuration, the one place the two meet.
"""

from __future__ import annotations

from meterseal.firmware.config import (
    SUPPLY_BATTERY_FIRST,
    SUPPLY_BATTERY_ONLY,
    SUPPLY_SUPERCAP,
    WAKE_INTERRUPT,
    WAKE_POLLING,
    FirmwareConfig,
)
from meterseal.firmware.power_path import Budget
from meterseal.hardware.board import BoardParams, Topology, WakeMode


def firmware_config(b: BoardParams) -> FirmwareConfig:
    L = b.loads
    return FirmwareConfig(
        sample_period_us=b.sample_us,
        debounce_samples=b.debounce_samples,
        wake_mode=WAKE_POLLING if b.wake_mode == WakeMode.POLLING else WAKE_INTERRUPT,
        poll_period_us=b.poll_us,
        brownout_v=b.brownout_v,
        margin_v=b.write_margin_v,
        esr_ohm=b.design_esr_ohm,
        capacitance_f=b.design_capacitance_f,
        esr_ratio_cold=b.design_esr_ratio_cold,
        c_ratio_cold=b.design_c_ratio_cold,
        active_a=L.active_a,
        wake_s=b.wake_us * 1e-6,
        nvm_write_a=L.nvm_write_a,
        nvm_write_s=b.nvm_write_us * 1e-6,
        radio_present=b.radio_present,
        radio_a=L.radio_a,
        radio_s=b.radio_us * 1e-6,
        # Where a battery can keep the RTC domain (and retained RAM) alive.
        has_battery_domain=b.topology != Topology.SUPERCAP_ONLY and b.battery_present,
        supply_mode=_SUPPLY_MODE.get(b.topology, SUPPLY_SUPERCAP),
        diode_or=b.topology == Topology.DIODE_OR and b.battery_present,
        battery_undervoltage_v=b.battery_undervoltage_v,
        battery_internal_ohm=b.battery_internal_resistance_ohm,
        battery_passivation_ohm=b.battery_passivation_ohm,
        battery_passivation_ratio_cold=b.battery_passivation_ratio_cold,
        radio_sends=1 + b.radio_retries,
        radio_gap_us=b.radio_retry_gap_us,
        radio_own_storage=b.radio_own_storage,
        radio_peak_a=max((a for a, _us in b.radio_phases), default=0.0),
        nvm_min_v=b.nvm_min_v,
        mac_a=L.mac_a,
        mac_s=b.mac_us * 1e-6,
        rail_holdup_us=max(0, b.bulk_us - b.pf_us),
    )


_SUPPLY_MODE = {Topology.BATTERY_FIRST: SUPPLY_BATTERY_FIRST,
                Topology.BATTERY_ONLY: SUPPLY_BATTERY_ONLY}


def budget_levels(b: BoardParams) -> tuple[float, float]:
    """The supercapacitor voltages the firmware steers by on this board at its temperature:
    below the first it keeps records pending rather than write; below the second it cannot
    afford a whole report (every send with its retries)."""
    budget = Budget(firmware_config(b), b.temperature_c)
    floor = b.brownout_v + b.write_margin_v
    return budget.write_floor_v, floor + budget.report_need_v
