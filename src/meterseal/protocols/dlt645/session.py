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
DI up in the table of handlers of answers.py, each building a catalogue value from the model;
what a meter model must offer is model.py's. The manufacturer-specific identifiers are
documented in docs/dlt645.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meterseal.firmware.caltime import MS_PER_DAY
from meterseal.firmware.records import EXACT, UNSYNCED
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.answers import CACHEABLE, HANDLERS
from meterseal.protocols.dlt645.catalog import (
    DI_CLEAR_ALL,
    DI_CLEAR_COUNT,
    DI_CLEAR_COVER,
    DI_CLEAR_POWER_DOWN,
    DI_CLEAR_TERMINAL,
    DI_METER_CLEAR_COUNT,
)
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
from meterseal.protocols.dlt645.model import MeterModel
from meterseal.protocols.dlt645.values import (
    MeterDate,
    MeterTime,
    floor_s,
    is_bcd,
    time6_from_bytes,
    time6_to_bytes,
)
from meterseal.protocols.dlt645.words import ReportMode, ReportReset

PASSWORD_LEVEL_EVENT_CLEAR: Final = 0x02  # plain password: factory mode only
LEVEL_SECURED: Final = 0x98  # data through the security module
FIRST_CHUNK: Final = MAX_DATA_LENGTH - 4  # a first answer: DI + data
NEXT_CHUNK: Final = MAX_DATA_LENGTH - 5  # a follow-up answer: DI + data + SEQ


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


# --- helpers (pure) ---------------------------------------------------------------------------


def _cacheable(request: Frame, reply: Frame) -> bool:
    """A single-frame answer to a read of records or of the address: it changes only when the
    model's image does."""
    if reply.has_follow_up or request.function_code != FunctionCode.READ:
        return request.function_code == FunctionCode.READ_ADDRESS and not reply.is_abnormal
    if len(request.data) < 4:
        return False
    return di_from_bytes(request.data[:4]) in CACHEABLE


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
