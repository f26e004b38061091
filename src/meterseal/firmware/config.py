"""What the firmware is built knowing about its board: design values, not measurements.

A real recorder is compiled with its board's design numbers (worst-case ESR, minimum capacitance,
brown-out level, part currents); this class carries them. It must not know the simulator, and it
holds the worst case the designer allows for, never the particular part in a scenario.
"""

WAKE_INTERRUPT = 0
WAKE_POLLING = 1


class FirmwareConfig:
    """Every value is required, by name: a misspelt or missing one is a TypeError here, not a
    silent default (the defaults belong to the board's profile, and only there)."""

    __slots__ = (
        "active_a",
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
    ):
        self.sample_period_us = int(sample_period_us)
        self.debounce_samples = int(debounce_samples)
        self.wake_mode = int(wake_mode)
        self.poll_period_us = int(poll_period_us)
        self.brownout_v = float(brownout_v)
        self.margin_v = float(margin_v)
        self.esr_ohm = float(esr_ohm)
        self.capacitance_f = float(capacitance_f)
        self.active_a = float(active_a)
        self.wake_s = float(wake_s)
        self.nvm_write_a = float(nvm_write_a)
        self.nvm_write_s = float(nvm_write_s)
        self.radio_present = bool(radio_present)
        self.radio_a = float(radio_a)
        self.radio_s = float(radio_s)
        # True where a battery can keep the RTC domain (and retained RAM) alive: the seed design.
        self.has_battery_domain = bool(has_battery_domain)

    @property
    def debounce_us(self):
        """How long a change must hold before the debouncer takes it: one sample per period."""
        return self.debounce_samples * self.sample_period_us


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
