"""The DL/T 645 data catalogue, part two: the event records a meter serves, standard and ours.

Owns: the records of DL/T 645-2007 Table A.4 (meter-cover-open 60 bytes, power-down 12,
event-clear 14) and our manufacturer-specific ones (extended cover-open 79 bytes and the block of
all ten, extended power-down 19; docs/dlt645.md), RING, and how a firmware record becomes a
value (``from_record``). Fields and small values are in values.py; the DI table in catalog.py.

Must not know: data identifiers, frames, sessions, links, the head-end. The firmware's record
codec is imported inside ``from_record`` only, so that decoding — all a head-end does — never
loads the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Self, cast

from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.values import (
    FLAG_CLOSED,
    FLAG_HIDDEN,
    REGISTER_LIMIT,
    ZERO_ENERGY,
    EnergySnapshot,
    Quality,
    ceil_s,
    check_quality,
    check_time,
    check_uint,
    decoding,
    expect_length,
    floor_s,
    quality_code,
    quality_from_code,
    slot_seq,
    time6_from_bytes,
    time6_to_bytes,
    uint_to_bcd,
)

if TYPE_CHECKING:
    from meterseal.firmware.records import CoverOpen, EventClear, PowerDown

RING: Final = 10  # DI0 01..0A: the latest ten records of a log


def _quality_of(firmware_code: int) -> Quality:
    """The name of a firmware (NVM) quality code: the wire code is ours, chosen by name."""
    from meterseal.firmware.records import QUALITY_NAMES

    name = QUALITY_NAMES[firmware_code]
    check_quality(name, "firmware time quality")
    return cast(Quality, name)


# --- standard records (DL/T 645-2007 Table A.4) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class StandardCoverOpen:
    """Meter-cover-open record (60 bytes): start time, end time (zeros while open), the six
    energies before the opening, the six after it (at the closing; zeros while open). All
    zeros: no such record (yet)."""

    opened_ms: int | None = None
    closed_ms: int | None = None
    before: EnergySnapshot = ZERO_ENERGY
    after: EnergySnapshot = ZERO_ENERGY

    LENGTH: ClassVar[int] = 60
    WHAT: ClassVar[str] = "a cover-open record"

    def __post_init__(self) -> None:
        check_time(self.opened_ms, "opening time")
        check_time(self.closed_ms, "closing time")
        if not isinstance(self.before, EnergySnapshot) or not isinstance(
            self.after, EnergySnapshot
        ):
            raise ValueError("energies before and after are EnergySnapshot values")

    @property
    def is_empty(self) -> bool:
        return self == _NO_COVER

    @classmethod
    def from_record(cls, rec: CoverOpen) -> Self:
        """The record as the standard shows it: times to the second (rounded down), the after
        set zero while open."""
        return cls(
            floor_s(rec.opened_ms),
            floor_s(rec.closed_ms) if rec.closed else None,
            EnergySnapshot.rolled(rec.import_before, rec.export_before),
            EnergySnapshot.rolled(rec.import_after, rec.export_after) if rec.closed
            else ZERO_ENERGY,
        )

    def to_bytes(self) -> bytes:
        return (
            time6_to_bytes(self.opened_ms) + time6_to_bytes(self.closed_ms)
            + self.before.to_bytes() + self.after.to_bytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            return cls(
                time6_from_bytes(data[0:6], "start time"),
                time6_from_bytes(data[6:12], "end time"),
                _snapshot(data[12:36], "energies before"),
                _snapshot(data[36:60], "energies after"),
            )


_NO_COVER: Final = StandardCoverOpen()


def _snapshot(data: bytes, what: str) -> EnergySnapshot:
    with decoding(what):
        return EnergySnapshot.from_bytes(data)


@dataclass(frozen=True, slots=True)
class StandardPowerDown:
    """Power-down record (12 bytes): start time, end time (zeros while down). All zeros: no
    such record."""

    start_ms: int | None = None
    end_ms: int | None = None

    LENGTH: ClassVar[int] = 12
    WHAT: ClassVar[str] = "a power-down record"

    def __post_init__(self) -> None:
        check_time(self.start_ms, "start time")
        check_time(self.end_ms, "end time")

    @property
    def is_empty(self) -> bool:
        return self.start_ms is None and self.end_ms is None

    @classmethod
    def from_record(cls, rec: PowerDown) -> Self:
        return cls(floor_s(rec.start_ms), floor_s(rec.end_ms) if rec.ended else None)

    def to_bytes(self) -> bytes:
        return time6_to_bytes(self.start_ms) + time6_to_bytes(self.end_ms)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            return cls(time6_from_bytes(data[:6], "start time"),
                       time6_from_bytes(data[6:], "end time"))


@dataclass(frozen=True, slots=True)
class StandardEventClear:
    """Event-clear record (14 bytes): time, operator code C0..C3 (as received), the DI that was
    cleared (DI0 first on the wire). All zeros: no such record."""

    time_ms: int | None = None
    operator: bytes = bytes(4)
    di: int = 0

    LENGTH: ClassVar[int] = 14
    WHAT: ClassVar[str] = "an event-clear record"

    def __post_init__(self) -> None:
        check_time(self.time_ms, "time")
        if not isinstance(self.operator, bytes) or len(self.operator) != 4:
            raise ValueError(f"an operator code is 4 bytes, got {self.operator!r}")
        check_uint(self.di, 1 << 32, "cleared DI")

    @property
    def is_empty(self) -> bool:
        return self.time_ms is None and not any(self.operator) and self.di == 0

    @classmethod
    def from_record(cls, rec: EventClear) -> Self:
        return cls(floor_s(rec.time_ms), rec.operator_bytes(), rec.di)

    def to_bytes(self) -> bytes:
        return time6_to_bytes(self.time_ms) + self.operator + self.di.to_bytes(4, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            return cls(time6_from_bytes(data[:6], "time"), bytes(data[6:10]),
                       int.from_bytes(data[10:14], "little"))


@dataclass(frozen=True, slots=True)
class StandardTimeSet:
    """Time-setting record (16 bytes, `03 30 04 01`…): operator code C0..C3 (as received), the
    time before the setting, the time after it (YYMMDDhhmmss each, ss first). All zeros: no such
    record. The field order is the one of reference/dlt645.md "Field rules" and of the PyPI
    `dlt645` package's `config/event_record_types.py` (`03300401`: operator, before, after)."""

    operator: bytes = bytes(4)
    before_ms: int | None = None
    after_ms: int | None = None

    LENGTH: ClassVar[int] = 16
    WHAT: ClassVar[str] = "a time-setting record"

    def __post_init__(self) -> None:
        if not isinstance(self.operator, bytes) or len(self.operator) != 4:
            raise ValueError(f"an operator code is 4 bytes, got {self.operator!r}")
        check_time(self.before_ms, "time before")
        check_time(self.after_ms, "time after")

    @property
    def is_empty(self) -> bool:
        return self.before_ms is None and self.after_ms is None and not any(self.operator)

    @classmethod
    def from_change(cls, rec: object) -> Self:
        """From the firmware's ClockChange (authlog.py)."""
        return cls(
            int(rec.operator).to_bytes(4, "little"),  # type: ignore[attr-defined]
            floor_s(rec.before_ms), floor_s(rec.after_ms),  # type: ignore[attr-defined]
        )

    def to_bytes(self) -> bytes:
        return self.operator + time6_to_bytes(self.before_ms) + time6_to_bytes(self.after_ms)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            return cls(bytes(data[:4]), time6_from_bytes(data[4:10], "time before"),
                       time6_from_bytes(data[10:16], "time after"))


