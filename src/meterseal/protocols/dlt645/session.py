"""The DL/T 645-2007 meter session: request frames in, reply bytes out, against a meter model.

Owns what the meter answers and the field rules of the protocol: the data identifiers it serves
(cover-open, power-down, event-clear and time-setting counts and records, date, time, address,
energies, the daily freezes, the three manufacturer strings of Table A.5, and the vendor block —
ours, under a configurable DI3 DI2 — that carries each record's time quality and bounds, the all-
time totals and the broadcast-time log), read address 13, broadcast time 08 (standard byte order ss
mm hh DD MM YY; to 99×6 never answered, to the meter's own address answered; the meter judges it by
the field rules), event clear 1B and the time set (write 14 of the date or the time) with their
authority (level 98 through the security module with MAC and deadline; level 02 only in factory
mode; only at the meter's own full address; a lockout the model keeps), follow-up frames 12 for an
answer longer than one frame, and the error byte of every refusal. Damaged frames are dropped: a
meter cannot trust the address in them.

Must not know: sockets, serial ports, threads, the simulator, or how records are stored. It
reads records only as decoded by the firmware's record codec (a MeterImage) and changes the
meter only through the MeterModel it is given (which writes through the firmware's journal).
A session holds per-link state only (pending follow-up frames, its answer cache and memo);
everything that belongs to the meter (its clock and its logs, its lockout, its security module,
its records) lives in the model, so several links can share one meter.

What each identifier carries is the data catalogue's (catalog.py, values.py): a read looks its
DI up in a table of handlers, each building a catalogue value from the model. The
manufacturer-specific identifiers are documented in docs/dlt645.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from meterseal.firmware.authlog import KIND_BROADCAST, KIND_TIME_SET
from meterseal.firmware.caltime import MS_PER_DAY
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.records import EXACT, UNSYNCED, DailyFreeze
from meterseal.firmware.reportword import open_time_ms, run_status7
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.catalog import (
    DI_CLEAR_ALL,
    DI_CLEAR_COUNT,
    DI_CLEAR_COVER,
    DI_CLEAR_POWER_DOWN,
    DI_CLEAR_TERMINAL,
    DI_METER_CLEAR_COUNT,
    RING,
    DataItem,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedFreeze,
    ExtendedFreezeBlock,
    ExtendedPowerDown,
    FreezeEnergy,
    FreezeTime,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
)
from meterseal.protocols.dlt645.chainvalues import PAGE_FIELD, ChainHead, ChainPage
from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.frame import (
    MAX_DATA_LENGTH,
    MAX_PREAMBLE,
    ErrorCode,
    Frame,
    FrameError,
    FunctionCode,
    abnormal_reply,
    address_matches,
    di_from_bytes,
    encode,
    is_broadcast,
    normal_reply,
)
from meterseal.protocols.dlt645.values import (
    Address,
    AllTimeTotals,
    Count,
    Energy,
    MeterDate,
    MeterTime,
    Value,
    VersionString,
    floor_s,
    is_bcd,
    time6_from_bytes,
    time6_to_bytes,
)
from meterseal.protocols.dlt645.words import (
    CoverOpenTime,
    ReportMode,
    ReportReset,
    ReportStatus,
    RunStatus7,
)

PASSWORD_LEVEL_EVENT_CLEAR: Final = 0x02  # plain password: factory mode only
LEVEL_SECURED: Final = 0x98  # data through the security module
MANUFACTURER_NAME: Final = "meterseal"  # what 04 80 00 03 answers (maker.py may say otherwise)
SOFTWARE_VERSION: Final = "meterseal-fw 0.1.0"
HARDWARE_VERSION: Final = "meterseal twin single-phase"
FIRST_CHUNK: Final = MAX_DATA_LENGTH - 4  # a first answer: DI + data
NEXT_CHUNK: Final = MAX_DATA_LENGTH - 5  # a follow-up answer: DI + data + SEQ


class MeterModel(Protocol):
    """What a session needs of a meter: the live meter of sim/live.py, or a test double.

    Times are local epoch ms (ms since 2000-01-01T00:00 in the meter's local standard time).
    Methods may be called from several links at once; the model keeps itself consistent.
    """

    @property
    def address(self) -> bytes:
        """The meter's 6-byte communication address, wire order (lowest byte first)."""
        ...

    @property
    def factory_mode(self) -> bool:
        """Whether plain level-02 passwords are accepted (factory mode only)."""
        ...

    @property
    def esam(self) -> SecurityModule: ...

    def image(self) -> MeterImage:
        """The records as the NVM holds them now, decoded by the firmware's codec."""
        ...

    def auth(self) -> ClockLogs:
        """The authority journal as the NVM holds it now (firmware authlog.AuthIndex)."""
        ...

    def clock(self) -> tuple[int, bool]:
        """(local ms, valid) of the meter's RTC now."""
        ...

    def clock_trusted(self) -> bool:
        """Valid, and not moved by a broadcast since the latest authorised time set."""
        ...

    def broadcast_time(self, local_ms: int) -> int:
        """Apply a broadcast time by the meter's rules: 0 accepted (and recorded), else why not
        (firmware authlog.BC_*)."""
        ...

    def set_time(self, local_ms: int, operator: bytes) -> None:
        """An authorised time set: move the clock and record it with the operator code."""
        ...

    def energy(self) -> tuple[int, int]:
        """(import, export) active energy registers, in 0.01 kWh."""
        ...

    def programming_key_pressed(self) -> bool: ...

    def password(self, level: int) -> bytes | None:
        """P0 P1 P2 of the password of that level (wire order), or None if it has none."""
        ...

    def password_locked(self) -> bool:
        """Too many wrong passwords or keys lately (a count in NVM, on the meter's own
        monotonic running time): every password and key is refused."""
        ...

    def note_security_failure(self) -> None: ...

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool, terminal: bool = False,
    ) -> None:
        """Record an event clear (through the firmware's journal) and apply it."""
        ...

    def report_mode(self) -> int:
        """The active-report mode word (64 bits, a bit per event type whose report is on)."""
        ...

    def report_status(self) -> int:
        """The active-report status word (96 bits, a bit per event type awaiting its report)."""
        ...

    def set_report_mode(self, bits: int) -> None:
        """An authorised write of the mode word (in NVM)."""
        ...

    def reset_report_status(self, bits: int) -> None:
        """An authorised reset of the status bits set in ``bits`` (in NVM)."""
        ...

    def cover_open_now(self) -> bool:
        """The meter cover as the meter knows it now (live on mains; on backup as its watch
        last saw it)."""
        ...

    def terminal_cover_open_now(self) -> bool:
        """The terminal cover likewise (False on a meter without a terminal-cover switch)."""
        ...


