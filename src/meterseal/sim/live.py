"""The live meter: the meter a scenario leaves behind, kept running so protocols can read it.

Owns the meter's state after the run: its NVM (the kernel's EEPROM, written from now on only
through the firmware's Journal), its RTC running on in real time (sim µs = the scenario's end +
the seconds elapsed on a monotonic clock since the run ended), its energy registers (frozen: no
load flows after the run), its address, its programming key (the scenario's
[[programming_key]] windows, read at the running sim time), its password table and the
password lockout counters (per meter day). All of it behind one lock, so a TCP server and a
serial port can share the meter.

Must not know: frames, data identifiers, sockets or serial ports (protocols/ serves it), and the
firmware's Python objects of the run (records are read only by decoding the NVM image).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from meterseal.firmware.image import MeterImage, decode_image
from meterseal.firmware.journal import Journal
from meterseal.firmware.records import MWH_PER_UNIT
from meterseal.hardware.nvm import Eeprom
from meterseal.hardware.rtc import Rtc, datetime_from_local_ms
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario

Clock = Callable[[], float]


def address_wire(digits: str) -> bytes:
    """12 BCD digits as printed on the meter -> 6 bytes, lowest byte first."""
    return bytes(int(digits[i : i + 2], 16) for i in range(10, -1, -2))


class LiveMeter:
    """A meter after its scenario: records in NVM, a running clock, frozen registers.

    Build it with :meth:`from_scenario`. ``clock`` (seconds, monotonic) drives its time; tests
    pass a fake one.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        eeprom: Eeprom,
        rtc: Rtc,
        energy_units: tuple[int, int],
        run_log: RunLog | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        p = scenario.profile
        self._scenario: Scenario | None = scenario
        self._setup(
            eeprom=eeprom, rtc=rtc, energy_units=energy_units, run_log=run_log, clock=clock,
            end_us=scenario.duration_us, address=address_wire(str(p["meter.address"])),
            utc_offset_h=float(p["meter.utc_offset_h"]),
            password02=bytes.fromhex(str(p["dlt645.password_level02"])),
            max_tries=int(p["dlt645.max_password_tries_per_day"]),
            key=scenario.programming_key_pressed, name=scenario.name,
        )

    def _setup(
        self, *, eeprom: Eeprom, rtc: Rtc, energy_units: tuple[int, int],
        run_log: RunLog | None, clock: Clock, end_us: int, address: bytes, utc_offset_h: float,
        password02: bytes, max_tries: int, key: Callable[[int], bool], name: str,
    ) -> None:
        self._eeprom = eeprom
        self._rtc = rtc
        self._energy = energy_units
        self._run_log = run_log
        self._clock = clock
        self._t0 = clock()
        self._end_us = end_us
        self._address = address
        self._utc_offset_h = utc_offset_h
        self._password02 = password02
        self._max_tries = max_tries
        self._key = key
        self._name = name
        self._failures: dict[int, int] = {}
        self._lock = threading.RLock()
        # A meter that answers on its port is powered: an RTC that had lost its supply runs on
        # from its frozen count (still flagged invalid until someone sets it).
        rtc.start(self._end_us)
        self._journal = Journal(eeprom.read)
        self._journal.recover()
        self._image: MeterImage = self._journal.image()
        self.writes = 0  # NVM page writes made while live

    @classmethod
    def from_scenario(cls, scenario: Scenario, *, clock: Clock = time.monotonic) -> LiveMeter:
        """Run the twin on ``scenario``, then hold the meter it leaves behind."""
        kernel = Kernel(scenario, trace=False)
        log = kernel.run()
        return cls(
            scenario,
            eeprom=kernel.eeprom,
            rtc=kernel.rtc,
            energy_units=_registers_at_end(kernel, log),
            run_log=log,
            clock=clock,
        )

    @classmethod
    def from_image(
        cls, nvm: bytes, *, address: str, utc_offset_h: float, energy_units: tuple[int, int],
        clock_local_ms: int, clock_valid: bool = True, drift_ppm: float = 0.0,
        password02: bytes = b"\x12\x34\x56", max_tries: int = 3, key_pressed: bool = False,
        name: str = "", clock: Clock = time.monotonic,
    ) -> LiveMeter:
        """A meter from a dump of its NVM (a fleet directory's image) and what its nameplate and
        registers say: the RTC reads ``clock_local_ms`` now and runs on; no scenario behind it."""
        rtc = Rtc(clock_local_ms, drift_ppm)
        if not clock_valid:
            rtc.stop(0)
        meter = cls.__new__(cls)
        meter._scenario = None
        meter._setup(
            eeprom=Eeprom(image=nvm), rtc=rtc, energy_units=energy_units, run_log=None,
            clock=clock, end_us=0, address=address_wire(address), utc_offset_h=utc_offset_h,
            password02=password02, max_tries=max_tries, key=lambda _t_us: key_pressed,
            name=name or address,
        )
        return meter

    # --- what it is ------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            raise RuntimeError(f"meter {self._name} was built from an image, not a scenario")
        return self._scenario

    @property
    def name(self) -> str:
        """The scenario's name, or what the image's manifest calls the meter."""
        return self._name

    @property
    def run_log(self) -> RunLog | None:
        """The kernel's log of the run that made this meter (None if built otherwise)."""
        return self._run_log

    @property
    def address(self) -> bytes:
        return self._address

    @property
    def address_digits(self) -> str:
        return bytes(reversed(self._address)).hex()

    @property
    def max_password_tries_per_day(self) -> int:
        return self._max_tries

    @property
    def utc_offset_h(self) -> float:
        return self._utc_offset_h

    def now_us(self) -> int:
        """The running sim time: µs since the scenario's start."""
        return self._end_us + int((self._clock() - self._t0) * 1e6)

    # --- MeterModel --------------------------------------------------------------------------

    def image(self) -> MeterImage:
        with self._lock:
            return self._image

    def nvm_image(self) -> bytes:
        with self._lock:
            return self._eeprom.image()

    def clock(self) -> tuple[int, bool]:
        with self._lock:
            return self._rtc.read(self.now_us())

    def clock_datetime(self) -> datetime:
        return datetime_from_local_ms(self.clock()[0], self._utc_offset_h)

    def set_clock(self, local_ms: int) -> None:
        with self._lock:
            self._rtc.set(self.now_us(), local_ms)

    def energy(self) -> tuple[int, int]:
        return self._energy

    def programming_key_pressed(self) -> bool:
        return self._key(self.now_us())

    def password(self, level: int) -> bytes | None:
        return self._password02 if level == 0x02 else None

    def password_failures(self, day: int) -> int:
        with self._lock:
            return self._failures.get(day, 0)

    def note_password_failure(self, day: int) -> None:
        with self._lock:
            # Only the meter's current day matters; older days are forgotten.
            self._failures = {day: self._failures.get(day, 0) + 1}

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool,
    ) -> None:
        """Record an event clear through the firmware's journal: one page write."""
        if len(operator) != 4:
            raise ValueError("an operator code is 4 bytes")
        with self._lock:
            j = self._journal
            write = j.event_clear(
                j.next_clear_seq(), time_ms, time_quality, int.from_bytes(operator, "little"),
                di, cover, power_down,
            )
            if write is None:  # pragma: no cover - a fresh seq always writes
                return
            addr, data = write
            self._eeprom.write(addr, data)
            j.committed(addr, data)
            self.writes += 1
            self._image = j.image()


def _registers_at_end(kernel: Kernel, log: RunLog) -> tuple[int, int]:
    """The energy registers (0.01 kWh) the meter holds when the run ends.

    While the MCU is alive its registers are the energy through the meter minus what it lost
    at its last boot (log.register_offsets); a dead MCU's are what it last saved in NVM.
    """
    if kernel.mcu_alive and log.register_offsets:
        _t, lost_imp, lost_exp = log.register_offsets[-1]
        imp, exp = kernel.energy.mwh(kernel.scenario.duration_us)
        mwh = (imp - lost_imp, exp - lost_exp)
    else:
        state = decode_image(log.final_image).state
        mwh = (state.import_mwh, state.export_mwh) if state is not None else (0, 0)
    return max(0, mwh[0]) // MWH_PER_UNIT, max(0, mwh[1]) // MWH_PER_UNIT
