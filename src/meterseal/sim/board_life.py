"""What happens to the board: mains, the cover pin, faults, supply crossings, the MCU's life.

The half of the kernel that reacts to the physical world, kept apart from the half that orders
events and runs the firmware's ports (kernel.py, peripherals.py): mains falling (the power-fail
comparator, the bulk capacitor's hold-up) and returning, the cover switch's edges (an
interrupt, or a hardware sampler at the bias pulses), power cuts, the supply reaching a level
(brown-out, the firmware's comparator, the RTC's minimum), and the MCU booting, waking and
dying (a write in progress is torn). A mix-in of Kernel: it works on the kernel's state and
queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meterseal.firmware.image import saved_state
from meterseal.firmware.recorder import Recorder
from meterseal.hardware.supply import (
    X_ALARM,
    X_BATTERY_UV,
    X_BROWNOUT,
    X_KEYS,
    X_NAMES,
    X_RTC_MIN,
    X_SUPPLY_BROWNOUT,
)
from meterseal.sim.events import (
    E_BULK_END,
    E_COVER_IRQ,
    E_PF_TRIP,
    E_WAKE_END,
    GLITCH_OFF,
    GLITCH_ON,
    TERMINAL_PIN,
)
from meterseal.sim.runlog import OutageLog
from meterseal.sim.scenario import ScenarioError

if TYPE_CHECKING:
    from meterseal.sim.kernel import Kernel

# More crossings than this at one instant means a level the physics re-arms without moving:
# a boundary bug, reported, never looped on.
MAX_CROSSINGS_PER_INSTANT = 64


class SimulationError(ScenarioError):
    """A scenario the simulator cannot carry through (names the event and the profile keys)."""


class BoardLife:
    # The RTC's count when the cover pin fell to open (None: the clock was not running), and
    # when it last rose. The tamper latch is the battery domain's, armed whether or not the MCU
    # runs: an edge the MCU was still debouncing when it died is the latch's to keep. A fall
    # within the bounce of a rise is that closing's contact bounce, not an opening.
    fell_ms: int | None = None
    rose_us: int = 0

    # ------------------------------------------------------------------ scenario events

    def _mains_off(self: Kernel, k: int, _gen: int) -> None:
        s = self.supply
        s.mains = False
        self.outage_gen += 1
        idx = len(self.log.outages) + (1 if self.current_outage else 0)
        if self.current_outage is not None:
            self.log.outages.append(self.current_outage)
        end = self.scenario.outages[k].end_us
        self.current_outage = OutageLog(idx, self.t, end, s.v, s.battery.ocv_v())
        self.push(self.t + self.board_params.pf_us, E_PF_TRIP, 0, self.outage_gen)
        self.push(self.t + self.board_params.bulk_us, E_BULK_END, 0, self.outage_gen)
        self.update_loads()

    def _pf_trip(self: Kernel, _arg: int, gen: int) -> None:
        if gen != self.outage_gen or self.supply.mains:
            return
        self.pf_flag = True
        if self.mcu_alive and self.fw is not None:
            self._call(self.fw.on_power_fail)

    def _bulk_end(self: Kernel, _arg: int, gen: int) -> None:
        if gen != self.outage_gen or self.supply.mains:
            return
        self.supply.on_rail = False
        self._skip_energy_changed()
        self.update_loads()
        self._note_unwritable()

    def _mains_on(self: Kernel, _arg: int, _gen: int) -> None:
        self.supply.mains = self.supply.on_rail = True
        self.outage_gen += 1
        was_tripped, self.pf_flag = self.pf_flag, False
        if not self.rtc.running:
            self.rtc.start(self.t)
        self.update_loads()
        if self.mcu_alive and self.fw is not None:
            if was_tripped:
                self._call(self.fw.on_power_good)
        else:
            self._boot(0, 0)

    def _pin(self: Kernel, arg: int, _gen: int) -> None:
        if arg >= TERMINAL_PIN:
            self._terminal_pin(arg - TERMINAL_PIN)
            return
        if arg == GLITCH_ON:
            self.glitch_depth += 1
        elif arg == GLITCH_OFF:
            self.glitch_depth -= 1
        else:
            self.switch_level = arg
        level = self.switch_level ^ (1 if self.glitch_depth > 0 else 0)
        if level == self.pin:
            return
        self.pin = level
        on_rail = self.supply.on_rail
        if self.board_params.tamper_latch:
            if level == 1:
                self.rose_us = self.t
            elif self.fell_ms is None or self.t - self.rose_us > self.board_params.bounce_us:
                self.fell_ms = self.rtc.read(self.t)[0] if self.rtc.running else None
        self._note_unwritable()
        if not self.mcu_alive:
            if (self.board_params.tamper_latch and level == 0 and self.latch_ms is None
                    and self.rtc.running and self.supply.retained_survives()):
                self.latch_ms = self.rtc.read(self.t)[0]
            if not on_rail:
                self.update_loads()
            return
        self._resume_skipping()
        if self.cover_wake and not on_rail and self.pulsed_irq:
            # A hardware sampler sees the pin only at its bias pulses.
            period = self.board_params.bias_period_us
            self.push(-(-self.t // period) * period, E_COVER_IRQ)
        elif self.cover_wake:
            self._cover_irq(0, 0)
        if not on_rail:
            self.update_loads()

    def _terminal_pin(self: Kernel, level: int) -> None:
        """The terminal cover's switch moved: the same wake-up as the meter cover's (its own
        pin, armed with it), no tamper latch."""
        if level == self.terminal_pin:
            return
        self.terminal_pin = level
        on_rail = self.supply.on_rail
        if self.mcu_alive:
            self._resume_skipping()
            if self.terminal_wake and not on_rail and self.pulsed_irq:
                period = self.board_params.bias_period_us
                self.push(-(-self.t // period) * period, E_COVER_IRQ)
            elif self.terminal_wake:
                self._cover_irq(0, 0)
        if not on_rail:
            self.update_loads()

    def _cover_irq(self: Kernel, _arg: int, _gen: int) -> None:
        if self.mcu_alive and (self.cover_wake or self.terminal_wake) and self.fw is not None:
            self._call(self.fw.on_cover_edge)

    def _cut(self: Kernel, _arg: int, _gen: int) -> None:
        """A power cut at an exact instant: the MCU and the EEPROM lose power, then boot again."""
        if self.mcu_alive:
            self._die()
        if self.supply.on_rail or self.supply.mcu_terminal_v() > self.board_params.brownout_v:
            self._boot(0, 0)

    # ------------------------------------------------------------------ MCU life

    def _boot(self: Kernel, _arg: int, _gen: int) -> None:
        s = self.supply
        if self.mcu_alive:
            return
        if not s.on_rail and s.mcu_terminal_v() <= self.board_params.brownout_v:
            return
        if self.fw is not None and self.nvm_busy:
            self._tear()
        self.mcu_alive = True
        self.alive_since = self.t
        self.log.boots.append(self.t)
        self._note_register_offset()
        self._reset_mcu_state()
        self.fw = Recorder(self.board, self.fw_cfg)
        self.update_loads()
        self._note_unwritable()
        self._call(self.fw.boot)

    def _die(self: Kernel) -> None:
        """The MCU loses its supply (brown-out, power cut) or shut itself down."""
        if not self.mcu_alive:
            return
        if self.nvm_busy:
            self._tear()
        self.mcu_alive = False
        self.set_eventout(0)  # an unpowered MCU drives no line
        self.log.alive.append((self.alive_since, self.t))
        self.fw = None
        self.close_periodic()
        self._reset_mcu_state()
        self.wake_gen += 1
        if not self.supply.retained_survives():
            self._lose_retained()
        elif (self.board_params.tamper_latch and self.pin == 0 and self.latch_ms is None
              and self.fell_ms is not None and self.rtc.running):
            # The cover is open as the MCU dies: the latch holds the edge it fell on. Armed only
            # from now on, it would wait for the next falling edge, and a closing's contact
            # bounce is one: the opening would be filed at the closing (campaign 2026 #45013).
            # A boot that already knew the cover open discards it.
            self.latch_ms = self.fell_ms
        self.update_loads()

    def _reset_mcu_state(self: Kernel) -> None:
        self.timers = {}
        self.alarm_v = None
        self.cover_wake = self.bias_on = self.radio_busy = self.active = False
        self.terminal_wake = self.terminal_bias_on = False
        self.radio_gen += 1  # a burst in flight dies with this life
        self.sc_switch = True  # the switch's resting state: its gate is no longer driven
        self.skip_avg_a = 0.0

    def _tear(self: Kernel) -> None:
        addr, _data = self.eeprom.pending_write()
        left = self.eeprom.tear_write(self.rng)
        self.nvm_busy = False
        self.nvm_gen += 1
        self.log.torn_writes += 1
        self.log.writes.append((self.t, addr, left))

    def _note_register_offset(self: Kernel) -> None:
        """At boot the firmware's registers restart from what it last saved: the energy
        measured since then is lost to it (only a power cut can cause that)."""
        state = saved_state(self.eeprom.read)
        saved = (0, 0) if state is None else (state.import_mwh, state.export_mwh)
        true_imp, true_exp = self.energy.mwh(self.t)
        self.boot_energy = (true_imp, true_exp)
        self.log.register_offsets.append((self.t, true_imp - saved[0], true_exp - saved[1]))

    def _call(self: Kernel, handler, *args):  # type: ignore[no-untyped-def]
        """Run one firmware handler; on backup each run is a wake: active current for wake_s."""
        if not self.supply.on_rail and self.mcu_alive:
            end = self.t + self.board_params.wake_us
            if end > self.mcu_active_until:
                self.mcu_active_until = end
                self.wake_gen += 1
                self.push(end, E_WAKE_END, 0, self.wake_gen)
            if not self.active:
                self.active = True
                self.update_loads()
        return handler(*args)

    def _wake_end(self: Kernel, _arg: int, gen: int) -> None:
        if gen != self.wake_gen:
            return
        self.active = self.mac_active = False
        if self.mcu_alive:
            self.update_loads()

    def _cross(self: Kernel, what: int, gen: int) -> None:
        if gen != self.cross_gen:
            return
        self._guard_crossing(what)
        out = self.current_outage
        if what == X_BROWNOUT or what == X_SUPPLY_BROWNOUT:
            if out is not None and out.brownout_us is None:
                out.brownout_us = self.t
                if out.watch_until_us is None and what == X_BROWNOUT:
                    out.watch_until_us = self.t
            if what == X_BROWNOUT:
                self._die()
                return
        elif what == X_ALARM:
            self.alarm_v = None
            self.update_loads()
            if self.fw is not None:
                self._call(self.fw.on_supply_alarm)
            return
        elif what == X_RTC_MIN:
            self.rtc.stop(self.t)
            if self.rtc_invalid_since is None:
                self.rtc_invalid_since = self.t
            if out is not None and out.rtc_stopped_us is None:
                out.rtc_stopped_us = self.t
        elif what == X_BATTERY_UV and not self.mcu_alive and not self.supply.retained_survives():
            self._lose_retained()
        self.update_loads()

    def _note_unwritable(self: Kernel) -> None:
        """Log the instant if the MCU is awake on backup and no page write could run now: the
        oracle's evidence that what was seen from here on could only wait in retained RAM.

        "Could run" keeps the design's brown-out margin (firmware.write_margin_v), as the
        firmware's last-resort try does: the margin is what stands between a write's pulse and
        a brown-out the firmware cannot see coming (its ADC's error, its worst-case part
        figures), and a write inside it is one the board's design forbids, not one it missed."""
        if self.mcu_alive and not self.supply.on_rail and not self.supply.page_write_fits(
                self.board_params.write_margin_v):
            self.log.unwritable.append(self.t)

    def _lose_retained(self: Kernel) -> None:
        """Retained RAM lost its supply with the MCU off: whatever waited in it is gone."""
        self.retained = b""
        self.log.retained_lost.append(self.t)

    def _guard_crossing(self: Kernel, what: int) -> None:
        if self.t != self._cross_t:
            self._cross_t, self._cross_n = self.t, 0
        self._cross_n += 1
        if self._cross_n > MAX_CROSSINGS_PER_INSTANT:
            raise SimulationError(
                f"the {X_NAMES[what]} crossing re-armed {self._cross_n} times at "
                f"{self.t / 1e6:.6f} s without the supply moving: the board sits exactly on a "
                f"boundary the model cannot resolve (profile keys: {', '.join(X_KEYS[what])})")