class SecurityModule(Protocol):
    def open(self, header: bytes, sealed: bytes) -> bytes | None:
        """The plaintext of a level-98 data field if its MAC over header + ciphertext holds."""
        ...


class ClockLogs(Protocol):
    def total(self, kind: int) -> int: ...

    def changes(self, kind: int) -> list[Any]: ...


@dataclass(slots=True)
class _FollowUp:
    request: Frame  # the read that started it (address and DI to answer from)
    di: int
    chunks: list[bytes]  # the data still to send, one per follow-up frame


class Dlt645Session:
    """One link's conversation with a meter model (implements FrameHandler).

    ``preamble``: FE bytes before each answer (0..4; many meters send 4).

    Answers that depend only on the records (the event logs and the manufacturer-specific
    identifiers, the address) are kept encoded until the model's image changes: a head-end
    polling the same identifier costs a dictionary lookup. Clock and energy answers are
    always computed afresh.

    On top of that, a memo of exact request bytes -> reply bytes (:meth:`memo`,
    :meth:`remember`) lets a transport answer a repeated request without decoding it; it is
    cleared with the cache, i.e. whenever the records change. What depends on the clock (date,
    time, the clock-change logs) or on the lockout (clears, writes) is never in it.
    """

    __slots__ = (
        "_cache", "_cache_image", "_follow_up", "_memo", "_model", "_preamble", "_prefix",
    )

    CACHE_LIMIT = 256  # distinct requests kept; a client asking for ever new ones resets it

    def __init__(self, model: MeterModel, *, preamble: int = MAX_PREAMBLE,
                 vendor_prefix: int = cat.VENDOR_PREFIX) -> None:
        if not 0 <= preamble <= MAX_PREAMBLE:
            raise ValueError(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
        if not 0 <= vendor_prefix <= 0xFFFF or vendor_prefix >> 8 != 0x04:
            raise ValueError(f"a vendor block is a 04 xx prefix, got {vendor_prefix:04X}")
        self._prefix = vendor_prefix
        self._model = model
        self._preamble = preamble
        self._follow_up: _FollowUp | None = None
        self._cache: dict[tuple[bytes, int, bytes], bytes] = {}
        self._memo: dict[bytes, bytes] = {}
        self._cache_image: object = None

    @property
    def model(self) -> MeterModel:
        return self._model

    @property
    def vendor_prefix(self) -> int:
        """DI3 DI2 of the vendor block this meter serves (04 80 unless the profile moved it)."""
        return self._prefix

    # --- FrameHandler ------------------------------------------------------------------------

    def memo(self, request: bytes) -> bytes | None:
        """The reply to exactly these request bytes if it is remembered and still true."""
        self._fresh()
        hit = self._memo.get(request)
        if hit is not None:
            self._follow_up = None  # as a fresh single-frame read would
        return hit

    def remember(self, request: bytes, frame: Frame) -> None:
        """``request`` (bytes received) decoded to exactly ``frame``, just handled: remember its
        reply for those bytes if the reply is one the cache keeps."""
        hit = self._cache.get((frame.address, frame.control, frame.data))
        if hit is not None:
            if len(self._memo) >= self.CACHE_LIMIT:
                self._memo.clear()
            self._memo[bytes(request)] = hit

    def _fresh(self) -> None:
        image = self._model.image()
        if image is not self._cache_image:
            self._cache.clear()
            self._memo.clear()
            self._cache_image = image

    def handle(self, frame: Frame) -> list[bytes]:
        key = (frame.address, frame.control, frame.data)
        self._fresh()
        hit = self._cache.get(key)
        if hit is not None:
            self._follow_up = None  # as a fresh single-frame read would
            return [hit]
        reply = self.answer(frame)
        if reply is None:
            return []
        raw = encode(reply, self._preamble)
        if _cacheable(frame, reply):
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = raw
        return [raw]

    def handle_error(self, error: FrameError) -> list[bytes]:
        # A damaged frame's address cannot be trusted: answering could make several meters on
        # one bus talk at once. Silence is the standard's answer to a bad checksum.
        return []

    # --- the answers, as frames --------------------------------------------------------------

    def answer(self, frame: Frame) -> Frame | None:
        """The reply frame to ``frame``, or None when the meter stays silent."""
        if frame.is_reply:
            return None  # another meter's answer, or our own echo on a half-duplex bus
        model = self._model
        me = model.address
        code = frame.function_code
        if code == FunctionCode.BROADCAST_TIME:
            return self._broadcast_time(frame, me)
        if is_broadcast(frame.address) or not address_matches(frame.address, me):
            return None
        if code == FunctionCode.READ:
            return self._read(frame, me)
        if code == FunctionCode.READ_FOLLOW_UP:
            return self._read_follow_up(frame, me)
        if code == FunctionCode.READ_ADDRESS:
            return normal_reply(frame, me, me)
        if code in (FunctionCode.EVENT_CLEAR, FunctionCode.WRITE) and frame.address != me:
            # Clears and writes only to the meter's own full address: a wildcard would clear
            # every meter on a bus that shares the password.
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)
        if code == FunctionCode.EVENT_CLEAR:
            return self._event_clear(frame, me)
        if code == FunctionCode.WRITE:
            return self._write(frame, me)
        return abnormal_reply(frame, me, ErrorCode.OTHER)

    # --- 11 read and 12 follow-up ------------------------------------------------------------

    def _read(self, frame: Frame, me: bytes) -> Frame:
        if len(frame.data) < 4:
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        asked = di_from_bytes(frame.data[:4])
        di = cat.from_vendor_block(asked, self._prefix)
        value = None if di is None else self.value(di)
        if value is None or di is None:
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        head = frame.data[:4]
        if len(value) <= FIRST_CHUNK:
            self._follow_up = None
            return normal_reply(frame, me, head + value)
        first, rest = value[:FIRST_CHUNK], value[FIRST_CHUNK:]
        chunks = [rest[i : i + NEXT_CHUNK] for i in range(0, len(rest), NEXT_CHUNK)]
        self._follow_up = _FollowUp(frame, asked, chunks)
        return normal_reply(frame, me, head + first, follow_up=True)

    def _read_follow_up(self, frame: Frame, me: bytes) -> Frame:
        pending = self._follow_up
        if len(frame.data) < 5 or pending is None:
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        di = di_from_bytes(frame.data[:4])
        seq = frame.data[4]
        if di != pending.di or not 1 <= seq <= len(pending.chunks):
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        more = seq < len(pending.chunks)
        if not more:
            self._follow_up = None
        return normal_reply(
            frame, me, frame.data[:4] + pending.chunks[seq - 1] + bytes((seq,)), follow_up=more
        )

    def value(self, di: int) -> bytes | None:
        """The data a read of ``di`` answers (after the echoed DI), or None if not served."""
        handler = HANDLERS.get(di)
        return None if handler is None else handler(self._model, di).to_bytes()

    # --- 08 broadcast time -------------------------------------------------------------------

    def _broadcast_time(self, frame: Frame, me: bytes) -> Frame | None:
        """To 99×6: applied by the meter's rules, never answered. To the meter's own full
        address: answered, 88 when accepted, C8 + b0 when refused. Anything else: silence."""
        to_all = is_broadcast(frame.address)
        if not to_all and frame.address != me:
            return None
        local_ms = broadcast_time_ms(frame.data)
        verdict = -1 if local_ms is None else self._model.broadcast_time(local_ms)
        if to_all:
            return None
        if verdict == 0:
            return normal_reply(frame, me)
        return abnormal_reply(frame, me, ErrorCode.OTHER)

    # --- authority: level 02 (factory mode) and level 98 (the security module) ---------------

    def _authorise(self, frame: Frame, me: bytes, at: int) -> _Authorised | ErrorCode:
        """Check the password block at data[at:at + 8] (PA P0 P1 P2, C0..C3) and what follows:
        the command it authorises, or the error to answer."""
        model = self._model
        data = frame.data
        if model.password_locked():
            return ErrorCode.NOT_AUTHORISED  # too many wrong passwords or keys lately
        level, operator = data[at], bytes(data[at + 4 : at + 8])
        if level == LEVEL_SECURED:
            return self._open_secured(frame, me, at, operator)
        if level != PASSWORD_LEVEL_EVENT_CLEAR or not model.factory_mode:
            if level != PASSWORD_LEVEL_EVENT_CLEAR:
                model.note_security_failure()
            return ErrorCode.NOT_AUTHORISED  # level 02 only in factory mode; others never
        expected = model.password(level)
        if expected is None or bytes(data[at + 1 : at + 4]) != bytes(expected):
            model.note_security_failure()
            return ErrorCode.NOT_AUTHORISED
        if not model.programming_key_pressed() or not is_bcd(operator):
            return ErrorCode.NOT_AUTHORISED
        rest = bytes(data[at + 8 :])
        if frame.function_code == FunctionCode.EVENT_CLEAR:
            if len(rest) != 4:
                return ErrorCode.OTHER
            return _Authorised(operator, di_from_bytes(rest), b"")
        return _Authorised(operator, di_from_bytes(data[:4]), rest)

    def _open_secured(self, frame: Frame, me: bytes, at: int, operator: bytes
                      ) -> _Authorised | ErrorCode:
        """Level 98: the security module checks the MAC and opens the data; the command inside
        must name this function (and, for a write, the DI in clear), and its deadline must not
        have passed on the meter's clock. Every failure is counted toward the lockout."""
        model = self._model
        code = frame.function_code
        plain = model.esam.open(me + bytes((code,)) + operator, bytes(frame.data[at + 8 :]))
        command = _secured_command(plain)
        if command is None or command[0] != code or not is_bcd(operator) or (
            code == FunctionCode.WRITE and command[1] != di_from_bytes(frame.data[:4])
        ):
            model.note_security_failure()
            return ErrorCode.NOT_AUTHORISED
        _code, di, deadline_ms, value = command
        now_ms, valid = model.clock()
        # A clock that lost its time cannot judge a deadline: only a time set may pass then.
        fixes_clock = code == FunctionCode.WRITE and di in (cat.DI_DATE, cat.DI_TIME)
        if (valid and now_ms > deadline_ms) or (not valid and not fixes_clock):
            model.note_security_failure()
            return ErrorCode.NOT_AUTHORISED
        return _Authorised(operator, di, value)

    # --- 1B event clear ----------------------------------------------------------------------

    def _event_clear(self, frame: Frame, me: bytes) -> Frame:
        data = frame.data
        level = data[0] if data else None
        if len(data) != 12 and not (level == LEVEL_SECURED and len(data) > 12):
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        auth = self._authorise(frame, me, 0)
        if not isinstance(auth, _Authorised):
            return abnormal_reply(frame, me, auth)
        model = self._model
        di = auth.di
        terminal = di in (DI_CLEAR_ALL, DI_CLEAR_TERMINAL)
        if di == DI_CLEAR_ALL:
            cover, power_down = True, True
        elif di == DI_CLEAR_COVER:
            cover, power_down = True, False
        elif di == DI_CLEAR_POWER_DOWN:
            cover, power_down = False, True
        elif di == DI_CLEAR_TERMINAL:
            cover, power_down = False, False
        elif di >> 8 in (DI_CLEAR_COUNT >> 8, DI_METER_CLEAR_COUNT >> 8):
            # the event-clear and meter-clear logs are the evidence of clears: never cleared
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)
        else:
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        now_ms = model.clock()[0]
        quality = EXACT if model.clock_trusted() else UNSYNCED
        model.clear_events(now_ms, quality, auth.operator, di, cover, power_down, terminal)
        return normal_reply(frame, me)

    # --- 14 write: the date and the time (an authorised time set) -----------------------------

    def _write(self, frame: Frame, me: bytes) -> Frame:
        data = frame.data
        if len(data) < 12:
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        if di_from_bytes(data[:4]) not in WRITABLE:
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)  # nothing else writable
        auth = self._authorise(frame, me, 4)
        if not isinstance(auth, _Authorised):
            return abnormal_reply(frame, me, auth)
        if auth.di in (cat.DI_REPORT_MODE, cat.DI_REPORT_RESET):
            return self._write_report_word(frame, me, auth)
        model = self._model
        now_ms = model.clock()[0]
        try:
            if auth.di == cat.DI_DATE:
                date = MeterDate.from_bytes(auth.value)
                if date.weekday != MeterDate.of(date.date_ms).weekday:
                    raise CatalogError("the weekday does not match the date")
                new_ms = date.date_ms + now_ms % MS_PER_DAY
            else:
                new_ms = MeterDate.of(now_ms).at(MeterTime.from_bytes(auth.value))
        except (CatalogError, ValueError):
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        model.set_time(new_ms, auth.operator)
        return normal_reply(frame, me)


    def _write_report_word(self, frame: Frame, me: bytes, auth: _Authorised) -> Frame:
        """The mode word (8 bytes) or a reset of status bits (12 bytes), already authorised."""
        try:
            if auth.di == cat.DI_REPORT_MODE:
                self._model.set_report_mode(ReportMode.from_bytes(auth.value).bits)
            else:
                self._model.reset_report_status(ReportReset.from_bytes(auth.value).bits)
        except CatalogError:
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        return normal_reply(frame, me)


