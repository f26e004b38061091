"""What the firmware is built knowing about its board: design values, not measurements.

A real recorder is compiled with its board's design numbers (worst-case ESR, minimum capacitance,
brown-out level, part currents); this class carries them. It must not know the simulator, and it
holds the worst case the designer allows for, never the particular part in a scenario.
"""

WAKE_INTERRUPT = 0
WAKE_POLLING = 1

# Which source carries the watch after an outage (the board's topology, as the firmware sees it).
SUPPLY_SUPERCAP = 0  # the supercapacitor feeds the MCU (supercap-only, battery+supercap, diode-OR)
SUPPLY_BATTERY_FIRST = 1  # the clock battery while above undervoltage; the supercap switched in
SUPPLY_BATTERY_ONLY = 2  # no supercapacitor: the battery alone


class FirmwareConfig:
    """Every value is required, by name: a misspelt or missing one is a TypeError here, not a
    silent default (the defaults belong to the board's profile, and only there)."""

    __slots__ = (
        "active_a",
        "battery_internal_ohm",
        "battery_passivation_ohm",
        "battery_passivation_ratio_cold",
        "battery_undervoltage_v",
        "brownout_v",
        "c_ratio_cold",
        "capacitance_f",
        "debounce_samples",
        "diode_or",
        "esr_ohm",
        "esr_ratio_cold",
        "has_battery_domain",
        "mac_a",
        "mac_s",
        "margin_v",
        "nvm_min_v",
        "nvm_write_a",
        "nvm_write_s",
        "poll_period_us",
        "radio_a",
        "radio_gap_us",
        "radio_own_storage",
        "radio_peak_a",
        "radio_present",
        "radio_s",
        "radio_sends",
        "rail_holdup_us",
        "sample_period_us",
        "supply_mode",
        "wake_mode",
        "wake_s",
    )

    # Power-down judging as field meters do it: the power-fail condition must last this long
    # before a power-down is recorded (a shorter flicker leaves no record)...
    PD_DEBOUNCE_US = 1000000
    # ...and the meter must have had this much supply before it (a power-down right after a
    # power-up is not one).
    PD_MIN_SUPPLY_US = 3000000

    def __init__(
        self,
        *,
        sample_period_us,
        debounce_samples,
        wake_mode,
        poll_period_us,
        brownout_v,
        margin_v,
        esr_ohm,
        capacitance_f,
        active_a,
        wake_s,
        nvm_write_a,
        nvm_write_s,
        radio_present,
        radio_a,
        radio_s,
        has_battery_domain,
        supply_mode,
        diode_or,
        battery_undervoltage_v,
        battery_internal_ohm,
        battery_passivation_ohm,
        battery_passivation_ratio_cold,
        radio_sends,
        radio_gap_us,
        radio_own_storage,
        radio_peak_a,
        nvm_min_v,
        esr_ratio_cold,
        c_ratio_cold,
        mac_a=0.0,
        mac_s=0.0,
        rail_holdup_us=0,
    ):
        self.sample_period_us = int(sample_period_us)
        self.debounce_samples = int(debounce_samples)
        self.wake_mode = int(wake_mode)
        self.poll_period_us = int(poll_period_us)
        self.brownout_v = float(brownout_v)
        self.margin_v = float(margin_v)
        # The supercapacitor at 20 °C at its worst (end-of-tolerance capacitance, aged ESR), and
        # how the cold changes it: linear to these ratios at −25 °C, clamped beyond. The budget
        # is taken at the temperature the MCU's sensor reads.
        self.esr_ohm = float(esr_ohm)
        self.capacitance_f = float(capacitance_f)
        self.esr_ratio_cold = float(esr_ratio_cold)
        self.c_ratio_cold = float(c_ratio_cold)
        self.active_a = float(active_a)
        self.wake_s = float(wake_s)
        self.nvm_write_a = float(nvm_write_a)
        self.nvm_write_s = float(nvm_write_s)
        self.radio_present = bool(radio_present)
        self.radio_a = float(radio_a)
        self.radio_s = float(radio_s)
        # True where a battery can keep the RTC domain (and retained RAM) alive: the seed design.
        self.has_battery_domain = bool(has_battery_domain)
        self.supply_mode = int(supply_mode)
        # SUPPLY_SUPERCAP through a diode-OR with a battery: the higher source carries the MCU
        # and every pulse (the budget takes the worse of esr_ohm and the battery's internal
        # resistance).
        self.diode_or = bool(diode_or)
        # The battery carries the watch while above this (battery-first, battery-only).
        self.battery_undervoltage_v = float(battery_undervoltage_v)
        # What a pulse load sees in the battery: its internal resistance and the passivation
        # layer of a cell that has rested (at 20 °C), and how the cold raises the passivation
        # (linear to this ratio at −25 °C, clamped beyond). Like the supercapacitor's figures,
        # the budget takes them at the temperature the MCU's sensor reads.
        self.battery_internal_ohm = float(battery_internal_ohm)
        self.battery_passivation_ohm = float(battery_passivation_ohm)
        self.battery_passivation_ratio_cold = float(battery_passivation_ratio_cold)
        self.radio_sends = int(radio_sends)  # one report: this many sends...
        self.radio_gap_us = int(radio_gap_us)  # ...this far apart
        # A module with its own power-off storage: the meter only raises its event line.
        self.radio_own_storage = bool(radio_own_storage)
        # radio_a is a send's average current (its charge over radio_s); the ESR drop is set by
        # its highest phase.
        self.radio_peak_a = float(radio_peak_a)
        # The NVM programs a page only at or above this supply (0: no limit beyond brown-out).
        self.nvm_min_v = float(nvm_min_v)
        # The security module computing one record MAC: its current and time (the MCU is
        # awake beside it).
        self.mac_a = float(mac_a)
        self.mac_s = float(mac_s)
        # How long the PSU's bulk capacitor holds the DC rail up after the power-fail comparator
        # trips (0: nothing to count on). A page write that ends inside it runs on the rail, not
        # on the backup.
        self.rail_holdup_us = int(rail_holdup_us)

    @property
    def debounce_us(self):
        """How long a change must hold before the debouncer takes it: one sample per period."""
        return self.debounce_samples * self.sample_period_us


NOMINAL_C = 20.0  # the parts' figures hold at and above this temperature...
COLD_C = -25.0  # ...and their cold ratios at and below this one


def cold_ratio(ratio_at_cold, temperature_c):
    """A part figure's ratio to its 20 °C value: 1 at or above 20 °C, ratio_at_cold at or below
    −25 °C, linear in between."""
    if temperature_c >= NOMINAL_C:
        return 1.0
    if temperature_c <= COLD_C:
        return ratio_at_cold
    return 1.0 + (ratio_at_cold - 1.0) * (NOMINAL_C - temperature_c) / (NOMINAL_C - COLD_C)
