"""The write budget's rules, one by one, on a supply port the test sets: the battery's pulse
resistance at the temperature read, and the page write tried where the budget refuses it."""

from __future__ import annotations

import pytest

from meterseal.firmware.config import (
    SUPPLY_BATTERY_FIRST,
    SUPPLY_BATTERY_ONLY,
    SUPPLY_SUPERCAP,
    WAKE_INTERRUPT,
    FirmwareConfig,
)
from meterseal.firmware.power_path import SRC_MCU, SRC_NONE, SRC_SUPERCAP, Budget, PowerPath


def _cfg(**over: object) -> FirmwareConfig:
    values: dict[str, object] = dict(
        sample_period_us=5000, debounce_samples=9, wake_mode=WAKE_INTERRUPT,
        poll_period_us=1000000, brownout_v=2.0, margin_v=0.05, esr_ohm=40.0,
        capacitance_f=0.3, active_a=300e-6, wake_s=0.0016, nvm_write_a=3e-3,
        nvm_write_s=0.005, radio_present=False, radio_a=0.05, radio_s=0.2,
        has_battery_domain=True, supply_mode=SUPPLY_SUPERCAP, diode_or=False,
        battery_undervoltage_v=2.5, battery_internal_ohm=30.0, battery_passivation_ohm=80.0,
        battery_passivation_ratio_cold=2.0, radio_sends=1, radio_gap_us=1000000,
        radio_own_storage=False, radio_peak_a=0.05, nvm_min_v=2.5, esr_ratio_cold=1.0,
        c_ratio_cold=1.0)
    values.update(over)
    return FirmwareConfig(**values)


class Supply:
    def __init__(self, backup_v: float, battery_v: float = 0.0, supercap_v: float | None = None,
                 temperature_c: float = 20.0) -> None:
        self.v = backup_v
        self.bat = battery_v
        self.sc = backup_v if supercap_v is None else supercap_v
        self.t = temperature_c
        self.alarm_v: float | None = None

    def mains(self) -> bool:
        return False

    def backup_v(self) -> float:
        return self.v

    def battery_v(self) -> float:
        return self.bat

    def supercap_v(self) -> float:
        return self.sc

    def temperature_c(self) -> float:
        return self.t

    def use_supercap(self, on: bool) -> None:
        pass

    def set_alarm(self, level_v: float | None) -> None:
        self.alarm_v = level_v


# ------------------------------------------------------------------ the battery's pulse resistance


@pytest.mark.parametrize(("temperature_c", "ohm"), [(20.0, 110.0), (45.0, 110.0),
                                                    (-2.5, 150.0), (-25.0, 190.0),
                                                    (-40.0, 190.0)])
def test_the_battery_pulse_resistance_follows_the_temperature_read(temperature_c: float,
                                                                    ohm: float) -> None:
    # R_int + R_passivation x its cold ratio (1 at 20 C, 2 at -25 C, linear between).
    assert Budget(_cfg(), temperature_c).battery_pulse_ohm == pytest.approx(ohm)


def test_a_warm_battery_carries_a_write_its_cold_figure_would_refuse() -> None:
    # 3.0 V; a write and the MCU draw 3.3 mA: 110 ohm at 45 C leaves 2.637 V >= 2.55 V; the
    # -25 C figure (190 ohm) would leave 2.373 V.
    cfg = _cfg(supply_mode=SUPPLY_BATTERY_ONLY)
    warm = PowerPath(cfg, Supply(3.0, battery_v=3.0, temperature_c=45.0))
    warm.arm_on_battery()
    assert warm.write_source(True) == SRC_MCU
    cold = PowerPath(cfg, Supply(3.0, battery_v=3.0, temperature_c=-25.0))
    cold.arm_on_battery()
    assert cold.write_source(True) == SRC_NONE
    assert warm.budget.battery_end_v < cold.budget.battery_end_v


# ------------------------------------------------------------------ a write tried where refused