# --- manufacturer-specific records (docs/dlt645.md) -------------------------------------------


def _flags(data: int, what: str) -> tuple[bool, bool]:
    """(hidden, closed) of a flags byte; bits we do not define are refused, not ignored."""
    if data & ~(FLAG_HIDDEN | FLAG_CLOSED):
        raise CatalogError(f"{what}: {data:#04x} sets bits this catalogue does not define")
    return bool(data & FLAG_HIDDEN), bool(data & FLAG_CLOSED)


def _check_extended(
    seq: int, hidden: bool, quality: Quality | None, end_quality: Quality | None,
) -> bool:
    """The checks both extended records share; True for the empty slot (seq 0)."""
    check_uint(seq, REGISTER_LIMIT, "seq")
    if not isinstance(hidden, bool):
        raise ValueError(f"hidden is a bool, got {hidden!r}")
    if seq == 0:
        return True
    check_quality(quality, "time quality")
    if end_quality is not None:
        check_quality(end_quality, "closing time quality")
    return False


@dataclass(frozen=True, slots=True)
class ExtendedCoverOpen:
    """Our extended cover-open record (79 bytes): seq, the all-time sequence number (XXXXXXXX);
    flags (bit 0 hidden from the standard view by an event clear, bit 1 closed); the opening's
    time quality; the closing's (FF while open); not_before and not_after (zeros unless
    bounded); the standard 60-byte record. seq 0 and all zeros: an empty slot."""

    seq: int = 0
    hidden: bool = False
    quality: Quality | None = None  # None only in the empty slot
    close_quality: Quality | None = None  # None while open
    not_before_ms: int | None = None  # bounded only
    not_after_ms: int | None = None
    record: StandardCoverOpen = _NO_COVER

    LENGTH: ClassVar[int] = 4 + 1 + 1 + 1 + 6 + 6 + StandardCoverOpen.LENGTH  # 79
    WHAT: ClassVar[str] = "an extended cover-open record"

    def __post_init__(self) -> None:
        empty = _check_extended(self.seq, self.hidden, self.quality, self.close_quality)
        rest = (self.hidden, self.quality, self.close_quality, self.not_before_ms,
                self.not_after_ms, self.record)
        if empty:
            if rest != (False, None, None, None, None, _NO_COVER):
                raise ValueError("seq 0 marks an empty slot, which holds nothing else")
            return
        check_time(self.not_before_ms, "not_before")
        check_time(self.not_after_ms, "not_after")
        if self.quality == "bounded":
            if self.not_before_ms is None or self.not_after_ms is None:
                raise ValueError("a bounded record carries both bounds")
            if self.not_before_ms > self.not_after_ms:
                raise ValueError("not_before is after not_after")
        elif self.not_before_ms is not None or self.not_after_ms is not None:
            raise ValueError(f"only a bounded record carries bounds, this one is {self.quality}")
        if self.record.opened_ms is None:
            raise ValueError("the standard record has no opening time")
        if (self.close_quality is None) != (self.record.closed_ms is None):
            raise ValueError("a closing quality goes with a closing time, and only with one")

    @property
    def is_empty(self) -> bool:
        return self.seq == 0

    @property
    def closed(self) -> bool:
        return self.close_quality is not None

    @classmethod
    def from_record(cls, rec: CoverOpen, baseline: int) -> Self:
        """``rec`` as served beside the standard view whose baseline (the all-time total at the
        last clear of the log) is ``baseline``. The bounds go to whole seconds outwards, so the
        interval served still contains the truth."""
        bounded = rec.quality == _firmware_bounded()
        return cls(
            seq=rec.seq % REGISTER_LIMIT,
            hidden=rec.seq <= baseline,
            quality=_quality_of(rec.quality),
            close_quality=_quality_of(rec.close_quality) if rec.closed else None,
            not_before_ms=floor_s(rec.not_before_ms) if bounded else None,
            not_after_ms=ceil_s(rec.not_after_ms) if bounded else None,
            record=StandardCoverOpen.from_record(rec),
        )

    def to_bytes(self) -> bytes:
        if self.seq == 0:
            return bytes(self.LENGTH)
        flags = (FLAG_HIDDEN if self.hidden else 0) | (FLAG_CLOSED if self.closed else 0)
        return (
            uint_to_bcd(self.seq, 4)
            + bytes((flags, quality_code(self.quality), quality_code(self.close_quality)))
            + time6_to_bytes(self.not_before_ms) + time6_to_bytes(self.not_after_ms)
            + self.record.to_bytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            seq = slot_seq(data)
            if seq is None:
                return cls()
            hidden, closed = _flags(data[4], "flags")
            close_quality = quality_from_code(data[6], "closing time quality", open_allowed=True)
            if closed != (close_quality is not None):
                raise CatalogError("the closed flag and the closing time quality disagree")
            return cls(
                seq, hidden, quality_from_code(data[5], "time quality"), close_quality,
                time6_from_bytes(data[7:13], "not_before"),
                time6_from_bytes(data[13:19], "not_after"),
                StandardCoverOpen.from_bytes(data[19:]),
            )


def _firmware_bounded() -> int:
    from meterseal.firmware.records import BOUNDED

    return cast(int, BOUNDED)


@dataclass(frozen=True, slots=True)
class ExtendedPowerDown:
    """Our extended power-down record (19 bytes): seq (XXXXXXXX), flags (bit 0 hidden, bit 1
    ended), the start's time quality, the end's (FF while down), the standard 12-byte record.
    seq 0 and all zeros: an empty slot."""

    seq: int = 0
    hidden: bool = False
    start_quality: Quality | None = None  # None only in the empty slot
    end_quality: Quality | None = None  # None while down
    record: StandardPowerDown = StandardPowerDown()

    LENGTH: ClassVar[int] = 4 + 1 + 1 + 1 + StandardPowerDown.LENGTH  # 19
    WHAT: ClassVar[str] = "an extended power-down record"

    def __post_init__(self) -> None:
        empty = _check_extended(self.seq, self.hidden, self.start_quality, self.end_quality)
        if empty:
            rest = (self.hidden, self.start_quality, self.end_quality, self.record.is_empty)
            if rest != (False, None, None, True):
                raise ValueError("seq 0 marks an empty slot, which holds nothing else")
            return
        if self.record.start_ms is None:
            raise ValueError("the standard record has no start time")
        if (self.end_quality is None) != (self.record.end_ms is None):
            raise ValueError("an end quality goes with an end time, and only with one")

    @property
    def is_empty(self) -> bool:
        return self.seq == 0

    @property
    def ended(self) -> bool:
        return self.end_quality is not None

    @classmethod
    def from_record(cls, rec: PowerDown, baseline: int) -> Self:
        return cls(
            seq=rec.seq % REGISTER_LIMIT,
            hidden=rec.seq <= baseline,
            start_quality=_quality_of(rec.start_quality),
            end_quality=_quality_of(rec.end_quality) if rec.ended else None,
            record=StandardPowerDown.from_record(rec),
        )

    def to_bytes(self) -> bytes:
        if self.seq == 0:
            return bytes(self.LENGTH)
        flags = (FLAG_HIDDEN if self.hidden else 0) | (FLAG_CLOSED if self.ended else 0)
        return (
            uint_to_bcd(self.seq, 4)
            + bytes((flags, quality_code(self.start_quality), quality_code(self.end_quality)))
            + self.record.to_bytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            seq = slot_seq(data)
            if seq is None:
                return cls()
            hidden, ended = _flags(data[4], "flags")
            end_quality = quality_from_code(data[6], "end time quality", open_allowed=True)
            if ended != (end_quality is not None):
                raise CatalogError("the ended flag and the end time quality disagree")
            return cls(
                seq, hidden, quality_from_code(data[5], "start time quality"), end_quality,
                StandardPowerDown.from_bytes(data[7:]),
            )


@dataclass(frozen=True, slots=True)
class ExtendedCoverBlock:
    """All RING extended cover-open records in one answer (790 bytes), newest first."""

    records: tuple[ExtendedCoverOpen, ...]

    LENGTH: ClassVar[int] = RING * ExtendedCoverOpen.LENGTH
    WHAT: ClassVar[str] = "a block of extended cover-open records"

    def __post_init__(self) -> None:
        if not isinstance(self.records, tuple) or len(self.records) != RING:
            raise ValueError(f"a block holds {RING} records, got {self.records!r}")
        if not all(isinstance(r, ExtendedCoverOpen) for r in self.records):
            raise ValueError("a block holds ExtendedCoverOpen values")

    def to_bytes(self) -> bytes:
        return b"".join(r.to_bytes() for r in self.records)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        size = ExtendedCoverOpen.LENGTH
        records = []
        for n in range(RING):
            with decoding(f"{cls.WHAT}, record {n + 1}"):
                records.append(ExtendedCoverOpen.from_bytes(data[n * size : (n + 1) * size]))
        return cls(tuple(records))
