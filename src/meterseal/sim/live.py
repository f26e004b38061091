"""The live meter: the meter a scenario leaves behind, kept running so protocols can read it.

Owns the meter's state after the run: its NVM (the kernel's EEPROM, written from now on only
through the firmware's Journal), its RTC running on in real time (sim µs = the scenario's end +
the seconds elapsed on a monotonic clock since the run ended), its energy registers (frozen: no
load flows after the run), its address, its programming key (the scenario's
[[programming_key]] windows, read at the running sim time), its password table, its security
module (ESAM, hardware/esam.py) and what the field rules need: the broadcast-time rules and the
time-setting and broadcast-time logs, and the wrong-key lockout counted on the meter's own
monotonic running time, both in NVM through the firmware's authority journal (authlog.py), so
that a restart from a saved image (``persist_to``) is a reboot, not a new meter. All of it
behind one lock, so a TCP server and a serial port can share the meter.

Must not know: frames, data identifiers, sockets or serial ports (protocols/ serves it), and the
firmware's Python objects of the run (records are read only by decoding the NVM image).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from meterseal.firmware import authlog, reportword
from meterseal.firmware.authlog import AuthIndex, AuthJournal
from meterseal.firmware.image import decode_image
from meterseal.firmware.journal import Journal
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.records import FLAG_TERMINAL_OPEN, MWH_PER_UNIT
from meterseal.hardware.esam import Esam
from meterseal.hardware.nvm import Eeprom
from meterseal.hardware.rtc import Rtc, datetime_from_local_ms
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario

Clock = Callable[[], float]
WallClock = Callable[[], float]

DEFAULT_KEY = "00112233445566778899aabbccddeeff"


class Security:
    """What a meter's authority rules are made of (the profile's security and billing keys)."""

    __slots__ = ("factory_mode", "key", "lockout_s", "max_tries", "record_mac", "settle_day",
                 "settle_hour")

    def __init__(self, *, factory_mode: bool = False, key: str = DEFAULT_KEY,
                 lockout_s: int = 86400, max_tries: int = 3, settle_day: int = 1,
                 settle_hour: int = 0, record_mac: bool = False) -> None:
        self.factory_mode = factory_mode
        self.record_mac = record_mac
        self.key = bytes.fromhex(key)
        self.lockout_s = lockout_s
        self.max_tries = max_tries
        self.settle_day = settle_day
        self.settle_hour = settle_hour

    @classmethod
    def from_profile(cls, p: dict) -> Security:  # type: ignore[type-arg]
        return cls(
            factory_mode=bool(p["security.factory_mode"]), key=str(p["security.key"]),
            lockout_s=round(float(p["security.lockout_h"]) * 3600),
            max_tries=int(p["dlt645.max_password_tries_per_day"]),
            settle_day=int(p["billing.settlement_day"]),
            settle_hour=int(p["billing.settlement_hour"]),
            record_mac=bool(p.get("security.record_mac", False)),
        )


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
            security=Security.from_profile(p), key=scenario.programming_key_pressed,
            name=scenario.name,
        )
        self.vendor_prefix = int(str(p["dlt645.vendor_prefix"]), 16)

    def _setup(
        self, *, eeprom: Eeprom, rtc: Rtc, energy_units: tuple[int, int],
        run_log: RunLog | None, clock: Clock, end_us: int, address: bytes, utc_offset_h: float,
        password02: bytes, security: Security, key: Callable[[int], bool], name: str,
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
        self._security = security
        self._max_tries = security.max_tries
        self._esam = Esam(security.key)
        self._key = key
        self._name = name
        self._lock = threading.RLock()
        self._persist: Path | None = None
        self._wall: WallClock = time.time
        # A meter that answers on its port is powered: an RTC that had lost its supply runs on
        # from its frozen count (still flagged invalid until someone sets it).
        rtc.start(self._end_us)
        self.writes = 0  # NVM page writes made while live
        self._boot()

    def _boot(self) -> None:
        """Read the NVM as a booting meter does: both journals, the lockout as last saved."""
        self._journal = Journal(self._eeprom.read)
        self._journal.recover()
        if self._security.record_mac:
            # Powered, as on mains: records written on backup without their MAC get it now.
            self._journal.set_mac(self._esam.record_mac)
            while (seal := self._journal.next_seal()) is not None:
                self._write(*seal, self._journal)
        self._image: MeterImage = self._journal.image()
        # Clock changes take their place in the record chain (its MAC), when there is one.
        chain = self._journal.chained if self._security.record_mac else None
        self._auth = AuthJournal(self._eeprom.read, chain)
        self._auth.recover()
        self._lockout = self._auth.index.lockout()
        self._lockout_mono = self._clock()  # the running time the saved lockout is as of
        self._report = reportword.ReportJournal(self._eeprom.read)
        self._report.recover()

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
        name: str = "", clock: Clock = time.monotonic, security: Security | None = None,
    ) -> LiveMeter:
        """A meter from a dump of its NVM (a fleet directory's image) and what its nameplate and
        registers say: the RTC reads ``clock_local_ms`` now and runs on; no scenario behind it."""
        rtc = Rtc(clock_local_ms, drift_ppm)
        if not clock_valid:
            rtc.stop(0)
        meter = cls.__new__(cls)
        meter._scenario = None
        meter.vendor_prefix = 0x0480
        meter._setup(
            eeprom=Eeprom(image=nvm), rtc=rtc, energy_units=energy_units, run_log=None,
            clock=clock, end_us=0, address=address_wire(address), utc_offset_h=utc_offset_h,
            password02=password02,
            security=security or Security(max_tries=max_tries, factory_mode=True),
            key=lambda _t_us: key_pressed, name=name or address,
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
        """Move the RTC without a record: for tests and tools that stage a meter, never for a
        protocol (those go through :meth:`broadcast_time` and :meth:`set_time`)."""
        with self._lock:
            self._rtc.set(self.now_us(), local_ms)
            self._saved()

    def energy(self) -> tuple[int, int]:
        return self._energy

    def programming_key_pressed(self) -> bool:
        return self._key(self.now_us())

    def password(self, level: int) -> bytes | None:
        return self._password02 if level == 0x02 else None

    # --- the field rules: clock changes, authority, lockout ------------------------------------

    @property
    def factory_mode(self) -> bool:
        """Plain level-02 passwords are accepted only in factory mode (profile key)."""
        return self._security.factory_mode

    @property
    def esam(self) -> Esam:
        """The meter's security module: it checks and opens level-98 commands."""
        return self._esam

    def auth(self) -> AuthIndex:
        """The authority journal as committed: clock-change logs and the lockout counter."""
        with self._lock:
            return self._auth.index

    def clock_trusted(self) -> bool:
        """May a record stamped now claim `exact` time? Not when the RTC has lost its time, nor
        when a broadcast moved it since the latest authorised time set."""
        with self._lock:
            return self.clock()[1] and not self._auth.index.moved_by_broadcast()

    def broadcast_time(self, local_ms: int) -> int:
        """A broadcast time (08): apply the field rules; an accepted one moves the clock and is
        recorded in the broadcast-time log. The verdict (authlog.BC_*)."""
        sec = self._security
        with self._lock:
            now_ms, valid = self.clock()
            ix = self._auth.index
            last = ix.change(authlog.KIND_BROADCAST, ix.total(authlog.KIND_BROADCAST))
            verdict = authlog.broadcast_verdict(
                now_ms, valid, local_ms, None if last is None else last.after_ms,
                sec.settle_day, sec.settle_hour,
            )
            if verdict == authlog.BC_ACCEPTED:
                self._change_clock(authlog.KIND_BROADCAST, 0, now_ms, valid, local_ms)
            return verdict

    def set_time(self, local_ms: int, operator: bytes) -> None:
        """An authorised time set (the session checked the authority): move the clock, valid
        again, and record it in the time-setting log with the operator code."""
        if len(operator) != 4:
            raise ValueError("an operator code is 4 bytes")
        with self._lock:
            now_ms, valid = self.clock()
            self._change_clock(
                authlog.KIND_TIME_SET, int.from_bytes(operator, "little"), now_ms, valid, local_ms
            )

    def _change_clock(self, kind: int, operator: int, before: int, valid: bool, after: int) -> None:
        addr, data = self._auth.clock_change(kind, operator, before, after, valid)
        self._write(addr, data, self._auth)
        if self._security.record_mac:
            self._journal.committed(addr, data)  # the chain's head moved with it
        self._rtc.set(self.now_us(), after)
        self._saved()

    def password_locked(self) -> bool:
        """Does the meter refuse every password and key now (too many wrong ones lately)?"""
        with self._lock:
            return authlog.is_locked(self._lockout_now(), self._max_tries)

    def lockout(self) -> authlog.LockoutState:
        """The lockout counter as it stands now (a copy)."""
        with self._lock:
            return self._lockout_now()

    def note_security_failure(self) -> None:
        """A wrong password or a failed security check: counted in NVM at once."""
        sec = self._security
        with self._lock:
            state = authlog.after_failure(self._lockout_now(), sec.max_tries, sec.lockout_s)
            self._save_lockout(state)

    def _lockout_now(self) -> authlog.LockoutState:
        elapsed = int(self._clock() - self._lockout_mono)
        state = authlog.after_running(self._lockout, elapsed)
        if state.failures != self._lockout.failures:  # a window or lock ran out: forget it
            self._save_lockout(state)
        return state

    def _save_lockout(self, state: authlog.LockoutState) -> None:
        addr, data = self._auth.lockout(state)
        self._write(addr, data, self._auth)
        self._lockout = self._auth.index.lockout()
        self._lockout_mono = self._clock()

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool, terminal: bool = False,
    ) -> None:
        """Record an event clear through the firmware's journal: one page write."""
        if len(operator) != 4:
            raise ValueError("an operator code is 4 bytes")
        with self._lock:
            j = self._journal
            write = j.event_clear(
                j.next_clear_seq(), time_ms, time_quality, int.from_bytes(operator, "little"),
                di, cover, power_down, terminal,
            )
            if write is None:  # pragma: no cover - a fresh seq always writes
                return
            self._write(*write, j)
            self._image = j.image()

    # --- the active-report path and the live state ------------------------------------------

    def report_mode(self) -> int:
        with self._lock:
            return self._report.word.mode

    def report_status(self) -> int:
        """Set per event type once the journal holds one newer than the last reset (and its
        report is enabled); the rules are the firmware's (reportword.py)."""
        with self._lock:
            img = self._image
            return reportword.status_bits(self._report.word, img.cover_total, img.power_down,
                                          img.power_down_total)

    def set_report_mode(self, bits: int) -> None:
        with self._lock:
            word = self._report.word
            word.mode = bits
            self._write(*self._report.save(word), self._report)

    def reset_report_status(self, bits: int) -> None:
        with self._lock:
            img = self._image
            word = reportword.after_reset(self._report.word, bits, img.cover_total,
                                          img.power_down_total)
            self._write(*self._report.save(word), self._report)

    def cover_open_now(self) -> bool:
        """On mains the firmware samples the switch: the scenario's switch as it stands at the
        end of the run (the cover does not move after it). Without mains, or for a meter built
        from an image, what the meter last journalled: its newest record still open, else the
        level its saved state holds."""
        with self._lock:
            sc = self._scenario
            if sc is not None and _mains_at(sc, self._end_us):
                return any(op.open_us <= self._end_us and (
                    op.close_us is None or op.close_us > self._end_us) for op in sc.cover)
            img = self._image
            if img.cover:
                return not img.cover[0].closed
            return img.state is not None and img.state.cover_closed == 0

    def terminal_cover_open_now(self) -> bool:
        """As cover_open_now, for the terminal cover's switch (never open on a board without
        one): the scenario's switch on mains, else the meter's newest terminal record still
        open, else the level its saved state holds."""
        with self._lock:
            sc = self._scenario
            if sc is not None and not sc.profile.get("terminal_cover.present", False):
                return False
            if sc is not None and _mains_at(sc, self._end_us):
                return any(op.open_us <= self._end_us and (
                    op.close_us is None or op.close_us > self._end_us)
                    for op in sc.terminal_cover)
            img = self._image
            if img.terminal_cover:
                return not img.terminal_cover[0].closed
            return img.state is not None and bool(img.state.flags & FLAG_TERMINAL_OPEN)

    def _write(self, addr: int, data: bytes,
               journal: Journal | AuthJournal | reportword.ReportJournal) -> None:
        self._eeprom.write(addr, data)
        journal.committed(addr, data)
        self.writes += 1
        self._saved()

    # --- a meter kept in a file across restarts ---------------------------------------------

    def persist_to(self, path: Path, *, wall: WallClock = time.time) -> None:
        """Keep this meter's NVM in ``path`` (and its RTC in ``path`` + ".rtc.json"): written
        now and atomically after every change; see :meth:`reboot_from`."""
        with self._lock:
            self._persist = Path(path)
            self._wall = wall
            self._saved()

    def reboot_from(self, path: Path, *, wall: WallClock = time.time) -> None:
        """Become the meter saved in ``path``: its NVM, its RTC run on by the wall-clock time
        it was off (its battery kept it), its lockout as last saved. Then keep it there.
        OSError / ValueError when the file is not a meter's NVM image."""
        path = Path(path)
        nvm = path.read_bytes()
        if len(nvm) != len(self._eeprom.image()):
            raise ValueError(f"{path}: an NVM image has {len(self._eeprom.image())} bytes, "
                             f"got {len(nvm)}")
        rtc = _read_rtc(path)
        with self._lock:
            self._eeprom = Eeprom(image=nvm)
            if rtc is not None:
                local_ms, valid, saved_at = rtc
                local_ms += max(0, round((wall() - saved_at) * 1000))
                self._rtc.set(self.now_us(), local_ms)
                if not valid:
                    self._rtc.stop(self.now_us())
                    self._rtc.start(self.now_us())
            self._boot()
        self.persist_to(path, wall=wall)

    def _saved(self) -> None:
        path = self._persist
        if path is None:
            return
        local_ms, valid = self.clock()
        _atomic_write(path, self._eeprom.image())
        state = {"local_ms": local_ms, "valid": valid, "wall_s": self._wall()}
        _atomic_write(_rtc_path(path), json.dumps(state).encode())


def _rtc_path(path: Path) -> Path:
    return path.with_name(path.name + ".rtc.json")


def _read_rtc(path: Path) -> tuple[int, bool, float] | None:
    try:
        doc = json.loads(_rtc_path(path).read_text())
        return int(doc["local_ms"]), bool(doc["valid"]), float(doc["wall_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _mains_at(scenario: Scenario, t_us: int) -> bool:
    return not any(o.at_us <= t_us < o.at_us + o.for_us for o in scenario.outages)


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
