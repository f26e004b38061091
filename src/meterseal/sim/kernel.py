"""The discrete-event kernel: orders events, keeps the board's physical state, runs the firmware.

It owns time (integer µs), the event queue, the supply path's state between events (closed-form
voltages from hardware.rc, no fixed step), which load draws from which source, the fast-forward
of idle periodic ticks, fault injection and the trace. Physics formulas live in hardware/,
behaviour in firmware/: the kernel only wires them together and records what happened.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from meterseal.firmware import states as st
from meterseal.firmware.config import WAKE_INTERRUPT, WAKE_POLLING, FirmwareConfig
from meterseal.firmware.hal import Board
from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import FREE_BASE_PAGE, PAGE_SIZE
from meterseal.firmware.recorder import Recorder
from meterseal.firmware.report import decode_report
from meterseal.hardware.battery import Battery
from meterseal.hardware.cover import bounce_edges
from meterseal.hardware.nvm import Eeprom
from meterseal.hardware.parts import charge_path_ohm, effective_loads, effective_supercap
from meterseal.hardware.rc import steady_and_tau, time_to_voltage, voltage_after
from meterseal.hardware.rtc import Rtc, local_ms_from_datetime
from meterseal.sim import ports
from meterseal.sim.scenario import Scenario

# Event kinds, in the order they are handled when they share an instant.
E_MAINS_ON = 0
E_MAINS_OFF = 1
E_PIN = 2
E_COVER_IRQ = 3
E_PF_TRIP = 4
E_BULK_END = 5
E_CUT = 6
E_BOOT = 7
E_NVM_DONE = 8
E_RADIO_DONE = 9
E_WAKE_END = 10
E_TIMER = 11
E_CROSS = 12
E_END = 13

# What a supply crossing means.
X_BROWNOUT = 0
X_ALARM = 1
X_RTC_MIN = 2
X_BATTERY_UV = 3
X_DIODE_OVER = 4
X_SUPPLY_BROWNOUT = 5  # the MCU is off, but the instant its supply crosses brown-out is reported

USED_NVM_BYTES = FREE_BASE_PAGE * PAGE_SIZE
STATE_DORMANT = "DORMANT"


@dataclass(slots=True)
class OutageLog:
    """What the board went through in one outage (the `backup` entries of the result)."""

    index: int
    from_us: int
    to_us: int
    supercap_v: float
    battery_v: float
    watch_until_us: int | None = None
    brownout_us: int | None = None
    rtc_stopped_us: int | None = None


@dataclass(slots=True)
class RunLog:
    """Everything the kernel observed; the oracle judges from this and the NVM image only."""

    t_end_us: int
    start_local_ms: int
    utc_offset_h: float
    snapshots: list[tuple[int, bytes]] = field(default_factory=list)
    reports: list[tuple[int, int, int, str]] = field(default_factory=list)  # t, kind, seq, on
    outages: list[OutageLog] = field(default_factory=list)
    alive: list[tuple[int, int]] = field(default_factory=list)  # MCU powered intervals
    boots: list[int] = field(default_factory=list)
    # Periodic firmware timers as the board ran them: (first tick, period, stopped at).
    periodic: list[tuple[int, int, int]] = field(default_factory=list)
    rtc_invalid: list[tuple[int, int]] = field(default_factory=list)
    register_offsets: list[tuple[int, int, int]] = field(default_factory=list)
    energy_steps: list[tuple[int, float, float]] = field(default_factory=list)
    trace: list[tuple[int, float, float, float, str]] = field(default_factory=list)
    events: int = 0
    ticks_fired: int = 0
    ticks_skipped: int = 0
    final_image: bytes = b""
    final_retained: bytes = b""  # retained RAM at the end (what waits to be written)
    torn_writes: int = 0


class _Timer:
    __slots__ = ("anchor_us", "ff", "gen", "next_us", "period_us", "skipping")

    def __init__(self) -> None:
        self.gen = 0
        self.period_us = 0
        self.next_us = 0
        self.anchor_us = 0
        self.ff = False
        self.skipping = False


class Kernel:
    def __init__(self, scenario: Scenario, *, fast_forward: bool = True, trace: bool = True,
                 power_loss_at: int | None = None):
        self.scenario = scenario
        p = scenario.profile
        self.p = p
        self.fast_forward = fast_forward
        self.tracing = trace
        self.rng = random.Random(scenario.seed)
        cap = effective_supercap(p)
        self.c_f = cap.capacitance_f
        self.esr = cap.esr_ohm
        self.r_leak = cap.leakage_ohm
        self.loads = effective_loads(p)
        self.topology = str(p["supply.topology"])
        self.charge_v = float(p["supercap.charge_source_v"])
        self.charge_r = charge_path_ohm(p)
        self.brownout_v = float(p["mcu.brownout_v"])
        self.rtc_min_v = float(p["rtc.min_voltage_v"])
        self.wake_us = max(1, round(float(p["mcu.wake_time_s"]) * 1e6))
        self.nvm_us = max(1, round(float(p["nvm.page_write_time_s"]) * 1e6))
        self.radio_us = max(1, round(float(p["radio.burst_s"]) * 1e6))
        self.bulk_us = round(float(p["supply.bulk_holdup_s"]) * 1e6)
        rail_v = float(p["supply.rail_v"])
        # The bulk capacitor under the PSU's load falls about linearly; the comparator trips
        # when the rail passes power_fail_v, and the MCU leaves the rail when it is spent.
        self.pf_us = round(self.bulk_us * (1.0 - float(p["supply.power_fail_v"]) / rail_v))
        self.pulsed = p["cover.bias"] == "pulsed"
        self.bias_period_us = round(float(p["cover.bias_period_s"]) * 1e6)
        self.polling = p["mcu.wake_mode"] == "polling"
        self.latch_enabled = bool(p["cover.tamper_latch"])
        self.radio_present = bool(p["radio.present"])
        self.battery = Battery.from_profile(p)
        self.battery_uv = float(p["battery.undervoltage_v"])
        offset_h = float(p["meter.utc_offset_h"])
        start_local_ms = local_ms_from_datetime(scenario.start, offset_h)
        self.rtc = Rtc.from_profile(p, start_local_ms, 0)
        self.eeprom = Eeprom(size=32768, page_size=int(p["nvm.page_size"]),
                             power_loss_at=power_loss_at)
        self.log = RunLog(scenario.duration_us, start_local_ms, offset_h)
        self.fw_cfg = firmware_config(p)

        # Physical state.
        self.t = 0
        # The meter has been on mains long before the scenario: the supercap sits at the
        # divider of its charge resistor and its leakage.
        self.v = steady_and_tau(self.c_f, self.r_leak, 0.0, self.charge_v, self.charge_r)[0]
        self.v_t = 0
        self.mains = True
        self.on_rail = True
        self.pf_flag = False  # the power-fail comparator's output
        self.outage_gen = 0
        self.pin = 1
        self.mcu_alive = False
        self.mcu_active_until = 0
        self.active = False
        self.wake_gen = 0
        self.bias_on = False
        self.cover_wake = False
        self.alarm_v: float | None = None
        self.nvm_busy = False
        self.nvm_gen = 0
        self.radio_busy = False
        self.radio_frame = b""
        self.retained = b""
        self.latch_ms: int | None = None
        self.timers: dict[int, _Timer] = {}
        self.periodic_open: dict[int, tuple[int, int]] = {}
        self.fw: Recorder | None = None
        self.alive_since = 0
        self.current_outage: OutageLog | None = None
        self.rtc_invalid_since: int | None = None
        self.register_offset = 0

        # Loads (recomputed by _update_loads).
        self.i_sc = 0.0
        self.i_batt = 0.0
        self.rtc_on_sc = False
        self.mcu_on_battery = False
        self.v_inf = 0.0
        self.tau = 1.0
        self.cross_gen = 0
        self.skip_avg_a = 0.0

        # Energy metering (truth): piecewise-constant power while mains is present.
        self.boot_energy = (0, 0)  # true energy at the last boot: the metering IC counts from it
        self.log.energy_steps = [(ld.at_us, ld.import_w, ld.export_w) for ld in scenario.loads]

        self.q: list[tuple[int, int, int, int, int]] = []
        self.seq = 0
        self.board = Board(
            ports.Clock(self),
            ports.Cover(self),
            ports.Supply(self),
            ports.Timers(self),
            ports.Power(self),
            ports.Nvm(self),
            ports.Retained(self),
            ports.Radio(self),
            ports.Metering(self),
        )
        self._schedule_scenario()

    # ------------------------------------------------------------------ queue

    def push(self, t: int, kind: int, arg: int = 0, gen: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.q, (t, kind, self.seq, arg, gen))

    def _schedule_scenario(self) -> None:
        sc = self.scenario
        for o in sc.outages:
            if o.at_us <= sc.duration_us:
                self.push(o.at_us, E_MAINS_OFF)
                self.push(o.end_us, E_MAINS_ON)
        bounce_s = float(self.p["cover.bounce_s"])
        for op in sc.cover:
            for t, level in bounce_edges(op.open_us, 0, bounce_s, self.rng):
                self.push(t, E_PIN, level)
            if op.close_us is not None:
                for t, level in bounce_edges(op.close_us, 1, bounce_s, self.rng):
                    self.push(t, E_PIN, level)
        for f in sc.faults:
            self.push(f.at_us, E_CUT)
        self.push(0, E_BOOT)
        self.push(sc.duration_us, E_END)

    # ------------------------------------------------------------------ run

    def run(self) -> RunLog:
        q = self.q
        pop = heapq.heappop
        end = self.scenario.duration_us
        handlers = (
            self._mains_on,
            self._mains_off,
            self._pin,
            self._cover_irq,
            self._pf_trip,
            self._bulk_end,
            self._cut,
            self._boot,
            self._nvm_done,
            self._radio_done,
            self._wake_end,
            self._timer,
            self._cross,
        )
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
        load = self.i_sc
        if self.mains:
            # The charger is a resistor from its source: its current (negative: into the
            # capacitor) at this instant.
            load -= (self.charge_v - self.v) / self.charge_r
        self.log.trace.append((self.t, self.v, self.battery.ocv_v(), load, name))

    # ------------------------------------------------------------------ physics between events

    def _advance(self, t: int) -> None:
        dt_us = t - self.v_t
        if dt_us > 0:
            dt = dt_us * 1e-6
            self.v = voltage_after(self.v, dt, self.v_inf, self.tau)
            if self.i_batt > 0.0:
                self.battery.advance(dt, self.i_batt)
            self.v_t = t
        self.t = t

    def _update_loads(self) -> None:
        """Which source feeds which load now; then the next supply crossing."""
        L = self.loads
        rail = self.on_rail
        mcu_i = 0.0
        if self.mcu_alive and not rail:
            mcu_i = L.sleep_a + (L.active_a if self.active else 0.0) + self.skip_avg_a
            if self.nvm_busy:
                mcu_i += L.nvm_write_a
            if self.radio_busy:
                mcu_i += L.radio_a
            if self.bias_on and self.pin == 1:
                mcu_i += L.pullup_a  # for pulsed bias, its average over the pulse period
        batt_ok = self.battery.present and self.battery.ocv_v() >= self.battery_uv
        rtc_i = 0.0 if rail else L.rtc_a
        i_sc = 0.0
        i_batt = 0.0
        topo = self.topology
        self.rtc_on_sc = False
        self.mcu_on_battery = False
        if topo == "supercap-only":
            i_sc = mcu_i + rtc_i
            self.rtc_on_sc = not rail
        elif topo == "battery+supercap":
            i_sc = mcu_i
            if batt_ok:
                i_batt = rtc_i
            else:
                i_sc += rtc_i
                self.rtc_on_sc = not rail
        else:  # diode-or: whichever is higher feeds everything
            if self.battery.present and self.battery.ocv_v() > self.v:
                i_batt = mcu_i + rtc_i
                self.mcu_on_battery = True
            else:
                i_sc = mcu_i + rtc_i
                self.rtc_on_sc = not rail
        self.i_sc = i_sc
        self.i_batt = i_batt
        if self.mains:
            self.v_inf, self.tau = steady_and_tau(
                self.c_f, self.r_leak, i_sc, self.charge_v, self.charge_r
            )
        else:
            self.v_inf, self.tau = steady_and_tau(self.c_f, self.r_leak, i_sc)
        self._schedule_crossing()

    def _schedule_crossing(self) -> None:
        self.cross_gen += 1
        if self.on_rail:
            return
        best = math.inf
        what = -1
        v = self.v
        drop = self.i_sc * self.esr
        cands: list[tuple[int, float]] = []
        if self.mcu_alive and not self.mcu_on_battery:
            cands.append((X_BROWNOUT, self.brownout_v + drop))
            if self.alarm_v is not None:
                cands.append((X_ALARM, self.alarm_v + drop))
        elif self.current_outage is not None and self.current_outage.brownout_us is None:
            cands.append((X_SUPPLY_BROWNOUT, self.brownout_v + drop))
        if self.rtc_on_sc and self.rtc.running:
            cands.append((X_RTC_MIN, self.rtc_min_v + drop))
        if self.topology == "diode-or" and not self.mcu_on_battery and self.battery.present:
            if v > self.battery.ocv_v():
                cands.append((X_DIODE_OVER, self.battery.ocv_v()))
        for kind, level in cands:
            dt = 0.0 if v <= level else time_to_voltage(v, level, self.v_inf, self.tau)
            if dt < best:
                best, what = dt, kind
        if self.i_batt > 0.0:
            if self.topology == "battery+supercap":
                dt = self.battery.time_to_ocv(self.battery_uv, self.i_batt)
                if dt < best:
                    best, what = dt, X_BATTERY_UV
            elif self.mcu_on_battery and self.mcu_alive:
                # diode-or with the battery carrying the MCU: its brown-out and the firmware's
                # low-voltage comparator watch the battery's terminal.
                for kind, level in ((X_BROWNOUT, self.brownout_v), (X_ALARM, self.alarm_v)):
                    if level is None:
                        continue
                    dt = self.battery.time_to_terminal_v(level, self.i_batt)
                    if dt < best:
                        best, what = dt, kind
        if what >= 0 and best < 1e12:
            self.push(self.t + math.ceil(best * 1e6), E_CROSS, what, self.cross_gen)

    # ------------------------------------------------------------------ scenario events

    def _mains_off(self, _arg: int, _gen: int) -> None:
        self.mains = False
        self.outage_gen += 1
        idx = len(self.log.outages) + (1 if self.current_outage else 0)
        if self.current_outage is not None:
            self.log.outages.append(self.current_outage)
        end = next((o.end_us for o in self.scenario.outages if o.at_us == self.t), self.t)
        self.current_outage = OutageLog(idx, self.t, end, self.v, self.battery.ocv_v())
        self.push(self.t + self.pf_us, E_PF_TRIP, 0, self.outage_gen)
        self.push(self.t + self.bulk_us, E_BULK_END, 0, self.outage_gen)
        self._update_loads()

    def _pf_trip(self, _arg: int, gen: int) -> None:
        if gen != self.outage_gen or self.mains:
            return
        self.pf_flag = True
        if self.mcu_alive and self.fw is not None:
            self._call(self.fw.on_power_fail)

    def _bulk_end(self, _arg: int, gen: int) -> None:
        if gen != self.outage_gen or self.mains:
            return
        self.on_rail = False
        self._skip_energy_changed()
        self._update_loads()

    def _mains_on(self, _arg: int, _gen: int) -> None:
        self.mains = True
        self.on_rail = True
        self.outage_gen += 1
        was_tripped = self.pf_flag
        self.pf_flag = False
        if not self.rtc.running:
            self.rtc.start(self.t)
        self._update_loads()
        if self.mcu_alive and self.fw is not None:
            if was_tripped:
                self._call(self.fw.on_power_good)
        else:
            self._boot(0, 0)

    def _pin(self, level: int, _gen: int) -> None:
        self.pin = level
        if not self.mcu_alive:
            if (
                self.latch_enabled
                and level == 0
                and self.latch_ms is None
                and self.rtc.running
                and self._retained_survives()
            ):
                self.latch_ms = self.rtc.read(self.t)[0]
            if not self.on_rail:
                self._update_loads()
            return
        self._resume_skipping()
        if self.cover_wake and not self.on_rail:
            if self.pulsed and not self.polling and self.bias_period_us > 0:
                # A hardware sampler sees the pin only at its bias pulses.
                k = -(-self.t // self.bias_period_us)
                self.push(k * self.bias_period_us, E_COVER_IRQ)
            else:
                self._cover_irq(0, 0)
        elif self.cover_wake:
            self._cover_irq(0, 0)
        if not self.on_rail:
            self._update_loads()

    def _cover_irq(self, _arg: int, _gen: int) -> None:
        if self.mcu_alive and self.cover_wake and self.fw is not None:
            self._call(self.fw.on_cover_edge)

    def _cut(self, _arg: int, _gen: int) -> None:
        """A power cut at an exact instant: the MCU and the EEPROM lose power, then boot again."""
        if self.mcu_alive:
            self._die()
        if self.on_rail or self._backup_terminal_v() > self.brownout_v:
            self._boot(0, 0)

    # ------------------------------------------------------------------ MCU life

    def _backup_terminal_v(self) -> float:
        if self.mcu_on_battery:
            return self.battery.terminal_v(self.i_batt)
        return self.v - self.i_sc * self.esr

    def _retained_survives(self) -> bool:
        return (
            self.topology != "supercap-only"
            and self.battery.present
            and self.battery.ocv_v() >= self.battery_uv
        )

    def _boot(self, _arg: int, _gen: int) -> None:
        if self.mcu_alive:
            return
        if not self.on_rail and self._backup_terminal_v() <= self.brownout_v:
            return
        if self.fw is not None and self.nvm_busy:
            self._tear()
        self.mcu_alive = True
        self.alive_since = self.t
        self.log.boots.append(self.t)
        self._note_register_offset()
        self.timers = {}
        self.alarm_v = None
        self.cover_wake = False
        self.bias_on = False
        self.radio_busy = False
        self.active = False
        self.skip_avg_a = 0.0
        self.fw = Recorder(self.board, self.fw_cfg)
        self._update_loads()
        self._call(self.fw.boot)

    def _die(self) -> None:
        """The MCU loses its supply (brown-out, power cut) or shut itself down."""
        if not self.mcu_alive:
            return
        if self.nvm_busy:
            self._tear()
        self.mcu_alive = False
        self.log.alive.append((self.alive_since, self.t))
        self.fw = None
        self.close_periodic()
        self.timers = {}
        self.alarm_v = None
        self.cover_wake = False
        self.bias_on = False
        self.radio_busy = False
        self.active = False
        self.skip_avg_a = 0.0
        self.wake_gen += 1
        if not self._retained_survives():
            self.retained = b""
        self._update_loads()

    def _tear(self) -> None:
        self.eeprom.tear_write(self.rng)
        self.nvm_busy = False
        self.nvm_gen += 1
        self.log.torn_writes += 1
        self.log.snapshots.append((self.t, self.eeprom.read(0, USED_NVM_BYTES)))

    def _note_register_offset(self) -> None:
        """At boot the firmware's registers restart from what it last saved: the energy
        measured since then is lost to it (only a power cut can cause that)."""
        img = decode_image(self.eeprom.read(0, USED_NVM_BYTES))
        saved_imp = img.state.import_mwh if img.state is not None else 0
        saved_exp = img.state.export_mwh if img.state is not None else 0
        true_imp, true_exp = self.true_energy_mwh(self.t)
        self.boot_energy = (true_imp, true_exp)
        self.log.register_offsets.append((self.t, true_imp - saved_imp, true_exp - saved_exp))

    def _call(self, handler, *args):  # type: ignore[no-untyped-def]
        """Run one firmware handler; on backup each run is a wake: active current for wake_s."""
        if not self.on_rail and self.mcu_alive:
            self._wake()
        return handler(*args)

    def _wake(self) -> None:
        end = self.t + self.wake_us
        if end > self.mcu_active_until:
            self.mcu_active_until = end
            self.wake_gen += 1
            self.push(end, E_WAKE_END, 0, self.wake_gen)
        if not self.active:
            self.active = True
            self._update_loads()

    def _wake_end(self, _arg: int, gen: int) -> None:
        if gen != self.wake_gen:
            return
        self.active = False
        if self.mcu_alive:
            self._update_loads()

    def _cross(self, what: int, gen: int) -> None:
        if gen != self.cross_gen:
            return
        out = self.current_outage
        if what == X_BROWNOUT or what == X_SUPPLY_BROWNOUT:
            if out is not None and out.brownout_us is None:
                out.brownout_us = self.t
                if out.watch_until_us is None and self.mcu_alive:
                    out.watch_until_us = self.t
            if what == X_BROWNOUT:
                self._die()
            else:
                self._update_loads()
        elif what == X_ALARM:
            self.alarm_v = None
            self._update_loads()
            if self.fw is not None:
                self._call(self.fw.on_supply_alarm)
        elif what == X_RTC_MIN:
            self.rtc.stop(self.t)
            if self.rtc_invalid_since is None:
                self.rtc_invalid_since = self.t
            if out is not None and out.rtc_stopped_us is None:
                out.rtc_stopped_us = self.t
            self._update_loads()
        elif what == X_BATTERY_UV:
            if not self.mcu_alive and not self._retained_survives():
                self.retained = b""
            self._update_loads()
        else:
            self._update_loads()

    # ------------------------------------------------------------------ firmware-driven parts

    def start_timer(self, tid: int, delay_us: int, period_us: int, ff: bool) -> None:
        tm = self.timers.get(tid)
        if tm is None:
            tm = self.timers[tid] = _Timer()
        was_skipping = tm.skipping
        tm.gen += 1
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
            tm.gen += 1
            if tm.skipping:
                tm.skipping = False
                self._skip_energy_changed()

    def begin_nvm_write(self, addr: int, data: bytes) -> None:
        if self.nvm_busy:
            raise RuntimeError("firmware started an NVM write while one is in progress")
        self.eeprom.begin_write(addr, data)
        self.nvm_busy = True
        self.nvm_gen += 1
        self.push(self.t + self.nvm_us, E_NVM_DONE, 0, self.nvm_gen)
        if self.eeprom.loses_power():  # a power-loss test's cut, half-way through this write
            self.push(self.t + self.nvm_us // 2, E_CUT)
        if not self.on_rail:
            self._update_loads()

    def begin_radio(self, frame: bytes) -> None:
        if not self.radio_present or self.radio_busy:
            return
        self.radio_busy = True
        self.radio_frame = frame
        self.push(self.t + self.radio_us, E_RADIO_DONE)
        if not self.on_rail:
            self._update_loads()

    def shutdown(self) -> None:
        """The firmware ended its watch: the MCU powers off; that instant is its watch_until."""
        out = self.current_outage
        if out is not None and out.watch_until_us is None:
            out.watch_until_us = self.t
        self._die()

    def _nvm_done(self, _arg: int, gen: int) -> None:
        if gen != self.nvm_gen or not self.nvm_busy:
            return
        self.eeprom.finish_write()
        self.nvm_busy = False
        self.log.snapshots.append((self.t, self.eeprom.read(0, USED_NVM_BYTES)))
        if not self.on_rail:
            self._update_loads()
        if self.fw is not None and self.mcu_alive:
            self._call(self.fw.on_nvm_done)

    def _radio_done(self, _arg: int, _gen: int) -> None:
        if not self.radio_busy:
            return
        self.radio_busy = False
        decoded = decode_report(self.radio_frame)
        if decoded is not None:
            kind, seq = decoded
            self.log.reports.append((self.t, kind, seq, "mains" if self.mains else "backup"))
        if not self.on_rail:
            self._update_loads()
        if self.fw is not None and self.mcu_alive:
            self._call(self.fw.on_radio_done)

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
        if not self.on_rail:
            L = self.loads
            for tm in self.timers.values():
                if tm.skipping and tm.period_us > 0:
                    avg += L.active_a * self.wake_us / tm.period_us
        if avg != self.skip_avg_a:
            self.skip_avg_a = avg
            self._update_loads()

    # ------------------------------------------------------------------ energy truth

    def true_energy_mwh(self, t_us: int) -> tuple[int, int]:
        return energy_mwh(self.log.energy_steps, self.scenario.outages, t_us)


def energy_mwh(
    steps: list[tuple[int, float, float]], outages: tuple, t_us: int  # type: ignore[type-arg]
) -> tuple[int, int]:
    """Energy through the meter from the start to t_us (mWh, floored): load while mains is on."""
    imp = 0.0
    exp = 0.0
    bounds = sorted({0, t_us, *(s[0] for s in steps if s[0] < t_us)})
    for i in range(len(bounds) - 1):
        a, b = bounds[i], bounds[i + 1]
        w_imp, w_exp = 0.0, 0.0
        for s in steps:
            if s[0] <= a:
                w_imp, w_exp = s[1], s[2]
        on_us = b - a
        for o in outages:
            lo = max(a, o.at_us)
            hi = min(b, o.at_us + o.for_us)
            if hi > lo:
                on_us -= hi - lo
        hours = on_us / 3.6e9
        imp += w_imp * hours
        exp += w_exp * hours
    return int(imp * 1000.0), int(exp * 1000.0)


def firmware_config(p) -> FirmwareConfig:  # type: ignore[no-untyped-def]
    """What the recorder is built knowing: the board's design values at their worst case.

    The designer budgets with end-of-tolerance capacitance (−20 %) and the cold ESR, whatever
    this particular scenario's part turns out to be."""
    esr_worst = (
        float(p["supercap.esr_ohm"])
        * float(p["supercap.esr_ratio_cold"])
        * float(p["supercap.esr_ageing_factor"])
    )
    if p["supply.topology"] == "diode-or" and p["battery.present"]:
        # Either source may carry a pulse: budget with the worse of the two resistances.
        esr_worst = max(esr_worst, float(p["battery.internal_resistance_ohm"]))
    c_min = float(p["supercap.capacitance_f"]) * 0.8 * float(p["supercap.c_ratio_cold"])
    return FirmwareConfig(
        {
            "sample_period_us": round(float(p["cover.sample_period_s"]) * 1e6),
            "debounce_samples": int(p["cover.debounce_samples"]),
            "wake_mode": WAKE_POLLING if p["mcu.wake_mode"] == "polling" else WAKE_INTERRUPT,
            "poll_period_us": round(float(p["mcu.poll_period_s"]) * 1e6),
            "brownout_v": float(p["mcu.brownout_v"]),
            "margin_v": float(p["firmware.write_margin_v"]),
            "esr_ohm": esr_worst,
            "capacitance_f": c_min,
            "active_a": float(p["mcu.active_current_a"]),
            "wake_s": float(p["mcu.wake_time_s"]),
            "nvm_write_a": float(p["nvm.write_current_a"]),
            "nvm_write_s": float(p["nvm.page_write_time_s"]),
            "radio_present": bool(p["radio.present"]),
            "radio_a": float(p["radio.burst_current_a"]),
            "radio_s": float(p["radio.burst_s"]),
            "battery_undervoltage_v": float(p["battery.undervoltage_v"]),
            "has_battery_domain": p["supply.topology"] != "supercap-only"
            and bool(p["battery.present"]),
        }
    )
