"""The DL/T 645-2007 meter session: request frames in, reply bytes out, against a meter model.

Owns what the meter answers: the data identifiers it serves (cover-open, power-down and
event-clear counts and records, date, time, address, energies, and the manufacturer-specific
identifiers that carry each record's time quality and bounds and the all-time totals), read
address 13, broadcast time 08 (standard byte order ss mm hh DD MM YY), event clear 1B with its
guards (level-02 password, operator code, programming key, a daily limit of wrong passwords),
follow-up frames 12 for an answer longer than one frame, and the error byte of every refusal.
Damaged frames are dropped: a meter cannot trust the address in them.

Must not know: sockets, serial ports, threads, the simulator, or how records are stored. It
reads records only as decoded by the firmware's record codec (a MeterImage) and changes the
meter only through the MeterModel it is given (which writes through the firmware's journal).
A session holds per-link state only (pending follow-up frames); everything that belongs to the
meter (its clock, its password lockout, its records) lives in the model, so several links can
share one meter.

The manufacturer-specific identifiers are documented in docs/dlt645.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from meterseal.firmware.bcd import bcd_count3, bcd_energy4, bcd_time6, from_bcd
from meterseal.firmware.caltime import MS_PER_DAY, civil_from_ms, ms_from_civil
from meterseal.firmware.image import MeterImage
from meterseal.firmware.records import BOUNDED, EXACT, UNSYNCED, CoverOpen, PowerDown
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

# --- standard data identifiers (DI3 DI2 DI1 DI0) ------------------------------------------------

DI_IMPORT_ENERGY: Final = 0x00010000
DI_EXPORT_ENERGY: Final = 0x00020000
DI_DATE: Final = 0x04000101  # YYMMDDWW
DI_TIME: Final = 0x04000102  # hhmmss
DI_ADDRESS: Final = 0x04000401
DI_COVER_COUNT: Final = 0x03300D00  # + n (1..10): the n-th latest cover-open record
DI_POWER_DOWN_COUNT: Final = 0x03110000  # + n: the n-th latest power-down record
DI_CLEAR_COUNT: Final = 0x03300300  # + n: the n-th latest event-clear record

# What an event clear 1B may name: every log, or one type (DI0 = FF).
DI_CLEAR_ALL: Final = 0xFFFFFFFF
DI_CLEAR_COVER: Final = 0x03300DFF
DI_CLEAR_POWER_DOWN: Final = 0x031100FF

# --- manufacturer-specific identifiers (docs/dlt645.md) ---------------------------------------
# The 04 80 block of the parameter table, which DL/T 645-2007 Table A.5 opens for manufacturer
# data (04800001..03: manufacturer software and hardware version, manufacturer number); DI1
# repeats the standard event's DI1 (0D cover open, 11 power down).

# 04800D00: cover-open all-time total (4 BCD) and standard-view baseline (4 BCD);
# + n (1..10): the n-th latest cover-open record of all time, extended; + FF: all ten of them.
DI_MFR_COVER_TOTALS: Final = 0x04800D00
DI_MFR_COVER_BLOCK: Final = 0x04800DFF
# 04801100: power-down all-time total and baseline; + n: the n-th latest record, extended.
DI_MFR_POWER_DOWN_TOTALS: Final = 0x04801100

RING: Final = 10
PASSWORD_LEVEL_EVENT_CLEAR: Final = 0x02
NO_QUALITY: Final = 0xFF  # the close/end quality of a record still open
FLAG_HIDDEN: Final = 0x01  # the record was hidden from the standard view by an event clear
FLAG_CLOSED: Final = 0x02  # the record is closed (cover) / ended (power down)
MFR_COVER_LENGTH: Final = 4 + 1 + 1 + 1 + 6 + 6 + 60  # 79
MFR_POWER_DOWN_LENGTH: Final = 4 + 1 + 1 + 1 + 12  # 19
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
    def max_password_tries_per_day(self) -> int: ...

    def image(self) -> MeterImage:
        """The records as the NVM holds them now, decoded by the firmware's codec."""
        ...

    def clock(self) -> tuple[int, bool]:
        """(local ms, valid) of the meter's RTC now."""
        ...

    def set_clock(self, local_ms: int) -> None: ...

    def energy(self) -> tuple[int, int]:
        """(import, export) active energy registers, in 0.01 kWh."""
        ...

    def programming_key_pressed(self) -> bool: ...

    def password(self, level: int) -> bytes | None:
        """P0 P1 P2 of the password of that level (wire order), or None if it has none."""
        ...

    def password_failures(self, day: int) -> int:
        """Wrong passwords counted on the meter's day (local days since 2000-01-01)."""
        ...

    def note_password_failure(self, day: int) -> None: ...

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool,
    ) -> None:
        """Record an event clear (through the firmware's journal) and apply it."""
        ...


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
    """

    __slots__ = ("_cache", "_cache_image", "_follow_up", "_model", "_preamble")

    CACHE_LIMIT = 256  # distinct requests kept; a client asking for ever new ones resets it

    def __init__(self, model: MeterModel, *, preamble: int = MAX_PREAMBLE) -> None:
        if not 0 <= preamble <= MAX_PREAMBLE:
            raise ValueError(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
        self._model = model
        self._preamble = preamble
        self._follow_up: _FollowUp | None = None
        self._cache: dict[tuple[bytes, int, bytes], bytes] = {}
        self._cache_image: object = None

    @property
    def model(self) -> MeterModel:
        return self._model

    # --- FrameHandler ------------------------------------------------------------------------

    def handle(self, frame: Frame) -> list[bytes]:
        key = (frame.address, frame.control, frame.data)
        image = self._model.image()
        if image is not self._cache_image:
            self._cache.clear()
            self._cache_image = image
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
            if is_broadcast(frame.address) or address_matches(frame.address, me):
                self._broadcast_time(frame.data)
            return None
        if is_broadcast(frame.address) or not address_matches(frame.address, me):
            return None
        if code == FunctionCode.READ:
            return self._read(frame, me)
        if code == FunctionCode.READ_FOLLOW_UP:
            return self._read_follow_up(frame, me)
        if code == FunctionCode.READ_ADDRESS:
            return normal_reply(frame, me, me)
        if code == FunctionCode.EVENT_CLEAR:
            return self._event_clear(frame, me)
        return abnormal_reply(frame, me, ErrorCode.OTHER)

    # --- 11 read and 12 follow-up ------------------------------------------------------------

    def _read(self, frame: Frame, me: bytes) -> Frame:
        if len(frame.data) < 4:
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        di = di_from_bytes(frame.data[:4])
        value = self.value(di)
        if value is None:
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        head = frame.data[:4]
        if len(value) <= FIRST_CHUNK:
            self._follow_up = None
            return normal_reply(frame, me, head + value)
        first, rest = value[:FIRST_CHUNK], value[FIRST_CHUNK:]
        chunks = [rest[i : i + NEXT_CHUNK] for i in range(0, len(rest), NEXT_CHUNK)]
        self._follow_up = _FollowUp(frame, di, chunks)
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
        model = self._model
        if di == DI_IMPORT_ENERGY:
            return bcd_energy4(model.energy()[0])
        if di == DI_EXPORT_ENERGY:
            return bcd_energy4(model.energy()[1])
        if di == DI_DATE:
            y, mo, d, _h, _mi, _s, wd = civil_from_ms(model.clock()[0])
            return _bcd_bytes(wd, d, mo, y - 2000)
        if di == DI_TIME:
            _y, _mo, _d, h, mi, s, _wd = civil_from_ms(model.clock()[0])
            return _bcd_bytes(s, mi, h)
        if di == DI_ADDRESS:
            return bytes(model.address)
        n = di & 0xFF
        group = di & 0xFFFFFF00
        if group == DI_COVER_COUNT:
            img = model.image()
            if n == 0:
                return bcd_count3(img.cover_count())
            return _nth(img.standard_cover(), n, 60, _cover_standard)
        if group == DI_POWER_DOWN_COUNT:
            img = model.image()
            if n == 0:
                return bcd_count3(img.power_down_count())
            return _nth(img.standard_power_down(), n, 12, _pd_standard)
        if group == DI_CLEAR_COUNT:
            img = model.image()
            if n == 0:
                return bcd_count3(img.clear_total)
            return _nth(img.clears, n, 14, _clear_standard)
        if group == DI_MFR_COVER_TOTALS:
            img = model.image()
            if n == 0:
                return _bcd8(img.cover_total) + _bcd8(img.cover_base)
            if n == 0xFF:
                return b"".join(_mfr_cover(img, i) for i in range(1, RING + 1))
            if n <= RING:
                return _mfr_cover(img, n)
            return None
        if group == DI_MFR_POWER_DOWN_TOTALS:
            img = model.image()
            if n == 0:
                return _bcd8(img.power_down_total) + _bcd8(img.power_down_base)
            if n <= RING:
                return _mfr_power_down(img, n)
            return None
        return None

    # --- 08 broadcast time -------------------------------------------------------------------

    def _broadcast_time(self, data: bytes) -> None:
        local_ms = broadcast_time_ms(data)
        if local_ms is not None:
            self._model.set_clock(local_ms)

    # --- 1B event clear ----------------------------------------------------------------------

    def _event_clear(self, frame: Frame, me: bytes) -> Frame:
        data = frame.data
        if len(data) != 12:
            return abnormal_reply(frame, me, ErrorCode.OTHER)
        model = self._model
        now_ms, valid = model.clock()
        day = now_ms // MS_PER_DAY
        if model.password_failures(day) >= model.max_password_tries_per_day:
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)  # locked until tomorrow
        level = data[0]
        expected = model.password(level) if level == PASSWORD_LEVEL_EVENT_CLEAR else None
        if expected is None or bytes(data[1:4]) != bytes(expected):
            model.note_password_failure(day)
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)
        if not model.programming_key_pressed():
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)
        operator = bytes(data[4:8])
        if not _is_bcd(operator):
            return abnormal_reply(frame, me, ErrorCode.NOT_AUTHORISED)
        di = di_from_bytes(data[8:12])
        if di == DI_CLEAR_ALL:
            cover, power_down = True, True
        elif di == DI_CLEAR_COVER:
            cover, power_down = True, False
        elif di == DI_CLEAR_POWER_DOWN:
            cover, power_down = False, True
        else:
            return abnormal_reply(frame, me, ErrorCode.NO_SUCH_DATA)
        quality = EXACT if valid else UNSYNCED
        model.clear_events(now_ms, quality, operator, di, cover, power_down)
        return normal_reply(frame, me)


# --- helpers (pure) ---------------------------------------------------------------------------

_RECORD_GROUPS: Final = frozenset(
    (DI_COVER_COUNT, DI_POWER_DOWN_COUNT, DI_CLEAR_COUNT, DI_MFR_COVER_TOTALS,
     DI_MFR_POWER_DOWN_TOTALS)
)


def _cacheable(request: Frame, reply: Frame) -> bool:
    """A single-frame answer to a read of records or of the address: it changes only when the
    model's image does."""
    if reply.has_follow_up or request.function_code != FunctionCode.READ:
        return request.function_code == FunctionCode.READ_ADDRESS and not reply.is_abnormal
    if len(request.data) < 4:
        return False
    di = di_from_bytes(request.data[:4])
    return di == DI_ADDRESS or (di & 0xFFFFFF00) in _RECORD_GROUPS