def _on_supercap(v: float, **over: object) -> PowerPath:
    path = PowerPath(_cfg(**over), Supply(v))
    path.arm_on_supercap(True)
    path.set_alarm(path.budget.retained_floor_v(path.cfg))  # watching on, records pending
    return path


def test_a_write_the_budget_refuses_is_tried_where_the_nvm_may_program() -> None:
    # Write floor: 2.5 + 0.05 margin + 3.3 mA x 40 ohm + its charge = 2.682 V. At 2.64 V the
    # write adds 3 mA x 40 ohm (the MCU's own drop is in the reading): 2.52 V for the chip.
    path = _on_supercap(2.64)
    assert path.budget.write_floor_v > 2.64
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_MCU


def test_no_write_is_tried_where_the_nvm_cannot_program() -> None:
    path = _on_supercap(2.61)  # 2.49 V for the chip under the write
    assert path.attempt_source() == SRC_NONE


def test_no_write_is_tried_where_its_pulse_takes_the_mcu_under_its_margin() -> None:
    # A brown-out at 2.45 V and a chip that programs from 2.0 V: at 2.615 V the write leaves
    # 2.495 V, enough for the chip, under brown-out + margin (2.5 V); at 2.625 V, 2.505 V
    # (the budget, counting the MCU's current again, still refuses: its floor is 2.632 V).
    path = _on_supercap(2.615, brownout_v=2.45, nvm_min_v=2.0)
    path.set_alarm(None)
    assert path.attempt_source() == SRC_NONE
    path = _on_supercap(2.625, brownout_v=2.45, nvm_min_v=2.0)
    path.set_alarm(None)
    assert path.budget.write_floor_v > 2.625
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_MCU


def test_the_comparator_is_disarmed_for_a_write_and_armed_again_after_it() -> None:
    # It steers the watch by the supply at rest: a write's own pulse must not end the watch.
    path = _on_supercap(2.64)
    path.set_alarm(2.55)
    path.mask_alarm()
    assert path.supply.alarm_v is None and path.alarm_v == 2.55
    path.unmask_alarm()
    assert path.supply.alarm_v == 2.55
    path.mask_alarm()
    path.set_alarm(None)  # the watch ended (or mains came back) during the write
    path.unmask_alarm()
    assert path.supply.alarm_v is None
    # Masked or not, the comparator's level does not bound a try: its pulse passes.
    path.set_alarm(2.6)
    assert path.attempt_source() == SRC_MCU


def test_a_battery_first_board_tries_the_write_on_the_supercapacitor() -> None:
    # The battery (2.45 V) cannot give the chip its 2.5 V under a write; the supercapacitor at
    # 2.66 V, under its write floor (2.682 V), switched in carries the MCU's current too:
    # 2.66 - 3.3 mA x 40 ohm = 2.528 V, above the chip's minimum.
    cfg = _cfg(supply_mode=SUPPLY_BATTERY_FIRST)
    path = PowerPath(cfg, Supply(2.45, battery_v=2.45, supercap_v=2.66))
    path.arm_on_battery()
    path.set_alarm(None)
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_SUPERCAP


def test_a_diode_or_board_tries_the_write_on_the_battery_when_it_is_the_higher() -> None:
    # The budget takes the worse of the two sources (here the supercapacitor's 345 ohm); the
    # battery at 2.79 V carries the MCU, and a write through its 110 ohm leaves 2.46 V... under
    # the chip's 2.5 V: not tried. A chip that programs from 1.8 V is tried.
    supply = Supply(2.79, battery_v=2.79, supercap_v=2.0)
    path = PowerPath(_cfg(esr_ohm=345.0, diode_or=True), supply)
    path.arm_on_supercap(True)
    path.set_alarm(None)
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_NONE
    path = PowerPath(_cfg(esr_ohm=345.0, diode_or=True, nvm_min_v=1.8), supply)
    path.set_alarm(None)
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_MCU
    # Without the diode-OR the same readings say the supercapacitor carries the write.
    path = PowerPath(_cfg(esr_ohm=345.0, nvm_min_v=1.8), supply)
    assert path.attempt_source() == SRC_NONE