# What a write 14 may name: the clock, and the active-report words.
WRITABLE: Final = frozenset((cat.DI_DATE, cat.DI_TIME, cat.DI_REPORT_MODE, cat.DI_REPORT_RESET))


@dataclass(frozen=True, slots=True)
class _Authorised:
    operator: bytes  # C0..C3 as received
    di: int  # what the command acts on
    value: bytes  # the data to write (empty for a clear)


def _secured_command(plain: bytes | None) -> tuple[int, int, int, bytes] | None:
    """(function code, DI, deadline local ms, value) of an opened level-98 command, or None."""
    if plain is None or len(plain) < 11:
        return None
    try:
        deadline = time6_from_bytes(plain[5:11], "command deadline")
    except CatalogError:
        return None
    if deadline is None:
        return None
    return plain[0], di_from_bytes(plain[1:5]), deadline, bytes(plain[11:])


# --- what each identifier answers ------------------------------------------------------------
# A handler builds the catalogue value a read of one DI answers, from the model as it is now.

Handler = Callable[[MeterModel, int], Value]


def _import_energy(model: MeterModel, di: int) -> Value:
    return Energy.rolled(model.energy()[0])


def _export_energy(model: MeterModel, di: int) -> Value:
    return Energy.rolled(model.energy()[1])