def broadcast_time_ms(data: bytes) -> int | None:
    """The local ms a broadcast-time data field sets, or None if it is not a valid time.

    Byte order ss mm hh DD MM YY (low byte first, as every multi-byte field of the standard);
    see docs/dlt645.md for the sources and for the PyPI dlt645 client, which departs from it.
    """
    if len(data) != 6:
        return None
    try:
        s, mi, h, d, mo, yy = (from_bcd(b) for b in data)
        return ms_from_civil(2000 + yy, mo, d, h, mi, s)
    except ValueError:
        return None


def broadcast_time_data(local_ms: int) -> bytes:
    """The 6-byte broadcast-time data field (ss mm hh DD MM YY, BCD) of a local ms."""
    return bcd_time6(local_ms)


def _bcd_bytes(*values: int) -> bytes:
    return bytes(((v // 10) << 4) | (v % 10) for v in values)


def _bcd8(n: int) -> bytes:
    """XXXXXXXX: 4 BCD bytes, low byte first (n mod 1e8)."""
    n %= 100_000_000
    return bytes((((n // 10 ** (2 * i + 1)) % 10) << 4) | ((n // 10 ** (2 * i)) % 10)
                 for i in range(4))


def _is_bcd(data: bytes) -> bool:
    return all((b >> 4) <= 9 and (b & 0xF) <= 9 for b in data)


def _nth(records: list, n: int, length: int, encode_one) -> bytes | None:  # type: ignore[no-untyped-def, type-arg]
    if not 1 <= n <= RING:
        return None
    if n > len(records):
        return bytes(length)  # no such record (yet): all zeros, as meters answer
    return encode_one(records[n - 1])


def _cover_standard(rec: CoverOpen) -> bytes:
    return bytes(rec.standard_bytes())


def _pd_standard(rec: PowerDown) -> bytes:
    return bytes(rec.standard_bytes())


def _clear_standard(rec) -> bytes:  # type: ignore[no-untyped-def]
    return bytes(rec.standard_bytes())


def _time6_ceil(ms: int) -> bytes:
    """A bound's time to whole seconds, rounded up, so an upper bound stays an upper bound."""
    return bcd_time6(-(-ms // 1000) * 1000)


def _mfr_cover(img: MeterImage, n: int) -> bytes:
    """The n-th latest cover-open record of all time, extended (docs/dlt645.md, 79 bytes)."""
    if n > len(img.cover):
        return bytes(MFR_COVER_LENGTH)
    rec = img.cover[n - 1]
    flags = (FLAG_HIDDEN if rec.seq <= img.cover_base else 0) | (
        FLAG_CLOSED if rec.closed else 0
    )
    bounded = rec.quality == BOUNDED
    return (
        _bcd8(rec.seq)
        + bytes((flags, rec.quality, rec.close_quality if rec.closed else NO_QUALITY))
        + (bcd_time6(rec.not_before_ms) if bounded else bytes(6))
        + (_time6_ceil(rec.not_after_ms) if bounded else bytes(6))
        + bytes(rec.standard_bytes())
    )


def _mfr_power_down(img: MeterImage, n: int) -> bytes:
    """The n-th latest power-down record of all time, extended (docs/dlt645.md, 19 bytes)."""
    if n > len(img.power_down):
        return bytes(MFR_POWER_DOWN_LENGTH)
    rec = img.power_down[n - 1]
    flags = (FLAG_HIDDEN if rec.seq <= img.power_down_base else 0) | (
        FLAG_CLOSED if rec.ended else 0
    )
    return (
        _bcd8(rec.seq)
        + bytes((flags, rec.start_quality, rec.end_quality if rec.ended else NO_QUALITY))
        + bytes(rec.standard_bytes())
    )

