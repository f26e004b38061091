"""The board's peripherals as the firmware drives them: the EEPROM, the radio, the security module.

Each is started through a port and ends with an event, so a power cut can land inside it: an
NVM page write (done, or torn when the chip's supply sagged below its minimum), a radio send
(its current phase by phase, and the report it carries into the log), a record MAC (the
security module's current, with the MCU's wake stretched to cover it); and the two lines the
firmware drives, EVENTOUT and the supercapacitor switch. On backup each changes the loads.
A mix-in of Kernel: it works on the kernel's state and queue.

Must not know: the physics of the parts (hardware's: the EEPROM's tearing, the supply path),
the firmware's behaviour, timers and fast-forward (the kernel's own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meterseal.firmware.report import decode_report
from meterseal.hardware.board import Topology
from meterseal.sim.events import E_CUT, E_NVM_DONE, E_RADIO_DONE, E_WAKE_END

if TYPE_CHECKING:
    from meterseal.sim.kernel import Kernel


class Peripherals:
    def begin_nvm_write(self: Kernel, addr: int, data: bytes) -> None:
        if self.nvm_busy:
            raise RuntimeError("firmware started an NVM write while one is in progress")
        self.eeprom.begin_write(addr, data)
        self.nvm_busy = True
        self.nvm_gen += 1
        self.log.nvm_writes += 1
        self.push(self.t + self.board_params.nvm_write_us, E_NVM_DONE, 0, self.nvm_gen)
        if self.eeprom.loses_power():  # a power-loss test's cut, half-way through this write
            self.push(self.t + self.board_params.nvm_write_us // 2, E_CUT)
        if not self.supply.on_rail:
            self.update_loads()

    def compute_mac(self: Kernel, data: bytes) -> bytes:
        """The security module computes a record MAC: on backup it draws its current, with the
        MCU awake beside it, for its compute time (the wake is stretched to cover it)."""
        assert self.esam is not None
        self.log.record_macs += 1
        if not self.supply.on_rail and self.mcu_alive:
            end = self.t + self.board_params.mac_us
            if end > self.mcu_active_until:
                self.mcu_active_until = end
                self.wake_gen += 1
                self.push(end, E_WAKE_END, 0, self.wake_gen)
            self.active = self.mac_active = True
            self.update_loads()
        return self.esam.record_mac(data)

    def set_eventout(self: Kernel, level: int) -> None:
        """The firmware drives the EVENTOUT line: its edges are logged (the module's read and
        forward are the radio bursts that follow)."""
        if level != self.eventout_level:
            self.eventout_level = level
            self.log.eventout.append((self.t, level))

    def begin_radio(self: Kernel, frame: bytes) -> None:
        if not self.board_params.radio_present or self.radio_busy:
            return
        b = self.board_params
        if (not self.supply.on_rail and b.topology == Topology.BATTERY_ONLY
                and not b.radio_own_storage):
            return  # the module has no backup supply: nothing goes out
        self.radio_busy = True
        self.radio_frame = frame
        self.radio_gen += 1
        self._radio_phase(0)

    def _radio_phase(self: Kernel, k: int) -> None:
        """Phase k of one send: its current until its end (E_RADIO_DONE carries the phase)."""
        current_a, duration_us = self.board_params.radio_phases[k]
        self.radio_phase_a = current_a
        self.push(self.t + max(1, duration_us), E_RADIO_DONE, k, self.radio_gen)
        if not self.supply.on_rail:
            self.update_loads()

    def use_supercap(self: Kernel, on: bool) -> None:
        """The firmware switches the supercapacitor onto (or off) the MCU's supply."""
        if self.sc_switch != on:
            self.sc_switch = on
            if not self.supply.on_rail:
                self.update_loads()

    def _nvm_done(self: Kernel, _arg: int, gen: int) -> None:
        if gen != self.nvm_gen or not self.nvm_busy:
            return
        s = self.supply
        if not s.on_rail and s.mcu_terminal_v() < self.board_params.nvm_min_v:
            # The chip's supply sagged below its own minimum during the write: what it
            # programmed is undefined, and it says so (no acknowledge).
            self._tear()
            if not s.on_rail:
                self.update_loads()
            if self.fw is not None and self.mcu_alive:
                self._call(self.fw.on_nvm_failed)
            return
        addr, data = self.eeprom.pending_write()
        self.eeprom.finish_write()
        self.nvm_busy = False
        self.log.writes.append((self.t, addr, data))
        if not self.supply.on_rail:
            self.update_loads()
        if self.fw is not None and self.mcu_alive:
            self._call(self.fw.on_nvm_done)

    def _radio_done(self: Kernel, k: int, gen: int) -> None:
        if gen != self.radio_gen or not self.radio_busy:
            return  # the burst of an earlier life, cut by its power loss
        if k + 1 < len(self.board_params.radio_phases):
            self._radio_phase(k + 1)
            if not self.supply.on_rail:
                self.update_loads()
            return
        self.radio_busy = False
        decoded = decode_report(self.radio_frame)
        if decoded is not None:
            kind, seq = decoded
            self.log.reports.append((self.t, kind, seq,
                                     "mains" if self.supply.mains else "backup"))
        if not self.supply.on_rail:
            self.update_loads()
        if self.fw is not None and self.mcu_alive:
            self._call(self.fw.on_radio_done)