def _date(model: MeterModel, di: int) -> Value:
    return MeterDate.of(model.clock()[0])


def _time(model: MeterModel, di: int) -> Value:
    return MeterTime.of(model.clock()[0])


def _address(model: MeterModel, di: int) -> Value:
    return Address(bytes(model.address))


def _cover_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().cover_count())


def _cover_record(model: MeterModel, di: int) -> Value:
    n = di - cat.COVER_OPEN_RECORD.first + 1
    records = model.image().standard_cover()
    if n > len(records):
        return StandardCoverOpen()  # no such record (yet): all zeros, as meters answer
    return StandardCoverOpen.from_record(records[n - 1])


def _terminal_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().terminal_cover_count())


def _terminal_record(model: MeterModel, di: int) -> Value:
    n = di - cat.TERMINAL_OPEN_RECORD.first + 1
    records = model.image().standard_terminal_cover()
    if n > len(records):
        return StandardCoverOpen()
    return StandardCoverOpen.from_record(records[n - 1])


def _power_down_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().power_down_count())


def _power_down_record(model: MeterModel, di: int) -> Value:
    n = di - cat.POWER_DOWN_RECORD.first + 1
    records = model.image().standard_power_down()
    if n > len(records):
        return StandardPowerDown()
    return StandardPowerDown.from_record(records[n - 1])


