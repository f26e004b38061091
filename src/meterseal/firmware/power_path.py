"""Which source the firmware leans on after an outage, and what each source can afford.

Owns the energy budget of the watch: the voltage levels the recorder steers by (derived once from
the design values, never from the particular part), which source a page write runs on, whether a
report is affordable, where the low-voltage comparator is set, and how the watch moves from the
clock battery to the supercapacitor. It acts on the board only through the supply port.

The designs (FirmwareConfig.supply_mode):
- SUPPLY_SUPERCAP: the supercapacitor carries the MCU from the first second (the budget below).
- SUPPLY_BATTERY_FIRST (the seed's design): the watch runs on the clock battery while it is above
  its undervoltage level, the supercapacitor switched off the MCU's supply so that it keeps its
  charge for the communication module's report; a page write runs on the battery when the
  battery can carry its pulse (internal resistance and passivation, at their worst), else the
  supercapacitor is switched in for that write. At the battery's undervoltage level the
  supercapacitor takes the watch over if it still holds enough; if not, the watch goes on on the
  battery to the level where a last write is still affordable, and ends there.
- SUPPLY_BATTERY_ONLY (the meter before the seed's design): the battery alone, to that level.

A pulse of current I for s seconds costs the capacitor I*s/C of its voltage, and while it lasts
the terminal sags by I*ESR more; the MCU must stay above brown-out + margin throughout.

The budget guarantees a write. Where it refuses one, the write may still be tried
(attempt_source): a record refused would wait in retained RAM, which may not outlive the MCU or
the battery, and a try costs little where it is safe. Safe means the MCU stays above brown-out +
margin under what the write adds at the design values; the NVM's own minimum is estimated the
same way without a margin, since a write the chip did not program is not acknowledged (the
record then stays pending; the journal's page writes never touch a committed page). The
comparator steers the watch by the supply at rest: it is disarmed for every page write on
backup (mask_alarm), so that no write's own pulse ends or hands over the watch.
"""

from meterseal.firmware.config import (
    COLD_C,
    SUPPLY_BATTERY_FIRST,
    SUPPLY_BATTERY_ONLY,
    SUPPLY_SUPERCAP,
    cold_ratio,
)

# Where a page write runs.
SRC_NONE = 0  # not affordable now: the record waits in retained RAM
SRC_MCU = 1  # on the source the MCU is on now
SRC_SUPERCAP = 2  # the supercapacitor switched in for this one write (the MCU is on the battery)


