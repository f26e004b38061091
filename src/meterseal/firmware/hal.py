"""The ports the recorder firmware may use, and nothing else: its whole view of the board.

The simulator's kernel implements these ports on the board model; on a MicroPython board they map
to machine.RTC, machine.Pin, machine.ADC, machine.Timer, an I2C EEPROM driver and a UART. This
module must not know which of the two it runs on, and must stay MicroPython-safe (no abc, no
typing at run time): a port is a plain class whose methods document the contract and raise.

Handlers never block: an NVM page write or a radio burst is started here and its end arrives as
an event (`Recorder.on_nvm_done`, `Recorder.on_radio_done`), so that a power cut can land inside.
"""


class ClockPort:
    """The RTC. Times are local epoch ms (ms since 2000-01-01T00:00 local standard time)."""

    def read(self):  # -> (local_ms: int, valid: bool)
        """valid is False once the oscillator stopped (its supply fell), until the clock is set."""
        raise NotImplementedError

    def set(self, local_ms):
        raise NotImplementedError


class CoverPort:
    """The cover's key switch. Level 1 = cover on (switch pressed), 0 = cover removed."""

    def read(self):  # -> int
        raise NotImplementedError

    def arm_wake(self, enabled):
        """Wake the MCU (Recorder.on_cover_edge) on any edge of the switch while asleep."""
        raise NotImplementedError

    def set_bias(self, enabled):
        """Power the switch's pull-up (static or pulsed, as the board has it); off saves its
        drain."""
        raise NotImplementedError

    def take_latch(self):  # -> local_ms of a latched edge, or None
        """A battery-domain tamper input's latched time-stamp, or None (also on boards
        without one); reading clears it."""
        raise NotImplementedError


class SupplyPort:
    def mains(self):  # -> bool
        raise NotImplementedError

    def backup_v(self):  # -> float
        """The MCU's own backup supply, from the ADC, under the present load (the
        supercapacitor, or the battery where the battery carries the MCU)."""
        raise NotImplementedError

    def battery_v(self):  # -> float, the clock battery's voltage (0.0 when absent)
        raise NotImplementedError

    def supercap_v(self):  # -> float, the supercapacitor at its pins, from the ADC
        raise NotImplementedError

    def temperature_c(self):  # -> float, the MCU's on-chip temperature sensor
        raise NotImplementedError

    def use_supercap(self, on):
        """Battery-first boards: switch the supercapacitor onto the MCU's supply (on) or leave
        the MCU on the battery (off). The switch rests on (the supercapacitor connected) when
        the MCU does not drive it. Elsewhere it does nothing."""
        raise NotImplementedError

    def set_alarm(self, level_v):
        """Arm the low-voltage comparator: Recorder.on_supply_alarm once the backup falls below
        level_v. None disarms it."""
        raise NotImplementedError


class TimerPort:
    def start(self, timer_id, delay_us, period_us=0, fast_forward=False):
        """One-shot (period_us 0) or periodic timer calling Recorder.on_timer(timer_id).

        A periodic task that declares fast_forward may have its idle ticks skipped: when its
        handler returns True ("nothing in progress"), the board may stop calling it until one of
        its inputs (the cover switch) changes, charging the skipped ticks' energy meanwhile."""
        raise NotImplementedError

    def stop(self, timer_id):
        raise NotImplementedError


class PowerPort:
    def shutdown(self):
        """End the watch: the MCU powers itself off until mains returns (RAM is lost)."""
        raise NotImplementedError


class NvmPort:
    def read(self, addr, n):  # -> bytes
        raise NotImplementedError

    def write(self, addr, data):
        """Start one page write (must not cross a page); Recorder.on_nvm_done when it ends, or
        Recorder.on_nvm_failed when the chip could not program it (its supply too low)."""
        raise NotImplementedError


class RetainedPort:
    """A few bytes that survive sleep, and survive death only where the backup domain keeps them."""

    def read(self):  # -> bytes
        raise NotImplementedError

    def write(self, data):
        raise NotImplementedError

    def battery_backed(self):  # -> bool: will this content outlive the MCU right now?
        raise NotImplementedError


class RadioPort:
    def send(self, frame):
        """Power the communication module and send one frame; Recorder.on_radio_done at its end."""
        raise NotImplementedError


class EventOutPort:
    """The EVENTOUT line to the communication module (a GPIO): raised when an event awaits its
    report in the active-report status word; the module, seeing it, reads the status word and
    forwards the events. The line itself costs the backup nothing worth counting; the module's
    read and forward are the radio burst the report's budget already decides on."""

    def set(self, level):
        raise NotImplementedError


class NoEventOut(EventOutPort):
    """A board without the line wired: setting it does nothing."""

    def set(self, level):
        return None


class MeteringPort:
    def read(self):  # -> (import_mwh, export_mwh) accumulated since this boot
        raise NotImplementedError


class SecurityPort:
    """The security module (ESAM): it holds the meter's key, which never leaves it."""

    def mac(self, data):  # -> bytes (8)
        """The record MAC of data (firmware/chain.py). The module draws its current for its
        compute time (the board accounts it); the firmware asks only when its budget covers
        that."""
        raise NotImplementedError


class Board:
    """The bundle of ports handed to the firmware. security is None on a board whose records
    carry no MAC."""

    def __init__(self, clock, cover, supply, timers, power, nvm, retained, radio, metering,
                 eventout=None, terminal=None, security=None):
        self.clock = clock
        self.cover = cover
        self.supply = supply
        self.timers = timers
        self.power = power
        self.nvm = nvm
        self.retained = retained
        self.radio = radio
        self.metering = metering
        self.security = security
        self.eventout = NoEventOut() if eventout is None else eventout
        # The terminal cover's key switch (a CoverPort), or None on a board without one.
        self.terminal = terminal
