"""A hand-driven board for running the real Recorder under MicroPython (and CPython): the test
moves time, the switch and the supply, and completes NVM writes and timers itself."""

from fw_eeprom import StubEeprom

from meterseal.firmware.config import SUPPLY_SUPERCAP, WAKE_INTERRUPT, FirmwareConfig
from meterseal.firmware.hal import Board


def design_config():
    """The default profile's design values, as the kernel hands them to the recorder (the
    write floor the tests steer around, 2.0566 V, follows from them)."""
    return FirmwareConfig(
        sample_period_us=5000,
        debounce_samples=9,
        wake_mode=WAKE_INTERRUPT,
        poll_period_us=1000000,
        brownout_v=2.0,
        margin_v=0.05,
        esr_ohm=2.0,
        capacitance_f=0.56,
        active_a=300e-6,
        wake_s=0.0016,
        nvm_write_a=3e-3,
        nvm_write_s=0.005,
        radio_present=True,
        radio_a=0.05,
        radio_s=0.2,
        has_battery_domain=True,
        supply_mode=SUPPLY_SUPERCAP,
        diode_or=False,
        battery_undervoltage_v=2.5,
        battery_internal_ohm=20.0,
        battery_passivation_ohm=0.0,
        battery_passivation_ratio_cold=1.0,
        radio_sends=1,
        radio_gap_us=1000000,
        radio_own_storage=False,
        radio_peak_a=0.05,
        nvm_min_v=0.0,
        esr_ratio_cold=1.0,
        c_ratio_cold=1.0,
    )


class Port:
    def __init__(self, board):
        self.t = board


class Clock(Port):
    def read(self):
        return self.t.now_ms, self.t.rtc_valid

    def set(self, ms):
        self.t.now_ms = ms
        self.t.rtc_valid = True


class Cover(Port):
    def read(self):
        return self.t.level

    def arm_wake(self, enabled):
        self.t.wake_armed = enabled

    def set_bias(self, enabled):
        self.t.bias = enabled

    def take_latch(self):
        return None


class TerminalCover(Port):
    """The terminal cover's switch: its own level, wake-up and bias."""

    def read(self):
        return self.t.terminal_level

    def arm_wake(self, enabled):
        self.t.terminal_wake_armed = enabled

    def set_bias(self, enabled):
        self.t.terminal_bias = enabled

    def take_latch(self):
        return None


class Supply(Port):
    def mains(self):
        return self.t.mains

    def backup_v(self):
        return self.t.backup_v

    def battery_v(self):
        return 3.6

    def supercap_v(self):
        return self.t.backup_v

    def temperature_c(self):
        return 20.0

    def use_supercap(self, on):
        self.t.supercap_on = on

    def set_alarm(self, level_v):
        self.t.alarm_v = level_v


class Timers(Port):
    def start(self, tid, delay_us, period_us=0, fast_forward=False):
        self.t.timers[tid] = period_us

    def stop(self, tid):
        self.t.timers.pop(tid, None)


class Power(Port):
    def shutdown(self):
        self.t.off = True


class Nvm(Port):
    def read(self, addr, n):
        return self.t.eeprom.read(addr, n)

    def write(self, addr, data):
        self.t.eeprom.begin_write(addr, data)
        self.t.writes += 1


class Retained(Port):
    def read(self):
        return self.t.retained

    def write(self, data):
        self.t.retained = data

    def battery_backed(self):
        return True


class Radio(Port):
    def send(self, frame):
        self.t.frames.append(frame)


class Metering(Port):
    def read(self):
        return self.t.import_mwh, 0


class HandBoard:
    def __init__(self, terminal=False):
        self.now_ms = 825638400000  # 2026-03-01 08:00 local
        self.rtc_valid = True
        self.level = 1
        self.wake_armed = False
        self.bias = False
        self.mains = True
        self.backup_v = 4.6
        self.alarm_v = None
        self.timers = {}
        self.off = False
        self.eeprom = StubEeprom()
        self.writes = 0
        self.retained = b""
        self.frames = []
        self.import_mwh = 0
        self.check = None  # called with the recorder after every step the test drives
        self.terminal_level = 1
        self.terminal_wake_armed = False
        self.terminal_bias = False
        self.board = Board(Clock(self), Cover(self), Supply(self), Timers(self), Power(self),
                           Nvm(self), Retained(self), Radio(self), Metering(self),
                           terminal=TerminalCover(self) if terminal else None)

    def settle(self, rec):
        """Complete every NVM write the recorder starts (and radio bursts)."""
        for _ in range(50):
            if self.eeprom.pending is None:
                break
            self.eeprom.finish_write()
            rec.on_nvm_done()
            self._check(rec)
        while self.frames and rec.radio_busy:
            rec.on_radio_done()
            self._check(rec)
        self._check(rec)

    def _check(self, rec):
        if self.check is not None:
            self.check(rec)

    def tick(self, rec, tid, n=1, ms=5):
        for _ in range(n):
            self.now_ms += ms
            rec.on_timer(tid)
            self.settle(rec)
