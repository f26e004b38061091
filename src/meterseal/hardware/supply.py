"""The backup supply path: which source feeds which load, and when a supply crosses a level.

Owns the physical state between events of the supercapacitor (its voltage, charging from the
rail while mains is present) and the clock battery (charge drawn), the topology's rule of which
source carries the MCU domain (watch, wakes, NVM writes, radio) and which the RTC domain, the
instant drop across a source's resistance under the present load, and the next instant a supply
reaches a level the kernel cares about (brown-out, the firmware's comparator, the RTC's minimum,
battery undervoltage, the diode-OR hand-over). That rule is written here once; the kernel, the
firmware-cost figure and the sizing budget all read it.

Boundary rule: a source exactly at a threshold is on its lower side (a battery at its
undervoltage level is undervoltage; a supply at brown-out is browned out), so a crossing is never
scheduled at a level the source already sits on.

Must not know events, the firmware or the scenario: loads in, voltages and crossing times out.
"""

from __future__ import annotations

import math
from typing import Any

from meterseal.hardware import rc2
from meterseal.hardware.board import BoardParams, Topology
from meterseal.hardware.rc import steady_and_tau, time_to_voltage, voltage_after

__all__ = [
    "CATEGORIES",
    "X_ALARM",
    "X_BATTERY_UV",
    "X_BROWNOUT",
    "X_DIODE_OVER",
    "X_NAMES",
    "X_RTC_MIN",
    "X_SUPPLY_BROWNOUT",
    "SupplyPath",
]

# What a crossing means.
X_BROWNOUT = 0  # the MCU's supply reached the brown-out level: it resets
X_ALARM = 1  # the firmware's low-voltage comparator level
X_RTC_MIN = 2  # the RTC domain's supply reached the RTC's minimum: the clock stops
X_BATTERY_UV = 3  # the battery reached its undervoltage level: the RTC domain moves
X_DIODE_OVER = 4  # diode-OR: the supercapacitor fell to the battery's voltage
X_SUPPLY_BROWNOUT = 5  # the MCU is off, but the instant its supply crosses brown-out is logged
X_NAMES = ("brown-out", "supply alarm", "RTC minimum", "battery undervoltage",
           "diode-OR hand-over", "supply brown-out")
# The profile keys each crossing's level and timing depend on (for error messages).
X_KEYS = (
    ("mcu.brownout_v", "supercap.*"),
    ("firmware.write_margin_v", "mcu.brownout_v", "supercap.*"),
    ("rtc.min_voltage_v", "supercap.*"),
    ("battery.undervoltage_v", "battery.voltage_v", "battery.capacity_mah"),
    ("battery.voltage_v", "supercap.*"),
    ("mcu.brownout_v", "supercap.*"),
)

# The loads a supply carries, in this order (sizing's energy budget names them so).
CATEGORIES = ("mcu_sleep", "switch_bias", "rtc", "wakes", "nvm_writes", "radio", "standby",
              "record_mac")

_NEVER = math.inf
_NONE, _SC, _BATT = 0, 1, 2  # a load's source
_NODES_KEPT = 64  # distinct loads whose node is kept (a run sees a handful)


def _copied(obj: Any) -> Any:
    """A shallow copy of a slotted object (what copy.copy makes of one: the same class, every
    slot that is set bound to the same value), without copy's reduce protocol, which costs
    more than the trial it serves."""
    cls = type(obj)
    new = cls.__new__(cls)
    for name in (n for klass in cls.__mro__ for n in getattr(klass, "__slots__", ())):
        try:
            value = getattr(obj, name)
        except AttributeError:
            continue  # never set: left unset, as copy.copy leaves it
        setattr(new, name, value)
    return new