class Budget:
    """Voltage levels the recorder steers by, derived once from the design values."""

    __slots__ = (
        "battery_end_v",
        "battery_pulse_ohm",
        "c",
        "esr",
        "mac_need_v",
        "radio_need_v",
        "report_need_v",
        "sc_esr",
        "wake_need_v",
        "watch_floor_v",
        "write_floor_v",
        "write_need_v",
    )

    def __init__(self, cfg, temperature_c=COLD_C):
        # The supercapacitor at the temperature read (the coldest rated one when none is).
        self.sc_esr = cfg.esr_ohm * cold_ratio(cfg.esr_ratio_cold, temperature_c)
        self.esr = self.sc_esr
        if cfg.diode_or:
            # Either source may carry a pulse: the budget takes the worse.
            self.esr = max(cfg.esr_ohm, cfg.battery_internal_ohm) * cold_ratio(
                cfg.esr_ratio_cold, temperature_c)
        self.c = cfg.capacitance_f * cold_ratio(cfg.c_ratio_cold, temperature_c)
        # What a pulse meets in the battery at that temperature: its internal resistance and
        # the passivation of a rested cell (the coldest rated one when none is read).
        self.battery_pulse_ohm = cfg.battery_internal_ohm + cfg.battery_passivation_ohm * (
            cold_ratio(cfg.battery_passivation_ratio_cold, temperature_c))
        # A write needs the NVM's own minimum too, where it is above the MCU's brown-out.
        write_base = max(cfg.brownout_v, cfg.nvm_min_v) + cfg.margin_v
        esr, c = self.esr, self.c
        self.write_need_v = self.pulse_need_v(cfg.nvm_write_a + cfg.active_a, cfg.nvm_write_s)
        self.wake_need_v = self.pulse_need_v(cfg.active_a, cfg.wake_s)
        peak_a = max(cfg.radio_peak_a, cfg.radio_a) + cfg.active_a
        self.radio_need_v = peak_a * esr + (cfg.radio_a + cfg.active_a) * cfg.radio_s / c
        # A whole report: every send costs its charge, the ESR drop (at its peak) comes once at
        # a time.
        sends = max(1, cfg.radio_sends)
        self.report_need_v = peak_a * esr + sends * (cfg.radio_a + cfg.active_a) * cfg.radio_s / c
        # Below this a page write could trip the brown-out: records stay pending instead.
        self.write_floor_v = write_base + self.write_need_v
        # One debounce (a wake per sample), then one record and one last state write on top of
        # the write floor: that is what watching must keep in hand when it cannot keep pending
        # records through the MCU's death.
        debounce_v = cfg.debounce_samples * cfg.active_a * cfg.wake_s / c
        write_cost_v = (cfg.nvm_write_a + cfg.active_a) * cfg.nvm_write_s / c
        self.watch_floor_v = self.write_floor_v + debounce_v + 2 * write_cost_v
        # A record MAC: the module and the MCU for its compute time, on top of the write it
        # goes with. It is not in the watch floor: a record that cannot afford it is written
        # without it and sealed at the restore (chain.py) rather than end the watch; the charge
        # of the MACs that are computed is part of the watch's cost.
        self.mac_need_v = self.pulse_need_v(cfg.mac_a + cfg.active_a, cfg.mac_s)
        # On the battery the charge of a write is nothing; its pulse through the cell is all.
        self.battery_end_v = write_base + (cfg.nvm_write_a + cfg.active_a) * self.battery_pulse_ohm

    def pulse_need_v(self, current_a, duration_s):
        """What a pulse costs the supercapacitor: its ESR drop and its charge."""
        return current_a * self.esr + current_a * duration_s / self.c

    def retained_floor_v(self, cfg):
        """Where watching may go on when retained RAM outlives the MCU: enough for a debounce."""
        debounce_v = cfg.debounce_samples * cfg.active_a * cfg.wake_s / self.c
        return cfg.brownout_v + cfg.margin_v + self.wake_need_v + debounce_v