def test_a_diode_or_board_tries_the_write_on_the_supercapacitor_at_its_own_esr() -> None:
    # The budget takes the worse of the supercapacitor's ESR (40 ohm) and the battery's
    # internal resistance (137 ohm): its write floor is 2.5 + 0.05 + 3.3 mA x 137 ohm = 3.0 V.
    # The supercapacitor at 2.7 V is the higher and carries the MCU: a write through its own
    # 40 ohm leaves 2.58 V.
    cfg = _cfg(diode_or=True, battery_internal_ohm=137.0)
    path = PowerPath(cfg, Supply(2.7, battery_v=2.5, supercap_v=2.7))
    path.arm_on_supercap(True)
    path.set_alarm(None)
    assert path.budget.esr == pytest.approx(137.0) and path.budget.sc_esr == pytest.approx(40.0)
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_MCU
    # Where the supercapacitor's own ESR would not leave the chip its minimum, nothing is tried.
    path = PowerPath(_cfg(diode_or=True, esr_ohm=100.0, battery_internal_ohm=137.0),
                     Supply(2.7, battery_v=2.5, supercap_v=2.7))
    path.set_alarm(None)
    assert path.attempt_source() == SRC_NONE


def test_a_diode_or_board_estimates_the_write_on_the_source_that_carries_the_mcu() -> None:
    # The battery reads 3.6 V, the supercapacitor 3.33 V under the MCU's load, and the MCU's
    # own supply reads the supercapacitor: the diode-OR has it on the supercapacitor (its open
    # voltage is the higher), and the write goes through its 243 ohm, to 2.54 V, under the
    # chip's 2.6 V. Estimated on the battery (65 ohm), it would look like 3.39 V.
    cfg = _cfg(diode_or=True, esr_ohm=243.0, battery_internal_ohm=25.0,
               battery_passivation_ohm=40.0, nvm_write_a=3.237e-3, nvm_min_v=2.6)
    path = PowerPath(cfg, Supply(3.326, battery_v=3.6, supercap_v=3.326))
    assert path.attempt_source() == SRC_NONE
    path = PowerPath(cfg, Supply(3.6, battery_v=3.6, supercap_v=3.326))
    assert path.attempt_source() == SRC_MCU
    # Alike readings: the worse of the two (3.35 - 0.79 V).
    path = PowerPath(cfg, Supply(3.35, battery_v=3.35, supercap_v=3.35))
    assert path.attempt_source() == SRC_NONE


def test_a_try_on_the_battery_counts_the_mcu_current_through_the_passivation() -> None:
    # Campaign 4242 #23643: a weak cell reading 3.0 V under the MCU's 2.35 mA through its
    # 20 ohm; a page write breaks through the passivation (60 ohm in all) for both currents:
    # 3.0 - 3 mA x 60 - 2.35 mA x 40 = 2.70 V, under brown-out (2.753 V) + margin. Counting the
    # write's own current alone (2.82 V) let a tried write brown the MCU out.
    cfg = _cfg(supply_mode=SUPPLY_BATTERY_ONLY, brownout_v=2.753, active_a=2.351e-3,
               battery_internal_ohm=20.0, battery_passivation_ohm=40.0, nvm_min_v=2.5)
    path = PowerPath(cfg, Supply(3.0, battery_v=3.0, temperature_c=51.3))
    path.arm_on_battery()
    assert path.write_source(True) == SRC_NONE
    assert path.attempt_source() == SRC_NONE
    path = PowerPath(cfg, Supply(3.12, battery_v=3.12, temperature_c=51.3))
    path.arm_on_battery()
    assert path.write_source(True) == SRC_NONE  # its floor: 2.803 + 5.35 mA x 60 = 3.124 V
    assert path.attempt_source() == SRC_MCU  # 3.12 - 0.274 = 2.846 V
