"""The HAL's ports, implemented on the kernel's board model.

Each port is a thin adapter onto the kernel, which owns the state and the event queue (a
write's end, a radio burst's end, a timer). No behaviour of its own.
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
            if not k.supply.on_rail:
                k.update_loads()

    def take_latch(self) -> int | None:
        k = self.k
        ms, k.latch_ms = k.latch_ms, None
        return ms


class TerminalCover(hal.CoverPort):
    """The terminal cover's key switch: its own pin and pull-up, no tamper latch."""

    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> int:
        return self.k.terminal_pin

    def arm_wake(self, enabled: bool) -> None:
        self.k.terminal_wake = bool(enabled)

    def set_bias(self, enabled: bool) -> None:
        k = self.k
        if k.terminal_bias_on != bool(enabled):
            k.terminal_bias_on = bool(enabled)
            if not k.supply.on_rail:
                k.update_loads()

    def take_latch(self) -> int | None:
        return None


class Supply(hal.SupplyPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def mains(self) -> bool:
        # The power-fail comparator: mains counts as present until the rail trips it.
        s = self.k.supply
        return not self.k.pf_flag and (s.mains or s.on_rail)

    def backup_v(self) -> float:
        """What the ADC reads on the MCU's backup supply, under the present load."""
        return self.k.supply.mcu_terminal_v()

    def battery_v(self) -> float:
        return self.k.supply.battery_terminal_v()

    def supercap_v(self) -> float:
        return self.k.supply.supercap_terminal_v()

    def temperature_c(self) -> float:
        return self.k.board_params.temperature_c

    def use_supercap(self, on: bool) -> None:
        self.k.use_supercap(bool(on))

    def set_alarm(self, level_v: float | None) -> None:
        k = self.k
        k.alarm_v = level_v
        k.schedule_crossing()


class Timers(hal.TimerPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def start(self, timer_id: int, delay_us: int, period_us: int = 0,
              fast_forward: bool = False) -> None:
        self.k.start_timer(timer_id, int(delay_us), int(period_us), bool(fast_forward))

    def stop(self, timer_id: int) -> None:
        self.k.stop_timer(timer_id)


class Power(hal.PowerPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def shutdown(self) -> None:
        self.k.shutdown()


class Nvm(hal.NvmPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self, addr: int, n: int) -> bytes:
        return self.k.eeprom.read(addr, n)

    def write(self, addr: int, data: bytes) -> None:
        self.k.begin_nvm_write(addr, bytes(data))


class Retained(hal.RetainedPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> bytes:
        return self.k.retained

    def write(self, data: bytes) -> None:
        self.k.retained = bytes(data)

    def battery_backed(self) -> bool:
        return self.k.supply.retained_survives()


class Radio(hal.RadioPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def send(self, frame: bytes) -> None:
        self.k.begin_radio(bytes(frame))


class Security(hal.SecurityPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def mac(self, data: bytes) -> bytes:
        return self.k.compute_mac(bytes(data))


class EventOut(hal.EventOutPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def set(self, level: int) -> None:
        self.k.set_eventout(1 if level else 0)


class Metering(hal.MeteringPort):
    def __init__(self, k: Kernel) -> None:
        self.k = k

    def read(self) -> tuple[int, int]:
        k = self.k
        imp, exp = k.energy.mwh(k.t)
        b_imp, b_exp = k.boot_energy
        return imp - b_imp, exp - b_exp