class PowerPath:
    """The firmware's view of its supplies during the watch (see the module's rules)."""

    __slots__ = ("alarm_v", "budget", "cfg", "masked", "on_battery", "supply")

    def __init__(self, cfg, supply):
        self.cfg = cfg
        self.supply = supply
        # The MCU's own sensor: the budget is taken at the board's temperature, not the coldest
        # the parts are rated for (measured, not assumed).
        self.budget = Budget(cfg, supply.temperature_c())
        self.on_battery = False  # the MCU runs on the battery (battery designs)
        self.alarm_v = None  # the comparator's level as armed (None: disarmed, or it fired)
        self.masked = False  # disarmed for the page write under way (mask_alarm)

    def set_alarm(self, level_v):
        """Arm the low-voltage comparator at level_v (None disarms it), and remember where."""
        self.alarm_v = level_v
        self.masked = False
        self.supply.set_alarm(level_v)

    def mask_alarm(self):
        """A page write starts on backup: the comparator steers the watch by the supply at rest,
        not under the write's own pulse (its ESR or cell drop), so it is disarmed for the write
        (the brown-out stays the hardware's)."""
        if self.alarm_v is not None and not self.masked:
            self.masked = True
            self.supply.set_alarm(None)

    def unmask_alarm(self):
        """The write is over: the comparator again, at its level (a supply already under it
        fires it at once)."""
        if self.masked:
            self.masked = False
            self.supply.set_alarm(self.alarm_v)

    def battery_usable(self):
        """The battery may carry the watch: a battery design, and above its undervoltage."""
        mode = self.cfg.supply_mode
        if mode == SUPPLY_SUPERCAP:
            return False
        if mode == SUPPLY_BATTERY_ONLY:
            return True  # nothing else: a battery already too low ends the watch at once
        return self.supply.battery_v() > self.cfg.battery_undervoltage_v

    def rest(self):
        """Mains is back: the supercapacitor goes back on the MCU's supply, so that the next
        power failure's records are written on it (and the bulk capacitor's energy)."""
        self.on_battery = False
        self.supply.use_supercap(True)

    def arm_on_battery(self):
        """Put the watch on the battery (switch the supercapacitor off the MCU's supply) and set
        the comparator where the battery's part of the watch ends."""
        self.on_battery = True
        self.supply.use_supercap(False)
        if self.cfg.supply_mode == SUPPLY_BATTERY_FIRST:
            self.set_alarm(self.cfg.battery_undervoltage_v)
        else:
            self.set_alarm(self.budget.battery_end_v)

    def arm_on_supercap(self, retained_ok):
        """Put the watch on the supercapacitor, with the floor it must keep in hand."""
        self.on_battery = False
        self.supply.use_supercap(True)
        b = self.budget
        self.set_alarm(b.write_floor_v if retained_ok else b.watch_floor_v)

    def supercap_can_watch(self, retained_ok):
        if self.cfg.supply_mode != SUPPLY_BATTERY_FIRST:
            return False
        b = self.budget
        floor = b.write_floor_v if retained_ok else b.watch_floor_v
        return self.supply.supercap_v() > floor

    def battery_to_its_end(self):
        """The supercapacitor cannot take over: watch on on the battery down to the level
        where a last write is still affordable. False if the battery is already there."""
        if self.supply.battery_v() <= self.budget.battery_end_v:
            return False
        self.set_alarm(self.budget.battery_end_v)
        return True

    def pending_alarm(self):
        """Watching on with records pending in retained RAM: set the comparator at the level of
        the supply's last wake (a debounce's worth above brown-out). False if the supply is
        already there."""
        cfg = self.cfg
        if self.on_battery:
            level = cfg.brownout_v + cfg.margin_v + cfg.active_a * self.budget.battery_pulse_ohm
            v = self.supply.battery_v()
        else:
            level = self.budget.retained_floor_v(cfg)
            v = self.supply.backup_v()
        if v <= level:
            return False
        self.set_alarm(level)
        return True

    def write_source(self, budgeted):
        """Where the next page write can run (SRC_*). Outside the watch every write runs."""
        if not budgeted:
            return SRC_MCU
        b = self.budget
        if self.on_battery:
            cfg = self.cfg
            pulse = (cfg.nvm_write_a + cfg.active_a) * self.budget.battery_pulse_ohm
            if self.supply.battery_v() - pulse >= max(cfg.brownout_v, cfg.nvm_min_v) + (
                    cfg.margin_v):
                return SRC_MCU
            if cfg.supply_mode == SUPPLY_BATTERY_FIRST and (
                    self.supply.supercap_v() >= b.write_floor_v):
                return SRC_SUPERCAP
            return SRC_NONE
        return SRC_MCU if self.supply.backup_v() >= b.write_floor_v else SRC_NONE

    def attempt_source(self):
        """The design budget refused a page write on backup: where the firmware may still try
        it (SRC_*), for a record that would otherwise wait only in retained RAM, which may not
        outlive the MCU or the battery.

        The budget guarantees a write: it puts the margin on top of the NVM's minimum too, and
        counts the MCU's own current again on a supercapacitor reading already taken under it.
        An attempt only has to be safe: the reading (under the awake MCU's load) minus what the
        write adds at the design values (end-of-life ESR and capacitance, the battery's
        rested-cell pulse resistance, at the temperature read) must keep the MCU above
        brown-out with its margin (the comparator is disarmed for the write: mask_alarm), and
        give the chip its minimum, without a margin there: whether it programmed is learned
        from its acknowledge. A failed write keeps its record pending, and the journal's
        single-page writes never touch a committed page."""
        cfg = self.cfg
        b = self.budget
        nvm_a = cfg.nvm_write_a
        # Through the battery a pulse meets the passivation of the rested cell, and so does the
        # MCU's current beside it, which the reading saw through the internal resistance alone.
        bat_add_v = nvm_a * b.battery_pulse_ohm + cfg.active_a * (
            b.battery_pulse_ohm - cfg.battery_internal_ohm)
        if self.on_battery:
            if self._attempt_fits(self.supply.battery_v(), bat_add_v):
                return SRC_MCU
            if cfg.supply_mode != SUPPLY_BATTERY_FIRST:
                return SRC_NONE
            # The supercapacitor switched in for the write carries the MCU's current too.
            add_v = b.pulse_need_v(nvm_a + cfg.active_a, cfg.nvm_write_s)
            if self._attempt_fits(self.supply.supercap_v(), add_v):
                return SRC_SUPERCAP
            return SRC_NONE
        v = self.supply.backup_v()
        sc_add_v = nvm_a * b.sc_esr + (nvm_a + cfg.active_a) * cfg.nvm_write_s / b.c
        add_v = sc_add_v
        if cfg.diode_or:
            # Whichever source carries the MCU carries the write: the one whose reading the
            # MCU's own supply reads (the battery through its pulse resistance, at no charge
            # worth counting; the supercapacitor through its own ESR). Where the two read
            # alike, the worse.
            to_bat = abs(v - self.supply.battery_v())
            to_sc = abs(v - self.supply.supercap_v())
            if to_bat < to_sc:
                add_v = bat_add_v
            elif to_bat == to_sc:
                add_v = max(bat_add_v, sc_add_v)
        return SRC_MCU if self._attempt_fits(v, add_v) else SRC_NONE

    def _attempt_fits(self, v, add_v):
        """May a write that takes add_v off a source reading v be tried (attempt_source)?"""
        cfg = self.cfg
        return v - add_v >= max(cfg.nvm_min_v, cfg.brownout_v + cfg.margin_v)

    def mac_affordable(self, budgeted, source):
        """May the security module compute a record MAC now, for a write on `source`? On mains
        always; on backup (also in the power-fail window) only where the MAC's pulse, on top of
        the write's, cannot bring the supply to any level the watch steers by (its comparator
        would end or hand over the watch): rather than end the watch, a MAC waits for the
        restore."""
        if not budgeted and self.supply.mains():
            return True  # outside the watch the MAC costs backup nothing only with mains there
        b = self.budget
        cfg = self.cfg
        if self.on_battery:
            # The MAC is computed on the battery, before a supercapacitor assist switches in.
            load = cfg.active_a + cfg.mac_a + (cfg.nvm_write_a if source == SRC_MCU else 0.0)
            floor = max(max(cfg.brownout_v, cfg.nvm_min_v) + cfg.margin_v,
                        cfg.battery_undervoltage_v, b.battery_end_v)
            if self.supply.battery_v() - load * self.budget.battery_pulse_ohm < floor:
                return False
            if source == SRC_MCU:
                return True
        v = self.supply.supercap_v() if source == SRC_SUPERCAP else self.supply.backup_v()
        return v - cfg.nvm_write_a * b.esr >= b.watch_floor_v + b.mac_need_v

    def begin_assist(self):
        self.supply.use_supercap(True)

    def end_assist(self):
        if self.on_battery:
            self.supply.use_supercap(False)

    def report_affordable(self, budgeted, writes_affordable):
        """May a report go out now? A module with its own storage costs the meter nothing; on
        the battery design the module draws on the supercapacitor, whose charge is there for it
        (the module must stay above its brown-out through the ESR drop); on the supercapacitor
        the watch keeps its reserve."""
        cfg = self.cfg
        if cfg.radio_own_storage or not budgeted:
            return True
        if cfg.supply_mode == SUPPLY_BATTERY_ONLY:
            return False  # nothing powers the module on backup
        b = self.budget
        floor_v = cfg.brownout_v + cfg.margin_v
        if self.on_battery:
            # The module is the supercapacitor's whole task while the battery carries the MCU.
            return self.supply.supercap_v() - b.report_need_v >= floor_v
        v = self.supply.backup_v()
        floor = b.write_floor_v if writes_affordable else 0.0
        return v - b.report_need_v >= max(floor_v, floor, b.watch_floor_v)
