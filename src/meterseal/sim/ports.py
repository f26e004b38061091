"""The HAL's ports, implemented on the kernel's board model.

Each port is a thin adapter: it reads or changes the kernel's physical state and schedules the
events that follow (a write's end, a radio burst's end, a timer). No behaviour of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meterseal.firmware import hal

if TYPE_CHECKING:
    from meterseal.sim.kernel import Kernel


class Clock(hal.ClockPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> tuple[int, bool]:
        return self.k.rtc.read(self.k.t)

    def set(self, local_ms: int) -> None:
        k = self.k
        k.rtc.set(k.t, local_ms)
        if k.rtc_invalid_since is not None:
            k.log.rtc_invalid.append((k.rtc_invalid_since, k.t))
            k.rtc_invalid_since = None


class Cover(hal.CoverPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> int:
        return self.k.pin

    def arm_wake(self, enabled: bool) -> None:
        self.k.cover_wake = bool(enabled)

    def set_bias(self, enabled: bool) -> None:
        k = self.k
        if k.bias_on != bool(enabled):
            k.bias_on = bool(enabled)
            if not k.on_rail:
                k._update_loads()

    def take_latch(self) -> int | None:
        k = self.k
        ms, k.latch_ms = k.latch_ms, None
        return ms


class Supply(hal.SupplyPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def mains(self) -> bool:
        # The power-fail comparator: mains counts as present until the rail trips it.
        return not self.k.pf_flag and (self.k.mains or self.k.on_rail)

    def backup_v(self) -> float:
        """What the ADC reads on the MCU's backup supply, under the present load."""
        return self.k._backup_terminal_v()

    def battery_v(self) -> float:
        k = self.k
        return k.battery.terminal_v(k.i_batt)

    def set_alarm(self, level_v: float | None) -> None:
        k = self.k
        k.alarm_v = level_v
        k._schedule_crossing()


class Timers(hal.TimerPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def start(self, timer_id: int, delay_us: int, period_us: int = 0,
              fast_forward: bool = False) -> None:
        from meterseal.sim.kernel import E_TIMER, _Timer

        k = self.k
        tm = k.timers.get(timer_id)
        if tm is None:
            tm = _Timer()
            k.timers[timer_id] = tm
        was_skipping = tm.skipping
        tm.gen += 1
        tm.period_us = int(period_us)
        tm.next_us = k.t + int(delay_us)
        tm.anchor_us = tm.next_us
        tm.ff = bool(fast_forward)
        tm.skipping = False
        k.push(tm.next_us, E_TIMER, timer_id, tm.gen)
        k.close_periodic(timer_id)
        if period_us:
            k.periodic_open[timer_id] = (tm.anchor_us, int(period_us))
        if was_skipping:
            k._skip_energy_changed()

    def stop(self, timer_id: int) -> None:
        k = self.k
        tm = k.timers.pop(timer_id, None)
        k.close_periodic(timer_id)
        if tm is not None:
            tm.gen += 1
            if tm.skipping:
                tm.skipping = False
                k._skip_energy_changed()


class Power(hal.PowerPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def shutdown(self) -> None:
        k = self.k
        out = k.current_outage
        if out is not None and out.watch_until_us is None:
            out.watch_until_us = k.t
        k._die()


class Nvm(hal.NvmPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self, addr: int, n: int) -> bytes:
        return self.k.eeprom.read(addr, n)

    def write(self, addr: int, data: bytes) -> None:
        from meterseal.sim.kernel import E_NVM_DONE

        k = self.k
        if k.nvm_busy:
            raise RuntimeError("firmware started an NVM write while one is in progress")
        k.eeprom.begin_write(addr, bytes(data))
        k.nvm_busy = True
        k.nvm_gen += 1
        k.push(k.t + k.nvm_us, E_NVM_DONE, 0, k.nvm_gen)
        if not k.on_rail:
            k._update_loads()


class Retained(hal.RetainedPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> bytes:
        return self.k.retained

    def write(self, data: bytes) -> None:
        self.k.retained = bytes(data)

    def battery_backed(self) -> bool:
        return self.k._retained_survives()


class Radio(hal.RadioPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def send(self, frame: bytes) -> None:
        from meterseal.sim.kernel import E_RADIO_DONE

        k = self.k
        if not k.radio_present or k.radio_busy:
            return
        k.radio_busy = True
        k.radio_frame = bytes(frame)
        k.push(k.t + k.radio_us, E_RADIO_DONE)
        if not k.on_rail:
            k._update_loads()


class Metering(hal.MeteringPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> tuple[int, int]:
        k = self.k
        imp, exp = k.true_energy_mwh(k.t)
        b_imp, b_exp = k.boot_energy
        return imp - b_imp, exp - b_exp