def _clear_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().clear_total)


def _clear_record(model: MeterModel, di: int) -> Value:
    n = di - cat.EVENT_CLEAR_RECORD.first + 1
    records = model.image().clears
    if n > len(records):
        return StandardEventClear()
    return StandardEventClear.from_record(records[n - 1])


def _time_set_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.auth().total(KIND_TIME_SET))


def _time_set_record(model: MeterModel, di: int) -> Value:
    return _change(model, KIND_TIME_SET, di - cat.TIME_SET_RECORD.first + 1)


def _broadcast_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.auth().total(KIND_BROADCAST))


def _broadcast_record(model: MeterModel, di: int) -> Value:
    return _change(model, KIND_BROADCAST, di - cat.BROADCAST_RECORD.first + 1)


def _change(model: MeterModel, kind: int, n: int) -> Value:
    records = model.auth().changes(kind)
    if n > len(records):
        return StandardTimeSet()
    return StandardTimeSet.from_change(records[n - 1])


def _software_version(model: MeterModel, di: int) -> Value:
    return VersionString(SOFTWARE_VERSION)


def _hardware_version(model: MeterModel, di: int) -> Value:
    return VersionString(HARDWARE_VERSION)


def _manufacturer(model: MeterModel, di: int) -> Value:
    return VersionString(MANUFACTURER_NAME)