class SupplyPath:
    """The supercapacitor and the battery, and who draws what from them, between two events.

    Call :meth:`advance` to a new instant before changing anything, then :meth:`set_loads`
    whenever a load, the rail or the MCU's life changes.
    """

    __slots__ = (
        "battery",
        "board",
        "branch",
        "esr",
        "has_supercap",
        "i_batt",
        "i_sc",
        "loads_in",
        "mains",
        "mcu_on_battery",
        "node",
        "nodes",
        "on_rail",
        "parts",
        "r_batt",
        "r_leak",
        "radio_on_sc",
        "rtc_on_sc",
        "rtc_unpowered",
        "sc_switch",
        "tau",
        "v",
        "v_inf",
        "v_t",
        "vd",
    )

    def __init__(self, board: BoardParams) -> None:
        self.board = board
        cap = board.supercap
        self.esr = cap.esr_ohm
        self.r_leak = cap.leakage_ohm
        self.battery = board.new_battery()
        # The series resistance the battery's load meets now: its own, plus the passivation
        # film's when a pulse (a page write, a send) runs on a rested cell.
        self.r_batt = board.battery_internal_resistance_ohm
        # The meter has been on mains long before the scenario: the supercapacitor sits at the
        # divider of its charge path and its leakage (a board without one: nothing, ever).
        self.has_supercap = board.topology != Topology.BATTERY_ONLY
        self.v = steady_and_tau(cap.capacitance_f, cap.leakage_ohm, 0.0,
                                board.charge_source_v, board.charge_path_ohm)[0] \
            if self.has_supercap else 0.0
        self.v_t = 0
        self.mains = True
        self.on_rail = True
        self.i_sc = 0.0
        self.i_batt = 0.0
        self.mcu_on_battery = False
        self.rtc_on_sc = False
        self.radio_on_sc = True
        self.rtc_unpowered = False
        self.sc_switch = True
        self.parts: tuple[float, ...] = (0.0,) * len(CATEGORIES)
        # The loads as last set (set_loads' arguments), so a trial load can be put on top.
        self.loads_in: tuple[bool, float, float, float, float, float, bool, float] = (
            False, 0.0, 0.0, 0.0, 0.0, 0.0, True, 0.0)
        self.v_inf = self.v
        self.tau = 1.0
        # The charge-redistribution branch (C_d behind R_d), when the part has one: its
        # capacitor's voltage vd (after days on mains, equal to v) and the two-state node.
        self.branch = cap.redistribution_f > 0.0 and self.has_supercap
        self.vd = self.v
        self.node: rc2.Node2 | None = None
        # rc2.node by its arguments: a pure function of them with a frozen result, and a run
        # goes back and forth between a few loads (asleep, awake, writing, sending).
        self.nodes: dict[tuple[float | None, ...], rc2.Node2] = {}

    # ------------------------------------------------------------------ state

    def advance(self, t_us: int) -> None:
        dt_us = t_us - self.v_t
        if dt_us > 0:
            dt = dt_us * 1e-6
            if self.node is not None:
                self.v, self.vd = rc2.state_after(self.node, self.v, self.vd, dt)
            else:
                self.v = voltage_after(self.v, dt, self.v_inf, self.tau)
            self.battery.advance(dt, self.i_batt)  # its self-discharge runs without a load too
            self.v_t = t_us

    def voltage_after(self, dt_s: float) -> float:
        """The supercapacitor's voltage dt_s from now on the present trajectory."""
        if self.node is not None:
            return rc2.voltage_after(self.node, self.v, self.vd, dt_s)
        return voltage_after(self.v, dt_s, self.v_inf, self.tau)

    def time_to(self, level_v: float) -> float:
        """Seconds until the supercapacitor's (internal) voltage first reaches level_v."""
        if self.node is not None:
            return rc2.time_to_voltage(self.node, self.v, self.vd, level_v)
        return time_to_voltage(self.v, level_v, self.v_inf, self.tau)

    def leak_charge(self, dt_s: float) -> float:
        """Charge (C) the leakage resistance takes over the next dt_s: ∫V dt / R_leak."""
        if self.node is not None:
            return rc2.voltage_integral(self.node, self.v, self.vd, dt_s) / self.r_leak
        v_inf, tau = self.v_inf, self.tau
        return (v_inf * dt_s - (self.v - v_inf) * tau * math.expm1(-dt_s / tau)) / self.r_leak

    def battery_ok(self) -> bool:
        """Fitted and strictly above its undervoltage level (at the level is undervoltage)."""
        b = self.battery
        return b.present and b.ocv_v() > self.board.battery_undervoltage_v

    def retained_survives(self) -> bool:
        """Does the backup domain (RTC, retained RAM) outlive the MCU now? Where the design hands
        the domain to the supercapacitor at the battery's undervoltage (battery+supercap), only
        while the battery is above that level; where the battery keeps it, while it still runs
        the RTC."""
        topo = self.board.topology
        if topo == Topology.SUPERCAP_ONLY:
            return False
        if topo in (Topology.BATTERY_ONLY, Topology.BATTERY_FIRST):
            return self._battery_runs_rtc()
        return self.battery_ok()

    def supercap_terminal_v(self) -> float:
        """The supercapacitor at its pins under what it carries now (its ADC reading)."""
        return self.v - self.i_sc * self.esr

    def mcu_terminal_v(self) -> float:
        """The MCU's backup supply at its pins under the present load (what its ADC reads)."""
        if self.mcu_on_battery:
            return self.battery_terminal_v()
        return self.v - self.i_sc * self.esr

    def battery_terminal_v(self) -> float:
        b = self.battery
        if not b.present:
            return 0.0
        return max(0.0, b.ocv_v() - self.i_batt * self.r_batt)

    def charge_current_a(self) -> float:
        """The charger's current into the capacitor now (0 without mains or capacitor)."""
        if not self.mains or not self.has_supercap:
            return 0.0
        b = self.board
        return (b.charge_source_v - self.v) / b.charge_path_ohm

    # ------------------------------------------------------------------ who draws what

    def set_loads(self, mcu_alive: bool, sleep_a: float, bias_a: float, wakes_a: float,
                  nvm_a: float, radio_a: float, sc_switch: bool = True,
                  standby_a: float = 0.0, mac_a: float = 0.0) -> None:
        """The loads now (each 0 when off), routed to their sources.

        On the rail nothing draws from the backup. Off it, the MCU domain (sleep, switch bias,
        wakes, NVM writes), the communication module and the RTC domain each draw from the
        source the topology gives them; ``sc_switch`` is the MCU-driven switch that puts the
        supercapacitor on the MCU's supply in the battery-first design (closed unless the
        firmware opens it). ``mac_a`` is the security module computing a record MAC: it sits on
        the MCU's supply, so it draws from the MCU domain's source.
        """
        self.loads_in = (mcu_alive, sleep_a, bias_a, wakes_a, nvm_a, radio_a, sc_switch,
                         standby_a)
        rail = self.on_rail
        loads = self.board.loads
        if not (mcu_alive and not rail):
            sleep_a = bias_a = wakes_a = nvm_a = radio_a = standby_a = mac_a = 0.0
        if not rail:
            # The regulator and supervisor draw on whatever feeds the MCU domain, MCU or not.
            standby_a += loads.quiescent_a
        mcu_i = sleep_a + bias_a + wakes_a + nvm_a + standby_a + mac_a
        rtc_i = 0.0 if rail else loads.rtc_a
        mcu_src, radio_src, rtc_src = self._routes(sc_switch)
        i_sc = i_batt = 0.0
        parts = [sleep_a, bias_a, rtc_i, wakes_a, nvm_a, radio_a, standby_a, mac_a]
        for i, src in ((mcu_i, mcu_src), (radio_a, radio_src), (rtc_i, rtc_src)):
            if src == _SC:
                i_sc += i
            elif src == _BATT:
                i_batt += i
        if mcu_src != _SC:
            parts[0] = parts[1] = parts[3] = parts[4] = parts[6] = parts[7] = 0.0
        if radio_src != _SC:
            parts[5] = 0.0
        if rtc_src != _SC:
            parts[2] = 0.0
        self.i_sc = i_sc
        self.i_batt = i_batt
        self.sc_switch = sc_switch
        pulse = (mcu_src == _BATT and nvm_a > 0.0) or (radio_src == _BATT and radio_a > 0.0)
        b = self.board
        self.r_batt = b.battery_pulse_resistance_ohm if pulse else (
            b.battery_internal_resistance_ohm)
        self.mcu_on_battery = mcu_src == _BATT
        self.rtc_on_sc = rtc_src == _SC and not rail
        self.radio_on_sc = radio_src == _SC
        self.rtc_unpowered = rtc_src == _NONE and not rail
        self.parts = tuple(parts)
        cap = self.board.supercap
        b = self.board
        source = (b.charge_source_v, b.charge_path_ohm) if self.mains else (None, None)
        if not self.has_supercap:
            self.v_inf, self.tau = 0.0, 1.0
        elif self.branch:
            self.node = self._node(cap.capacitance_f, i_sc, cap.redistribution_f,
                                   cap.redistribution_ohm, *source)
            self.v_inf, self.tau = self.node.v_inf, self.node.tau_s
        else:
            self.v_inf, self.tau = steady_and_tau(cap.capacitance_f, self.r_leak, i_sc, *source)

    def _node(self, capacitance_f: float, i_sc: float, redistribution_f: float,
              redistribution_ohm: float, source_v: float | None,
              charge_ohm: float | None) -> rc2.Node2:
        # The sign of a zero load is in the key: -0.0 == 0.0, but node() need not give the same.
        key = (capacitance_f, self.r_leak, i_sc, math.copysign(1.0, i_sc), redistribution_f,
               redistribution_ohm, source_v, charge_ohm)
        got = self.nodes.get(key)
        if got is None:
            if len(self.nodes) >= _NODES_KEPT:
                self.nodes.clear()
            got = self.nodes[key] = rc2.node(capacitance_f, self.r_leak, i_sc, redistribution_f,
                                             redistribution_ohm, source_v, charge_ohm)
        return got

    def page_write_fits(self, margin_v: float = 0.0) -> bool:
        """Could an awake MCU program an NVM page now, off the rail, on any route its firmware
        may choose (battery-first: with the supercapacitor switched in or not)? The MCU's supply
        must stay at or above the NVM's minimum and the brown-out level (plus margin_v) from the
        write's start (the ESR and cell drop) to its end (its charge). Changes nothing: a copy
        carries it."""
        b = self.board
        _alive, sleep_a, bias_a, _wakes, _nvm, _radio, switch, standby_a = self.loads_in
        floor_v = max(b.nvm_min_v, b.brownout_v + margin_v)
        routes = (True, False) if b.topology == Topology.BATTERY_FIRST else (switch,)
        for sc_switch in routes:
            trial = _copied(self)
            trial.battery = _copied(self.battery)
            trial.set_loads(True, sleep_a, bias_a, b.loads.active_a, b.loads.nvm_write_a, 0.0,
                            sc_switch, standby_a)
            start_v = trial.mcu_terminal_v()
            trial.advance(trial.v_t + b.nvm_write_us)
            if min(start_v, trial.mcu_terminal_v()) >= floor_v:
                return True
        return False

    def _routes(self, sc_switch: bool) -> tuple[int, int, int]:
        """(MCU domain, communication module, RTC domain): the source of each, _SC or _BATT
        (or _NONE: the module has no backup supply)."""
        topo = self.board.topology
        bat = self.battery
        if topo == Topology.SUPERCAP_ONLY:
            return _SC, _SC, _SC
        if topo == Topology.BATTERY_SUPERCAP:
            return _SC, _SC, (_BATT if self.battery_ok() else _SC)
        if topo == Topology.DIODE_OR:  # the higher source feeds all
            src = _BATT if bat.present and bat.ocv_v() > self.v else _SC
            return src, src, src
        if topo == Topology.BATTERY_ONLY:
            return (_BATT, _NONE, _BATT) if bat.present else (_NONE, _NONE, _NONE)
        # battery-first: the battery feeds the MCU's supply through a diode, the supercapacitor
        # through a switch the firmware closes: closed, the higher of the two carries the MCU; the
        # module always draws on the supercapacitor, the RTC domain on the battery while it runs.
        on_sc = not bat.present or (sc_switch and self.v > bat.ocv_v())
        rtc = _BATT if self._battery_runs_rtc() else _SC
        return (_SC if on_sc else _BATT), _SC, rtc

    def _battery_runs_rtc(self) -> bool:
        b = self.battery
        return b.present and b.ocv_v() > self.board.rtc_min_v

    # ------------------------------------------------------------------ crossings

    def next_crossing(self, mcu_alive: bool, alarm_v: float | None, rtc_running: bool,
                      log_supply_brownout: bool) -> tuple[float, int]:
        """(seconds from now, X_*) of the first level the supplies reach; (inf, -1) if none.

        A level the supply already sits at or below counts as reached now (0 s), except the
        battery's undervoltage, which ``battery_ok`` has already placed it under.
        """
        if self.on_rail:
            return _NEVER, -1
        best, what = self._supercap_crossing(mcu_alive, alarm_v, rtc_running,
                                             log_supply_brownout)
        dt, kind = self._battery_crossing(mcu_alive, alarm_v, rtc_running, log_supply_brownout)
        if dt < best:
            best, what = dt, kind
        return best, what

    def _supercap_crossing(self, mcu_alive: bool, alarm_v: float | None, rtc_running: bool,
                           log_supply_brownout: bool) -> tuple[float, int]:
        b = self.board
        v = self.v
        drop = self.i_sc * self.esr
        cands: list[tuple[int, float]] = []
        if mcu_alive and not self.mcu_on_battery:
            cands.append((X_BROWNOUT, b.brownout_v + drop))
            if alarm_v is not None:
                cands.append((X_ALARM, alarm_v + drop))
        elif log_supply_brownout and self.has_supercap and (
                not mcu_alive or b.topology == Topology.DIODE_OR):
            # The MCU is off or on the battery: the fall reported is the supercapacitor's
            # through brown-out, the supply that carries (or would carry) the watch's end. A
            # battery-only board reports its battery's.
            cands.append((X_SUPPLY_BROWNOUT, b.brownout_v + drop))
        if self.rtc_on_sc and rtc_running:
            cands.append((X_RTC_MIN, b.rtc_min_v + drop))
        best, what = _NEVER, -1
        if self.rtc_unpowered and rtc_running:
            best, what = 0.0, X_RTC_MIN  # nothing feeds the RTC domain: it stops at once
        bat = self.battery
        hand_over = b.topology == Topology.DIODE_OR or (
            b.topology == Topology.BATTERY_FIRST and self.sc_switch)
        if hand_over and not self.mcu_on_battery and bat.present:
            ocv = bat.ocv_v()
            if v > ocv:  # below the battery, the diode hands the MCU over to it
                cands.append((X_DIODE_OVER, ocv))
        for kind, level in cands:
            dt = 0.0 if v <= level else self.time_to(level)
            if dt < best:
                best, what = dt, kind
        return best, what

    def _battery_crossing(self, mcu_alive: bool, alarm_v: float | None, rtc_running: bool,
                          log_supply_brownout: bool) -> tuple[float, int]:
        b = self.board
        bat = self.battery
        best, what = _NEVER, -1
        if not bat.present:
            return best, what
        topo = b.topology
        if topo == Topology.BATTERY_SUPERCAP and self.battery_ok():
            # The RTC domain (and retained RAM) leave the battery at its undervoltage level.
            best, what = bat.time_to_ocv(b.battery_undervoltage_v, self.i_batt), X_BATTERY_UV
        if topo in (Topology.BATTERY_ONLY, Topology.BATTERY_FIRST) and self._battery_runs_rtc():
            # The RTC domain (and retained RAM) move on when the battery can no longer run it.
            dt = bat.time_to_ocv(b.rtc_min_v, self.i_batt)
            if dt < best:
                best, what = dt, X_BATTERY_UV
        if topo == Topology.BATTERY_ONLY and rtc_running:
            dt = bat.time_to_ocv(b.rtc_min_v, self.i_batt)
            if dt < best:
                best, what = dt, X_RTC_MIN
        if self.mcu_on_battery:
            # The MCU's brown-out and the firmware's comparator watch the battery's terminal.
            levels: tuple[tuple[int, float | None], ...] = (
                ((X_BROWNOUT, b.brownout_v), (X_ALARM, alarm_v)) if mcu_alive
                else ((X_SUPPLY_BROWNOUT, None if self.has_supercap or not log_supply_brownout
                       else b.brownout_v),))
            for kind, level in levels:
                if level is None:
                    continue
                dt = bat.time_to_ocv(level + self.i_batt * self.r_batt, self.i_batt)
                if dt < best:
                    best, what = dt, kind
        return best, what
