"""The DL/T 645 data catalogue, part two: the event records a meter serves and the table of data
identifiers (DI) that says which value each identifier carries.

Owns: the standard records of DL/T 645-2007 Table A.4 (meter-cover-open 60 bytes, power-down 12,
event-clear 14); our manufacturer-specific records (extended cover-open 79 bytes and its block
of ten, extended power-down 19, all-time totals 8; docs/dlt645.md); every DI constant of the
meter face, once, and RING; how a firmware record becomes a value (``from_record``). The small
values and the fields they are built from are in values.py.

Must not know: frames, sessions, links, the head-end. The firmware's record codec is imported
inside ``from_record`` only, so that decoding — all a head-end does — never loads the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Self, TypeVar, cast

from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.values import (
    FLAG_CLOSED,
    FLAG_HIDDEN,
    REGISTER_LIMIT,
    ZERO_ENERGY,
    Address,
    AllTimeTotals,
    Count,
    Energy,
    EnergySnapshot,
    MeterDate,
    MeterTime,
    Quality,
    Value,
    ceil_s,
    check_quality,
    check_time,
    check_uint,
    decoding,
    expect_length,
    floor_s,
    quality_code,
    quality_from_code,
    time6_from_bytes,
    time6_to_bytes,
    uint_from_bcd,
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
            seq = uint_from_bcd(data[:4], "seq")
            if seq == 0:
                if any(data):
                    raise CatalogError("seq 0 marks an empty slot, whose bytes are all zeros")
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
            seq = uint_from_bcd(data[:4], "seq")
            if seq == 0:
                if any(data):
                    raise CatalogError("seq 0 marks an empty slot, whose bytes are all zeros")
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


# --- data identifiers (DI3 DI2 DI1 DI0) -------------------------------------------------------
# Standard: DL/T 645-2007 Table A.1 (energy), A.4 (event records), A.5 (parameters).

DI_IMPORT_ENERGY: Final = 0x00010000
DI_EXPORT_ENERGY: Final = 0x00020000
DI_DATE: Final = 0x04000101
DI_TIME: Final = 0x04000102
DI_ADDRESS: Final = 0x04000401
DI_COVER_COUNT: Final = 0x03300D00  # + n (1..RING): the n-th latest cover-open record
DI_POWER_DOWN_COUNT: Final = 0x03110000  # + n: the n-th latest power-down record
DI_CLEAR_COUNT: Final = 0x03300300  # + n: the n-th latest event-clear record

# What an event clear (1B) may name: every event log, or one log (DI0 = FF).
DI_CLEAR_ALL: Final = 0xFFFFFFFF
DI_CLEAR_COVER: Final = DI_COVER_COUNT | 0xFF
DI_CLEAR_POWER_DOWN: Final = DI_POWER_DOWN_COUNT | 0xFF

# Manufacturer-specific, our choice (docs/dlt645.md): Table A.5 defines only 04 80 00 01..03
# (manufacturer software version, hardware version, manufacturer number) in the 04 80 block; the
# rest of it is not handed to manufacturers by the standard, we use it. DI1 repeats the standard
# log's DI1 (0D cover open, 11 power down).
DI_MFR_COVER_TOTALS: Final = 0x04800D00  # + n: the n-th latest of all time, extended
DI_MFR_COVER_BLOCK: Final = 0x04800DFF  # all RING of them in one answer
DI_MFR_POWER_DOWN_TOTALS: Final = 0x04801100  # + n: likewise


@dataclass(frozen=True, slots=True)
class DataItem:
    """One row of the DI table: a DI, or a run of ``count`` DIs from ``first`` (the n-th latest
    record at first + n - 1); the value each carries; a name for messages and stores."""

    name: str
    first: int
    value: type[Value]
    count: int = 1
    vendor: bool = False  # ours (the 04 80 block), not the standard's

    @property
    def length(self) -> int:
        return self.value.LENGTH

    def dis(self) -> range:
        return range(self.first, self.first + self.count)

    def di(self, n: int = 1) -> int:
        """The DI of the n-th (1-based) of the run."""
        if not 1 <= n <= self.count:
            raise ValueError(f"{self.name} has DIs 1..{self.count}, not {n}")
        return self.first + n - 1


IMPORT_ENERGY: Final = DataItem("import_active_energy", DI_IMPORT_ENERGY, Energy)
EXPORT_ENERGY: Final = DataItem("export_active_energy", DI_EXPORT_ENERGY, Energy)
DATE: Final = DataItem("date", DI_DATE, MeterDate)
TIME: Final = DataItem("time", DI_TIME, MeterTime)
ADDRESS: Final = DataItem("address", DI_ADDRESS, Address)
COVER_OPEN_COUNT: Final = DataItem("cover_open_count", DI_COVER_COUNT, Count)
COVER_OPEN_RECORD: Final = DataItem(
    "cover_open_record", DI_COVER_COUNT + 1, StandardCoverOpen, RING
)
POWER_DOWN_COUNT: Final = DataItem("power_down_count", DI_POWER_DOWN_COUNT, Count)
POWER_DOWN_RECORD: Final = DataItem(
    "power_down_record", DI_POWER_DOWN_COUNT + 1, StandardPowerDown, RING
)
EVENT_CLEAR_COUNT: Final = DataItem("event_clear_count", DI_CLEAR_COUNT, Count)
EVENT_CLEAR_RECORD: Final = DataItem(
    "event_clear_record", DI_CLEAR_COUNT + 1, StandardEventClear, RING
)
MFR_COVER_OPEN_TOTALS: Final = DataItem(
    "mfr_cover_open_totals", DI_MFR_COVER_TOTALS, AllTimeTotals, vendor=True
)
MFR_COVER_OPEN_RECORD: Final = DataItem(
    "mfr_cover_open_record", DI_MFR_COVER_TOTALS + 1, ExtendedCoverOpen, RING, vendor=True
)
MFR_COVER_OPEN_BLOCK: Final = DataItem(
    "mfr_cover_open_block", DI_MFR_COVER_BLOCK, ExtendedCoverBlock, vendor=True
)
MFR_POWER_DOWN_TOTALS: Final = DataItem(
    "mfr_power_down_totals", DI_MFR_POWER_DOWN_TOTALS, AllTimeTotals, vendor=True
)
MFR_POWER_DOWN_RECORD: Final = DataItem(
    "mfr_power_down_record", DI_MFR_POWER_DOWN_TOTALS + 1, ExtendedPowerDown, RING, vendor=True
)

TABLE: Final[tuple[DataItem, ...]] = (
    IMPORT_ENERGY, EXPORT_ENERGY, DATE, TIME, ADDRESS,
    COVER_OPEN_COUNT, COVER_OPEN_RECORD, POWER_DOWN_COUNT, POWER_DOWN_RECORD,
    EVENT_CLEAR_COUNT, EVENT_CLEAR_RECORD,
    MFR_COVER_OPEN_TOTALS, MFR_COVER_OPEN_RECORD, MFR_COVER_OPEN_BLOCK,
    MFR_POWER_DOWN_TOTALS, MFR_POWER_DOWN_RECORD,
)


def _index(table: tuple[DataItem, ...]) -> dict[int, DataItem]:
    by_di: dict[int, DataItem] = {}
    for item in table:
        for di in item.dis():
            if di in by_di:
                raise ValueError(f"{di:08X} is both {by_di[di].name} and {item.name}")
            by_di[di] = item
    return by_di


_BY_DI: Final = _index(TABLE)


def lookup(di: int) -> DataItem | None:
    """The table's row for ``di``, or None if the catalogue does not know it."""
    return _BY_DI.get(di)


V = TypeVar("V", bound=Value)


def decode_as(cls: type[V], di: int, data: bytes) -> V:
    """The value ``data`` holds as the answer to ``di``, which the table says is a ``cls``;
    CatalogError naming the DI and what is wrong if it is not one."""
    item = _BY_DI.get(di)
    if item is None or item.value is not cls:
        raise LookupError(f"the catalogue has no {cls.__name__} at {di:08X}")
    with decoding(f"{di:08X} ({item.name})"):
        return cls.from_bytes(data)