def _mfr_cover_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.cover_total, img.cover_base)


def _extended_cover(img: MeterImage, n: int) -> ExtendedCoverOpen:
    """The n-th latest cover-open record of all time, cleared or not."""
    if n > len(img.cover):
        return ExtendedCoverOpen()
    return ExtendedCoverOpen.from_record(img.cover[n - 1], img.cover_base)


def _mfr_cover_record(model: MeterModel, di: int) -> Value:
    return _extended_cover(model.image(), di - cat.MFR_COVER_OPEN_RECORD.first + 1)


def _mfr_cover_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedCoverBlock(tuple(_extended_cover(img, n) for n in range(1, RING + 1)))


def _mfr_terminal_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.terminal_cover_total, img.terminal_cover_base)


def _extended_terminal(img: MeterImage, n: int) -> ExtendedCoverOpen:
    """The n-th latest terminal-cover-open record of all time, cleared or not."""
    if n > len(img.terminal_cover):
        return ExtendedCoverOpen()
    return ExtendedCoverOpen.from_record(img.terminal_cover[n - 1], img.terminal_cover_base)


def _mfr_terminal_record(model: MeterModel, di: int) -> Value:
    return _extended_terminal(model.image(), di - cat.MFR_TERMINAL_OPEN_RECORD.first + 1)


