"""Who made the meter: the manufacturer number (DL/T 645-2007 Table A.5, `04 80 00 03`) and a
face that gives a meter a maker.

Owns: the manufacturer-number value (32 ASCII bytes, low byte first like every field of the
standard, NUL-padded), our own manufacturer number — the one a head-end must see before it
trusts the manufacturer-specific identifiers of docs/dlt645.md, which the standard does not hand
to us — our identifier `04 80 FF 00` that answers every log's totals and the latest daily
freeze's time at once (so that a head-end learns whether anything is new with one question),
and :class:`MakerFace`, a sans-I/O wrapper around a meter session that answers `04 80 00 03` and
`04 80 FF 00` and, for another maker's meter, refuses our identifiers as such a meter would.

Must not know: sockets, the head-end, how a meter is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Self

from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.frame import (
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
from meterseal.protocols.dlt645.freezes import FreezeTime
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.protocols.dlt645.values import AllTimeTotals, Count, decoding, expect_length

DI_MANUFACTURER: Final = cat.DI_MANUFACTURER  # Table A.5, one definition: the catalogue's
# Ours: 04 80 0D 00 + 04 80 11 00 + 03 30 03 00 + 05 06 00 01 + 04 80 0E 00 + 03 30 04 00
# + 04 80 08 00 in one answer.
DI_MFR_LOG_TOTALS: Final = 0x0480FF00
OURS: Final = "meterseal"  # our manufacturer number: the 04 80 0D/11/FF identifiers are ours

# The identifiers only our meters serve (the vendor rows of the catalogue's DI table, and ours),
# as the catalogue writes them (04 80 block; a meter may move the block: profile key
# dlt645.vendor_prefix).
VENDOR_DIS: Final = frozenset({DI_MFR_LOG_TOTALS} | cat.VENDOR_DIS)


_NO_FREEZE: Final = FreezeTime()
_NO_TERMINAL: Final = AllTimeTotals(0, 0)
_NO_COUNT: Final = Count(0)


@dataclass(frozen=True, slots=True)
class LogTotals:
    """Ours (`04 80 FF 00`, 38 bytes): the cover-open all-time totals (8, as `04 80 0D 00`),
    the power-down ones (8, as `04 80 11 00`), the event-clear count (3, as `03 30 03 00`),
    the time of the latest daily freeze (5, as `05 06 00 01`), the terminal cover's all-time
    totals (8, as `04 80 0E 00`; zero on a meter without a terminal cover), the time-setting
    count (3, as `03 30 04 00`) and the broadcast-time count (3, as `04 80 08 00`).

    The 24-byte answer of our meters from before the terminal cover and the clock logs decodes
    with ``terminal``, ``time_sets`` and ``broadcasts`` None: the head-end then asks each on its
    own."""

    cover: AllTimeTotals
    power_down: AllTimeTotals
    clears: Count
    freeze: FreezeTime = _NO_FREEZE
    terminal: AllTimeTotals | None = _NO_TERMINAL
    time_sets: Count | None = _NO_COUNT
    broadcasts: Count | None = _NO_COUNT

    OLD_LENGTH: ClassVar[int] = 2 * AllTimeTotals.LENGTH + Count.LENGTH + FreezeTime.LENGTH
    LENGTH: ClassVar[int] = OLD_LENGTH + AllTimeTotals.LENGTH + 2 * Count.LENGTH
    WHAT: ClassVar[str] = "the totals of every log"

    def to_bytes(self) -> bytes:
        head = (self.cover.to_bytes() + self.power_down.to_bytes() + self.clears.to_bytes()
                + self.freeze.to_bytes())
        if self.terminal is None or self.time_sets is None or self.broadcasts is None:
            return head
        return (head + self.terminal.to_bytes() + self.time_sets.to_bytes()
                + self.broadcasts.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) != cls.OLD_LENGTH:
            expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            head = (AllTimeTotals.from_bytes(data[:8]), AllTimeTotals.from_bytes(data[8:16]),
                    Count.from_bytes(data[16:19]), FreezeTime.from_bytes(data[19:24]))
            if len(data) == cls.OLD_LENGTH:
                return cls(*head, None, None, None)
            return cls(*head, AllTimeTotals.from_bytes(data[24:32]),
                       Count.from_bytes(data[32:35]), Count.from_bytes(data[35:38]))


@dataclass(frozen=True, slots=True)
class ManufacturerNumber:
    """The manufacturer number: up to 32 printable ASCII characters."""

    name: str

    LENGTH: ClassVar[int] = 32
    WHAT: ClassVar[str] = "a manufacturer number"

    def __post_init__(self) -> None:
        text = self.name
        if not text or len(text) > self.LENGTH or not (text.isascii() and text.isprintable()):
            raise ValueError(f"a manufacturer number is 1..32 printable ASCII characters, "
                             f"got {text!r}")

    def to_bytes(self) -> bytes:
        return self.name.encode("ascii").ljust(self.LENGTH, b"\0")[::-1]

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            raw = bytes(data[::-1]).rstrip(b"\0").rstrip(b" ")
            try:
                return cls(raw.decode("ascii"))
            except UnicodeDecodeError:
                raise CatalogError(f"{raw!r} is not ASCII") from None


class MakerFace:
    """A meter session seen through its maker (implements FrameHandler).

    ``manufacturer``: what the meter answers to `04 80 00 03`. A meter of another maker than
    :data:`OURS` answers our identifiers with b1 (no such data), as a foreign meter does; the
    head-end then reads its standard records only.
    """

    __slots__ = ("_address", "_inner", "_number", "_ours", "_preamble")

    def __init__(self, inner: Dlt645Session, address: bytes, manufacturer: str = OURS,
                 *, preamble: int = 4) -> None:
        self._inner = inner
        self._address = address
        self._number = ManufacturerNumber(manufacturer).to_bytes()
        self._ours = manufacturer == OURS
        self._preamble = preamble

    def handle(self, frame: Frame) -> list[bytes]:
        if (frame.function_code == FunctionCode.READ and len(frame.data) >= 4
                and not frame.is_reply and not is_broadcast(frame.address)
                and address_matches(frame.address, self._address)):
            di = cat.from_vendor_block(di_from_bytes(frame.data[:4]),
                                       self._inner.vendor_prefix, VENDOR_DIS)
            if di == DI_MANUFACTURER:
                reply = normal_reply(frame, self._address, frame.data[:4] + self._number)
                return [encode(reply, self._preamble)]
            if di in VENDOR_DIS and not self._ours:
                reply = abnormal_reply(frame, self._address, ErrorCode.NO_SUCH_DATA)
                return [encode(reply, self._preamble)]
            if di == DI_MFR_LOG_TOTALS:
                reply = normal_reply(frame, self._address, frame.data[:4] + self._log_totals())
                return [encode(reply, self._preamble)]
        return self._inner.handle(frame)

    def memo(self, request: bytes) -> bytes | None:
        """The inner session's memo (our own answers are not in it)."""
        return self._inner.memo(request)

    def remember(self, request: bytes, frame: Frame) -> None:
        if frame.function_code == FunctionCode.READ and len(frame.data) >= 4:
            di = cat.from_vendor_block(di_from_bytes(frame.data[:4]),
                                       self._inner.vendor_prefix, VENDOR_DIS)
            if di is None or di == DI_MANUFACTURER or di in VENDOR_DIS:
                return  # answered here (or refused for another maker), not by the session
        self._inner.remember(request, frame)

    def _log_totals(self) -> bytes:
        parts = [self._inner.value(di) for di in
                 (cat.DI_MFR_COVER_TOTALS, cat.DI_MFR_POWER_DOWN_TOTALS, cat.DI_CLEAR_COUNT,
                  cat.FREEZE_TIME.di(1), cat.DI_MFR_TERMINAL_TOTALS, cat.DI_TIME_SET_COUNT,
                  cat.DI_MFR_BROADCAST_COUNT)]
        return b"".join(p or b"" for p in parts)

    def handle_error(self, error: FrameError) -> list[bytes]:
        return self._inner.handle_error(error)
