"""What the firmware is built knowing about its board: design values, not measurements.

A real recorder is compiled with its board's design numbers (worst-case ESR, minimum capacitance,
brown-out level, part currents); this class carries them. It must not know the simulator, and it
holds the worst case the designer allows for, never the particular part in a scenario.
"""

WAKE_INTERRUPT = 0
WAKE_POLLING = 1


class FirmwareConfig:
    __slots__ = (
        "active_a",
        "battery_undervoltage_v",
        "brownout_v",
        "capacitance_f",
        "debounce_samples",
        "esr_ohm",
        "has_battery_domain",
        "margin_v",
        "nvm_write_a",
        "nvm_write_s",
        "poll_period_us",
        "radio_a",
        "radio_present",
        "radio_s",
        "sample_period_us",
        "wake_mode",
        "wake_s",
    )

    def __init__(self, values):
        self.sample_period_us = int(values.get("sample_period_us", 5000))
        self.debounce_samples = int(values.get("debounce_samples", 9))
        self.wake_mode = int(values.get("wake_mode", WAKE_INTERRUPT))
        self.poll_period_us = int(values.get("poll_period_us", 1000000))
        self.brownout_v = float(values.get("brownout_v", 2.0))
        self.margin_v = float(values.get("margin_v", 0.05))
        self.esr_ohm = float(values.get("esr_ohm", 2.0))
        self.capacitance_f = float(values.get("capacitance_f", 0.56))
        self.active_a = float(values.get("active_a", 300e-6))
        self.wake_s = float(values.get("wake_s", 0.0016))
        self.nvm_write_a = float(values.get("nvm_write_a", 3e-3))
        self.nvm_write_s = float(values.get("nvm_write_s", 0.005))
        self.radio_present = bool(values.get("radio_present", True))
        self.radio_a = float(values.get("radio_a", 0.05))
        self.radio_s = float(values.get("radio_s", 0.2))
        self.battery_undervoltage_v = float(values.get("battery_undervoltage_v", 2.5))
        # True where a battery can keep the RTC domain (and retained RAM) alive: the seed design.
        self.has_battery_domain = bool(values.get("has_battery_domain", True))


class Budget:
    """Voltage levels the recorder steers by, derived once from the design values.

    A pulse of current I for s seconds costs the capacitor I*s/C of its voltage, and while it
    lasts the terminal sags by I*ESR more; the MCU must stay above brown-out + margin throughout.
    """

    __slots__ = ("radio_need_v", "wake_need_v", "watch_floor_v", "write_floor_v", "write_need_v")

    def __init__(self, cfg):
        floor = cfg.brownout_v + cfg.margin_v
        self.write_need_v = pulse_need_v(cfg, cfg.nvm_write_a + cfg.active_a, cfg.nvm_write_s)
        self.wake_need_v = pulse_need_v(cfg, cfg.active_a, cfg.wake_s)
        self.radio_need_v = pulse_need_v(cfg, cfg.radio_a + cfg.active_a, cfg.radio_s)
        # Below this a page write could trip the brown-out: records stay pending instead.
        self.write_floor_v = floor + self.write_need_v
        # One debounce (a wake per sample), then one record and one last state write on top of
        # the write floor: that is what watching must keep in hand when it cannot keep pending
        # records through the MCU's death.
        debounce_v = cfg.debounce_samples * cfg.active_a * cfg.wake_s / cfg.capacitance_f
        write_cost_v = (cfg.nvm_write_a + cfg.active_a) * cfg.nvm_write_s / cfg.capacitance_f
        self.watch_floor_v = self.write_floor_v + debounce_v + 2 * write_cost_v

    def retained_floor_v(self, cfg):
        """Where watching may go on when retained RAM outlives the MCU: enough for a debounce."""
        debounce_v = cfg.debounce_samples * cfg.active_a * cfg.wake_s / cfg.capacitance_f
        return cfg.brownout_v + cfg.margin_v + self.wake_need_v + debounce_v


def pulse_need_v(cfg, current_a, duration_s):
    return current_a * cfg.esr_ohm + current_a * duration_s / cfg.capacitance_f
