"""The discrete-event kernel: orders events, fast-forwards idle ticks, runs the firmware.

It owns time (integer µs), the event queue with lazy deletion, the scenario's schedule and
fault injection, the firmware's timers and the fast-forward of idle periodic ticks (charged as
their average current). What happens to the board and the MCU's life (boot, death, wakes) is
board_life.py's, the peripherals' work that a power cut can land inside (NVM page writes,
radio bursts, record MACs) peripherals.py's: mix-ins of this class. Physics is hardware's (the
supply path, the parts, the EEPROM, the RTC), behaviour the firmware's; the metering truth, the
log's shapes and the trace have modules of their own in sim/.

Observers (``Kernel(..., observers=[...])``) see every interval between events with the supply
as it stood (``segment(t0_us, t1_us, supply)``), to account energy without changing anything.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from typing import Protocol

from meterseal.firmware import states as st
from meterseal.firmware.hal import Board
from meterseal.firmware.layout import NVM_SIZE
from meterseal.firmware.recorder import Recorder
from meterseal.hardware.board import Bias, BoardParams, WakeMode
from meterseal.hardware.cover import bounce_edges
from meterseal.hardware.esam import Esam
from meterseal.hardware.nvm import Eeprom
from meterseal.hardware.rtc import Rtc, local_ms_from_datetime
from meterseal.hardware.supply import SupplyPath
from meterseal.sim import ports
from meterseal.sim.board_life import BoardLife
from meterseal.sim.design import firmware_config
from meterseal.sim.events import (
    E_BOOT,
    E_CROSS,
    E_CUT,
    E_END,
    E_MAINS_OFF,
    E_MAINS_ON,
    E_PIN,
    E_TIMER,
    E_WAKE_END,
    GLITCH_OFF,
    GLITCH_ON,
    TERMINAL_PIN,
)
from meterseal.sim.metering import EnergyTruth
from meterseal.sim.peripherals import Peripherals
from meterseal.sim.runlog import OutageLog, RunLog
from meterseal.sim.scenario import CoverOp, Scenario

STATE_DORMANT = "DORMANT"
class Observer(Protocol):
    def segment(self, t0_us: int, t1_us: int, supply: SupplyPath) -> None: ...


class _Timer:
    __slots__ = ("anchor_us", "ff", "gen", "next_us", "period_us", "skipping")

    def __init__(self) -> None:
        self.gen = self.period_us = self.next_us = self.anchor_us = 0
        self.ff = self.skipping = False


class Kernel(BoardLife, Peripherals):
    def __init__(self, scenario: Scenario, *, fast_forward: bool = True, trace: bool = True,
                 observers: Sequence[Observer] = (), power_loss_at: int | None = None) -> None:
        self.scenario = scenario
        b = self.board_params = BoardParams.from_profile(scenario.profile)
        self.fast_forward = fast_forward
        self.tracing = trace
        self.observers = tuple(observers)
        self.rng = random.Random(scenario.seed)
        self.supply = SupplyPath(b)
        self.pulsed_irq = (b.bias == Bias.PULSED and b.wake_mode != WakeMode.POLLING
                           and b.bias_period_us > 0)
        start_local_ms = local_ms_from_datetime(scenario.start, b.utc_offset_h)
        self.rtc = Rtc(start_local_ms, b.rtc_drift_ppm, 0)
        # power_loss_at: the EEPROM's own counter cuts power inside its N-th write (a sweep).
        self.eeprom = Eeprom(size=NVM_SIZE, page_size=b.nvm_page_size,
                             power_loss_at=power_loss_at)
        self.energy = EnergyTruth.of_loads(scenario.loads,
                                           [(o.at_us, o.end_us) for o in scenario.outages])
        self.log = RunLog(scenario.duration_us, start_local_ms, b.utc_offset_h, self.energy,
                          redistribution=self.supply.branch)
        self.fw_cfg = firmware_config(b)
        self.t = 0
        self.pf_flag = False  # the power-fail comparator's output
        self.outage_gen = self.wake_gen = self.nvm_gen = self.cross_gen = self.radio_gen = 0
        # Generations of timers are unique over the whole run, not per life: a tick the previous
        # life queued must never match a timer of the next one.
        self.timer_gen = 0
        self.pin = 1  # what the MCU reads: the switch, inverted while a glitch lasts
        self.switch_level = 1  # the switch's own contact
        self.glitch_depth = 0
        self.terminal_pin = 1  # the terminal cover's switch (1 = closed), where the board has one
        self.terminal_bias_on = self.terminal_wake = False
        self.mcu_alive = self.active = self.bias_on = self.cover_wake = False
        self.sc_switch = True  # battery-first: supercapacitor on the MCU's supply (normally on)
        self.mcu_active_until = 0
        self.alarm_v: float | None = None
        self.nvm_busy = self.radio_busy = False
        self.eventout_level = 0  # the EVENTOUT line to the communication module
        self.radio_phase_a = 0.0
        self.radio_frame = b""
        self.retained = b""
        self.latch_ms: int | None = None
        self.timers: dict[int, _Timer] = {}
        self.periodic_open: dict[int, tuple[int, int]] = {}
        self.fw: Recorder | None = None
        self.alive_since = 0
        self.current_outage: OutageLog | None = None
        self.rtc_invalid_since: int | None = None
        self.skip_avg_a = 0.0
        self.boot_energy = (0, 0)  # true energy at the last boot: the metering IC counts from it
        self._cross_t = -1
        self._cross_n = 0
        self.q: list[tuple[int, int, int, int, int]] = []
        self.seq = 0
        self.mac_active = False  # the security module computes a record MAC (until the wake ends)
        self.esam = Esam(bytes.fromhex(b.security_key_hex)) if b.record_mac else None
        self.board = Board(ports.Clock(self), ports.Cover(self), ports.Supply(self),
                           ports.Timers(self), ports.Power(self), ports.Nvm(self),
                           ports.Retained(self), ports.Radio(self), ports.Metering(self),
                           ports.EventOut(self),
                           terminal=ports.TerminalCover(self) if b.terminal_cover else None,
                           security=ports.Security(self) if b.record_mac else None)
        self._schedule_scenario()

    # ------------------------------------------------------------------ queue and run

    def push(self, t: int, kind: int, arg: int = 0, gen: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.q, (t, kind, self.seq, arg, gen))

    def _schedule_scenario(self) -> None:
        sc = self.scenario
        for k, o in enumerate(sc.outages):
            if o.at_us <= sc.duration_us:
                self.push(o.at_us, E_MAINS_OFF, k)
                self.push(o.end_us, E_MAINS_ON)
        for t, level in self._switch_edges(sc.cover):
            self.push(t, E_PIN, level)
        if self.board_params.terminal_cover:  # else no switch moves with that cover
            for t, level in self._switch_edges(sc.terminal_cover):
                self.push(t, E_PIN, TERMINAL_PIN + level)
        for f in sc.faults:
            if f.kind == "power-cut":
                self.push(f.at_us, E_CUT)
            for a, b in f.glitches():
                self.push(a, E_PIN, GLITCH_ON)
                self.push(b, E_PIN, GLITCH_OFF)
        self.push(0, E_BOOT)
        self.push(sc.duration_us, E_END)

    def _switch_edges(self, ops: Sequence[CoverOp]) -> list[tuple[int, int]]:
        """The pin edges of every operation of one cover's switch, contact bounce included. A
        transition's bounce ends before the next transition starts: the contact cannot still be
        bouncing from the opening once the cover has closed (else two trains interleave and the
        pin can end on the wrong level)."""
        transitions: list[tuple[int, int]] = []
        for op in ops:
            if op.held:
                continue  # the switch never moves: a tool holds it pressed
            transitions.append((op.open_us, 0))
            if op.close_us is not None:
                transitions.append((op.close_us, 1))
        bounce_us = self.board_params.bounce_us
        edges: list[tuple[int, int]] = []
        for k, (t, level) in enumerate(transitions):
            room = bounce_us
            if k + 1 < len(transitions):
                room = min(room, max(transitions[k + 1][0] - t - 1, 0))
            edges.extend(bounce_edges(t, level, room * 1e-6, self.rng))
        return edges

    def run(self) -> RunLog:
        q = self.q
        pop = heapq.heappop
        end = self.scenario.duration_us
        handlers = (self._mains_on, self._mains_off, self._pin, self._cover_irq, self._pf_trip,
                    self._bulk_end, self._cut, self._boot, self._nvm_done, self._radio_done,
                    self._wake_end, self._timer, self._cross)
        events = 0
        while q:
            t, kind, _, arg, gen = pop(q)
            if t > end:
                break
            # Lazy deletion: superseded crossings, wakes and timers are dropped unseen.
            if kind == E_CROSS:
                if gen != self.cross_gen:
                    continue
            elif kind == E_WAKE_END:
                if gen != self.wake_gen:
                    continue
            elif kind == E_TIMER:
                tm = self.timers.get(arg)
                if tm is None or tm.gen != gen:
                    continue
            self._advance(t)
            if kind == E_END:
                break
            events += 1
            handlers[kind](arg, gen)
            if self.tracing:
                self._trace_row()
        self._advance(end)
        self._finish()
        self.log.events = events
        return self.log

    def close_periodic(self, tid: int | None = None) -> None:
        for k in [tid] if tid is not None else list(self.periodic_open):
            entry = self.periodic_open.pop(k, None)
            if entry is not None:
                self.log.periodic.append((entry[0], entry[1], self.t))

    def _finish(self) -> None:
        self.close_periodic()
        log = self.log
        if self.mcu_alive:
            log.alive.append((self.alive_since, self.t))
        if self.rtc_invalid_since is not None:
            log.rtc_invalid.append((self.rtc_invalid_since, self.t))
        if self.current_outage is not None:
            log.outages.append(self.current_outage)
        log.final_image = self.eeprom.image()
        log.final_retained = self.retained
        if self.tracing:
            self._trace_row()

    def _trace_row(self) -> None:
        fw = self.fw
        name = st.STATE_NAMES[fw.state] if (fw is not None and self.mcu_alive) else STATE_DORMANT
        s = self.supply
        # Negative while charging: the charger's current at this instant goes into the capacitor.
        load = s.i_sc - s.charge_current_a()
        self.log.trace.append((self.t, s.v, s.battery.ocv_v(), load, name, s.vd))

    # ------------------------------------------------------------------ physics between events

    def _advance(self, t: int) -> None:
        s = self.supply
        if self.observers and t > s.v_t:
            for obs in self.observers:
                obs.segment(s.v_t, t, s)
        s.advance(t)
        self.t = t

    def update_loads(self) -> None:
        """Which source feeds which load now; then the next supply crossing."""
        L = self.board_params.loads
        alive = self.mcu_alive
        self.supply.set_loads(
            alive,
            L.sleep_a,
            (L.pullup_a if (self.bias_on and self.pin == 1) else 0.0)
            + (L.pullup_a if (self.terminal_bias_on and self.terminal_pin == 1) else 0.0),
            (L.active_a if self.active else 0.0) + self.skip_avg_a,
            L.nvm_write_a if self.nvm_busy else 0.0,
            self.radio_phase_a if self.radio_busy else 0.0,
            self.sc_switch,
            L.nvm_standby_a + L.ir_receiver_a,
            L.mac_a if self.mac_active else 0.0,
        )
        self.schedule_crossing()

    def schedule_crossing(self) -> None:
        self.cross_gen += 1
        out = self.current_outage
        dt, what = self.supply.next_crossing(
            self.mcu_alive, self.alarm_v, self.rtc.running,
            out is not None and out.brownout_us is None)
        if what >= 0 and dt < 1e12:
            self.push(self.t + math.ceil(dt * 1e6), E_CROSS, what, self.cross_gen)

    # ------------------------------------------------------------------ timers and shutdown

    def start_timer(self, tid: int, delay_us: int, period_us: int, ff: bool) -> None:
        tm = self.timers.get(tid)
        if tm is None:
            tm = self.timers[tid] = _Timer()
        was_skipping = tm.skipping
        self.timer_gen += 1
        tm.gen = self.timer_gen
        tm.period_us = period_us
        tm.next_us = tm.anchor_us = self.t + delay_us
        tm.ff = ff
        tm.skipping = False
        self.push(tm.next_us, E_TIMER, tid, tm.gen)
        self.close_periodic(tid)
        if period_us:
            self.periodic_open[tid] = (tm.anchor_us, period_us)
        if was_skipping:
            self._skip_energy_changed()

    def stop_timer(self, tid: int) -> None:
        tm = self.timers.pop(tid, None)
        self.close_periodic(tid)
        if tm is not None:
            self.timer_gen += 1
            tm.gen = self.timer_gen
            if tm.skipping:
                tm.skipping = False
                self._skip_energy_changed()

    def shutdown(self) -> None:
        """The firmware ended its watch: the MCU powers off; that instant is its watch_until."""
        out = self.current_outage
        if out is not None and out.watch_until_us is None:
            out.watch_until_us = self.t
        self._die()

    # ------------------------------------------------------------------ fast-forward

    def _timer(self, tid: int, gen: int) -> None:
        tm = self.timers.get(tid)
        if tm is None or tm.gen != gen or not self.mcu_alive or self.fw is None:
            return
        self.log.ticks_fired += 1
        idle = self._call(self.fw.on_timer, tid)
        tm2 = self.timers.get(tid)
        if tm2 is not tm or tm.gen != gen or tm.period_us == 0:
            return
        tm.next_us = self.t + tm.period_us
        if idle and tm.ff and self.fast_forward:
            tm.skipping = True
            self._skip_energy_changed()
        else:
            self.push(tm.next_us, E_TIMER, tid, tm.gen)

    def _resume_skipping(self) -> None:
        changed = False
        for tid, tm in self.timers.items():
            if tm.skipping:
                k = -(-(self.t - tm.anchor_us) // tm.period_us)
                nxt = tm.anchor_us + k * tm.period_us
                self.log.ticks_skipped += max(0, (nxt - tm.next_us) // tm.period_us)
                tm.next_us = nxt
                tm.skipping = False
                self.push(nxt, E_TIMER, tid, tm.gen)
                changed = True
        if changed:
            self._skip_energy_changed()

    def _skip_energy_changed(self) -> None:
        """Skipped ticks still cost their wakes: charge them as an average current."""
        avg = 0.0
        if not self.supply.on_rail:
            wake_charge = self.board_params.loads.active_a * self.board_params.wake_us
            for tm in self.timers.values():
                if tm.skipping and tm.period_us > 0:
                    avg += wake_charge / tm.period_us
        if avg != self.skip_avg_a:
            self.skip_avg_a = avg
            self.update_loads()