def _mfr_terminal_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedCoverBlock(tuple(_extended_terminal(img, n) for n in range(1, RING + 1)))


def _mfr_power_down_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.power_down_total, img.power_down_base)


def _mfr_power_down_record(model: MeterModel, di: int) -> Value:
    img = model.image()
    n = di - cat.MFR_POWER_DOWN_RECORD.first + 1
    if n > len(img.power_down):
        return ExtendedPowerDown()
    return ExtendedPowerDown.from_record(img.power_down[n - 1], img.power_down_base)


def _nth_freeze(model: MeterModel, item: DataItem, di: int) -> DailyFreeze | None:
    """The n-th latest daily freeze of the DI's run, or None (not frozen yet)."""
    n = di - item.first + 1
    freezes = model.image().freezes
    return freezes[n - 1] if n <= len(freezes) else None


def _freeze_time(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_TIME, di)
    return FreezeTime() if rec is None else FreezeTime.from_record(rec)


def _freeze_import(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_IMPORT, di)
    return FreezeEnergy() if rec is None else FreezeEnergy.rolled(rec.import_units)


def _freeze_export(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_EXPORT, di)
    return FreezeEnergy() if rec is None else FreezeEnergy.rolled(rec.export_units)


def _extended_freeze(img: MeterImage, n: int) -> ExtendedFreeze:
    return ExtendedFreeze.from_record(img.freezes[n - 1]) if n <= len(img.freezes) \
        else ExtendedFreeze()


def _mfr_freeze(model: MeterModel, di: int) -> Value:
    return _extended_freeze(model.image(), di - cat.MFR_FREEZE.first + 1)


def _run_status7(model: MeterModel, di: int) -> Value:
    return RunStatus7(run_status7(model.cover_open_now(), model.terminal_cover_open_now()))


def _report_mode(model: MeterModel, di: int) -> Value:
    return ReportMode(model.report_mode())


def _report_status(model: MeterModel, di: int) -> Value:
    return ReportStatus(model.report_status())


def _mfr_cover_open_time(model: MeterModel, di: int) -> Value:
    openings, open_ms = open_time_ms(model.image().cover, model.clock()[0])
    return CoverOpenTime.of(openings, open_ms)


def _mfr_freeze_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedFreezeBlock(tuple(_extended_freeze(img, n)
                                     for n in range(1, cat.FREEZES + 1)))


def _mfr_chain_head(model: MeterModel, di: int) -> Value:
    """The newest chained page's chain_seq and MAC (its own, or its seal's: zeros while it
    awaits one), and how many chained pages await their seal."""
    from meterseal.firmware.chain import read_link

    chain = model.image().chain
    if not chain:
        return ChainHead()
    page, data, seal = chain[0]
    link = read_link(page, data)
    unsealed = sum(1 for p, d, s in chain if not s and _late(p, d))
    mac = (seal[15:23] if seal else bytes(8)) if link is None or link.late() else link.mac
    return ChainHead(len(chain), 0 if link is None else link.chain_seq, mac, unsealed)


def _late(page: int, data: bytes) -> bool:
    from meterseal.firmware.chain import read_link

    link = read_link(page, data)
    return link is not None and link.late()


def _mfr_chain_page(model: MeterModel, di: int) -> Value:
    chain = model.image().chain
    n = di - cat.MFR_CHAIN_PAGE.first + 1
    if n > len(chain):
        return ChainPage()
    page, data, seal = chain[n - 1]
    return ChainPage(page, data + bytes(PAGE_FIELD - len(data)), seal)


_HANDLERS_BY_ITEM: Final[dict[DataItem, Handler]] = {
    cat.IMPORT_ENERGY: _import_energy,
    cat.EXPORT_ENERGY: _export_energy,
    cat.DATE: _date,
    cat.TIME: _time,
    cat.ADDRESS: _address,
    cat.COVER_OPEN_COUNT: _cover_count,
    cat.COVER_OPEN_RECORD: _cover_record,
    cat.POWER_DOWN_COUNT: _power_down_count,
    cat.POWER_DOWN_RECORD: _power_down_record,
    cat.EVENT_CLEAR_COUNT: _clear_count,
    cat.EVENT_CLEAR_RECORD: _clear_record,
    cat.TIME_SET_COUNT: _time_set_count,
    cat.TIME_SET_RECORD: _time_set_record,
    cat.SOFTWARE_VERSION: _software_version,
    cat.HARDWARE_VERSION: _hardware_version,
    cat.MANUFACTURER: _manufacturer,
    cat.BROADCAST_COUNT: _broadcast_count,
    cat.BROADCAST_RECORD: _broadcast_record,
    cat.MFR_COVER_OPEN_TOTALS: _mfr_cover_totals,
    cat.MFR_COVER_OPEN_RECORD: _mfr_cover_record,
    cat.MFR_COVER_OPEN_BLOCK: _mfr_cover_block,
    cat.MFR_POWER_DOWN_TOTALS: _mfr_power_down_totals,
    cat.MFR_POWER_DOWN_RECORD: _mfr_power_down_record,
    cat.FREEZE_TIME: _freeze_time,
    cat.FREEZE_IMPORT: _freeze_import,
    cat.FREEZE_EXPORT: _freeze_export,
    cat.MFR_FREEZE: _mfr_freeze,
    cat.MFR_FREEZE_BLOCK: _mfr_freeze_block,
    cat.MFR_CHAIN_HEAD: _mfr_chain_head,
    cat.MFR_CHAIN_PAGE: _mfr_chain_page,
    cat.RUN_STATUS7: _run_status7,
    cat.REPORT_MODE: _report_mode,
    cat.REPORT_STATUS: _report_status,
    cat.MFR_COVER_OPEN_TIME: _mfr_cover_open_time,
    cat.TERMINAL_OPEN_COUNT: _terminal_count,
    cat.TERMINAL_OPEN_RECORD: _terminal_record,
    cat.MFR_TERMINAL_OPEN_TOTALS: _mfr_terminal_totals,
    cat.MFR_TERMINAL_OPEN_RECORD: _mfr_terminal_record,
    cat.MFR_TERMINAL_OPEN_BLOCK: _mfr_terminal_block,
}

# Every DI the meter serves, with its handler: a dictionary lookup per read.
HANDLERS: Final[dict[int, Handler]] = {
    di: handler for item, handler in _HANDLERS_BY_ITEM.items() for di in item.dis()
}

# Answers that change only when the model's image does (records, totals) or never (address).
_CACHEABLE: Final = frozenset(
    di for item in _HANDLERS_BY_ITEM if item not in (
        cat.IMPORT_ENERGY, cat.EXPORT_ENERGY, cat.DATE, cat.TIME,
        # the clock-change logs live in the authority journal, outside the image
        cat.TIME_SET_COUNT, cat.TIME_SET_RECORD, cat.BROADCAST_COUNT, cat.BROADCAST_RECORD,
        # live state, the report page (outside the image) and time open up to now
        cat.RUN_STATUS7, cat.REPORT_MODE, cat.REPORT_STATUS, cat.MFR_COVER_OPEN_TIME,
    ) for di in item.dis()
)


# --- helpers (pure) ---------------------------------------------------------------------------


def _cacheable(request: Frame, reply: Frame) -> bool:
    """A single-frame answer to a read of records or of the address: it changes only when the
    model's image does."""
    if reply.has_follow_up or request.function_code != FunctionCode.READ:
        return request.function_code == FunctionCode.READ_ADDRESS and not reply.is_abnormal
    if len(request.data) < 4:
        return False
    return di_from_bytes(request.data[:4]) in _CACHEABLE


def broadcast_time_ms(data: bytes) -> int | None:
    """The local ms a broadcast-time data field sets, or None if it is not a valid time.

    Byte order ss mm hh DD MM YY (low byte first, as every multi-byte field of the standard):
    the catalogue's YYMMDDhhmmss field; see docs/dlt645.md for the sources and for the PyPI
    dlt645 client, which departs from it.
    """
    try:
        return time6_from_bytes(data, "broadcast time")
    except CatalogError:
        return None


def broadcast_time_data(local_ms: int) -> bytes:
    """The 6-byte broadcast-time data field (ss mm hh DD MM YY, BCD) of a local ms."""
    return time6_to_bytes(floor_s(local_ms))
