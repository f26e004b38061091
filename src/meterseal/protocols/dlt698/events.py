"""The DL/T 698.45 data catalogue, part two: the rows of the event record tables, standard and
ours.

Owns: a cover-open row (301B, and 301C for the terminal cover), a power-down row (3011), an
event-clear row (3015), a clock-change row (3016 time setting, 303C broadcast time), the rows of
our manufacturer objects (time quality, bounds, the all-time sequence number, whether an event
clear hides the record; for a clock change the operator code, whether the clock was valid before
it and the broadcast total then), the column OADs of each, and how a firmware record becomes a
row (``from_record``). A row's A-XDR form is the structure of its
columns in order; ``columns()`` gives them by OAD for row and column selection.

Must not know: OIs of the objects that hold these rows (catalog.py), APDUs, sessions. The
firmware's record codec is imported inside ``from_record`` only, so that decoding — all a
head-end does — never loads the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Self, cast

from meterseal.protocols.dlt698.axdr import (
    NULL,
    Array,
    Bool,
    Data,
    DoubleLongUnsigned,
    Enum,
    Null,
    OctetString,
    Structure,
    Unsigned,
)
from meterseal.protocols.dlt698.axdr_time import DateTimeS
from meterseal.protocols.dlt698.errors import InvalidField
from meterseal.protocols.dlt698.refs import Oad, Omd, OmdData
from meterseal.protocols.dlt698.values import (
    MS_LIMIT,
    NO_REPORT,
    QUALITY_BY_CODE,
    QUALITY_CODES,
    U32,
    Quality,
    ReportStatus,
    _Value,
    as_type,
    ceil_s,
    check_time,
    date_time_s,
    floor_s,
    items,
    need,
    opt_time,
    opt_u32,
    read_opt_time,
    read_opt_u32,
    time_ms,
    u32,
)

if TYPE_CHECKING:
    from meterseal.firmware.authlog import ClockChange
    from meterseal.firmware.records import CoverOpen, EventClear, PowerDown

# --- column OADs -----------------------------------------------------------------------------
RECORD_NUMBER: Final = Oad(0x2022, 0x02)
START_TIME: Final = Oad(0x201E, 0x02)
END_TIME: Final = Oad(0x2020, 0x02)
SOURCE: Final = Oad(0x2024, 0x02)
REPORT_STATUS: Final = Oad(0x3300, 0x02)
IMPORT_BEFORE: Final = Oad(0x0010, 0x22, 0x01)  # feature 1: at the event's start; element 1
EXPORT_BEFORE: Final = Oad(0x0020, 0x22, 0x01)
IMPORT_AFTER: Final = Oad(0x0010, 0x82, 0x01)  # feature 4: after the event's end
EXPORT_AFTER: Final = Oad(0x0020, 0x82, 0x01)
CLEARED_LIST: Final = Oad(0x330C, 0x02, 0x06)  # the event-clear row's list of cleared OMDs
# A clock change's two times as associated data: 4000 (date-time) attribute 2 before the event
# (feature 1) and after its end (feature 4) -- the features 301B's energies use (docs/dlt698.md).
CLOCK_BEFORE: Final = Oad(0x4000, 0x22)
CLOCK_AFTER: Final = Oad(0x4000, 0x82)

STANDARD_COLUMNS: Final = (RECORD_NUMBER, START_TIME, END_TIME, SOURCE, REPORT_STATUS)
COVER_ASSOCIATED: Final = (IMPORT_BEFORE, EXPORT_BEFORE, IMPORT_AFTER, EXPORT_AFTER)
COVER_COLUMNS: Final = STANDARD_COLUMNS + COVER_ASSOCIATED
POWER_DOWN_COLUMNS: Final = STANDARD_COLUMNS
CLEAR_COLUMNS: Final = (*STANDARD_COLUMNS, CLEARED_LIST)
CLOCK_ASSOCIATED: Final = (CLOCK_BEFORE, CLOCK_AFTER)
CLOCK_COLUMNS: Final = STANDARD_COLUMNS + CLOCK_ASSOCIATED


def _quality_name(code: int) -> Quality:
    from meterseal.firmware.records import QUALITY_NAMES

    return cast(Quality, QUALITY_NAMES[code])


def _firmware_bounded() -> int:
    from meterseal.firmware.records import BOUNDED

    return cast(int, BOUNDED)


class _Row(_Value):
    """Base of rows: ``columns()`` pairs COLUMNS with the values of ``to_data()``."""

    __slots__ = ()
    COLUMNS: ClassVar[tuple[Oad, ...]]

    def values(self) -> tuple[Data, ...]:
        raise NotImplementedError

    def to_data(self) -> Data:
        return Structure(self.values())

    def columns(self) -> dict[Oad, Data]:
        return dict(zip(self.COLUMNS, self.values(), strict=True))


def _check_u32(value: int | None, what: str) -> None:
    if value is not None and (isinstance(value, bool) or not 0 <= value < U32):
        raise InvalidField(f"{what} must fit 32 bits, got {value!r}")


def servable_time(ms: int) -> int | None:
    """A clock reading as date_time_s can carry it (down to the second), or None when it lies
    outside 2000..2099: a clock that had lost its time may have read anything, and a row must
    say nothing rather than a wrapped year."""
    return floor_s(ms) if 0 <= ms < MS_LIMIT else None


@dataclass(frozen=True, slots=True)
class CoverOpenRow(_Row):
    """A row of 301B (or 301C): record number, start, end (null while open), source (null),
    report status, then the associated energies: import and export before the opening, and
    after it (null while open), in 0.01 kWh."""

    number: int
    start_ms: int
    end_ms: int | None
    report: ReportStatus
    import_before: int
    export_before: int
    import_after: int | None = None
    export_after: int | None = None
    COLUMNS: ClassVar[tuple[Oad, ...]] = COVER_COLUMNS
    WHAT: ClassVar[str] = "a cover-open row"

    def __post_init__(self) -> None:
        _check_u32(self.number, "record number")
        check_time(self.start_ms, "start time")
        check_time(self.end_ms, "end time")
        for name in ("import_before", "export_before", "import_after", "export_after"):
            _check_u32(getattr(self, name), name)
        if (self.end_ms is None) != (self.import_after is None) or (
            (self.import_after is None) != (self.export_after is None)
        ):
            raise InvalidField("the energies after the opening go with its end, and only so")

    @classmethod
    def from_record(cls, rec: CoverOpen, number: int, report: ReportStatus) -> Self:
        """The standard's view of ``rec``: times to the second (rounded down) — for a bounded
        record the instant the meter learned of the opening, never a made-up earlier time."""
        return cls(
            number % U32,
            floor_s(rec.opened_ms),
            floor_s(rec.closed_ms) if rec.closed else None,
            report,
            rec.import_before % U32,
            rec.export_before % U32,
            rec.import_after % U32 if rec.closed else None,
            rec.export_after % U32 if rec.closed else None,
        )

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.number), date_time_s(self.start_ms), opt_time(self.end_ms),
            NULL, self.report.to_data(), DoubleLongUnsigned(self.import_before),
            DoubleLongUnsigned(self.export_before), opt_u32(self.import_after),
            opt_u32(self.export_after),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        n, start, end, source, report, ib, eb, ia, ea = items(value, Structure, 9, cls.WHAT)
        need(isinstance(source, Null), "a cover-open row's source is null")
        return cls(
            u32(n, "record number"), time_ms(as_type(start, DateTimeS, "start"), "start"),
            read_opt_time(end, "end"), ReportStatus.from_data(report), u32(ib, "import before"),
            u32(eb, "export before"), read_opt_u32(ia, "import after"),
            read_opt_u32(ea, "export after"),
        )


@dataclass(frozen=True, slots=True)
class PowerDownRow(_Row):
    """A row of 3011: record number, start, end (null while down), source (null), report
    status."""

    number: int
    start_ms: int
    end_ms: int | None
    report: ReportStatus = NO_REPORT
    COLUMNS: ClassVar[tuple[Oad, ...]] = POWER_DOWN_COLUMNS
    WHAT: ClassVar[str] = "a power-down row"

    def __post_init__(self) -> None:
        _check_u32(self.number, "record number")
        check_time(self.start_ms, "start time")
        check_time(self.end_ms, "end time")

    @classmethod
    def from_record(cls, rec: PowerDown, number: int, report: ReportStatus) -> Self:
        return cls(
            number % U32, floor_s(rec.start_ms), floor_s(rec.end_ms) if rec.ended else None,
            report,
        )

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.number), date_time_s(self.start_ms), opt_time(self.end_ms),
            NULL, self.report.to_data(),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        n, start, end, source, report = items(value, Structure, 5, cls.WHAT)
        need(isinstance(source, Null), "a power-down row's source is null")
        return cls(
            u32(n, "record number"), time_ms(as_type(start, DateTimeS, "start"), "start"),
            read_opt_time(end, "end"), ReportStatus.from_data(report),
        )


@dataclass(frozen=True, slots=True)
class EventClearRow(_Row):
    """A row of 3015: record number, the clear's time, end (null: a clear has no duration),
    source (null), report status, and the methods that were run (OMDs, e.g. 4300 05 00 for
    every event log, 301B 01 00 for the cover-open log)."""

    number: int
    time_ms: int
    cleared: tuple[Omd, ...]
    report: ReportStatus = NO_REPORT
    COLUMNS: ClassVar[tuple[Oad, ...]] = CLEAR_COLUMNS
    WHAT: ClassVar[str] = "an event-clear row"

    def __post_init__(self) -> None:
        _check_u32(self.number, "record number")
        check_time(self.time_ms, "time")
        object.__setattr__(self, "cleared", tuple(self.cleared))

    @classmethod
    def from_record(cls, rec: EventClear, number: int, cleared: tuple[Omd, ...]) -> Self:
        return cls(number % U32, floor_s(rec.time_ms), cleared)

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.number), date_time_s(self.time_ms), NULL, NULL,
            self.report.to_data(), Array(tuple(OmdData(o) for o in self.cleared)),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        n, at, end, source, report, cleared = items(value, Structure, 6, cls.WHAT)
        need(isinstance(end, Null) and isinstance(source, Null), "end and source are null")
        omds = tuple(
            as_type(o, OmdData, "cleared method").omd for o in items(cleared, Array, None, "list")
        )
        return cls(
            u32(n, "record number"), time_ms(as_type(at, DateTimeS, "time"), "time"), omds,
            ReportStatus.from_data(report),
        )


@dataclass(frozen=True, slots=True)
class ClockChangeRow(_Row):
    """A row of 3016 (time setting) or 303C (broadcast time): record number, start (the
    meter's clock before the change), end (its clock after), source (null), report status,
    then the same two times as the associated data 4000 2200 and 4000 8200. A time the clock
    could not carry (it had lost its time) is null in both places."""

    number: int
    before_ms: int | None
    after_ms: int | None
    report: ReportStatus = NO_REPORT
    COLUMNS: ClassVar[tuple[Oad, ...]] = CLOCK_COLUMNS
    WHAT: ClassVar[str] = "a clock-change row"

    def __post_init__(self) -> None:
        _check_u32(self.number, "record number")
        check_time(self.before_ms, "time before")
        check_time(self.after_ms, "time after")

    @property
    def start_ms(self) -> int | None:
        return self.before_ms

    @property
    def end_ms(self) -> int | None:
        return self.after_ms

    @classmethod
    def from_record(cls, rec: ClockChange, number: int) -> Self:
        return cls(number % U32, servable_time(rec.before_ms), servable_time(rec.after_ms))

    def values(self) -> tuple[Data, ...]:
        before, after = opt_time(self.before_ms), opt_time(self.after_ms)
        return (
            DoubleLongUnsigned(self.number), before, after, NULL, self.report.to_data(), before,
            after,
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        n, start, end, source, report, before, after = items(value, Structure, 7, cls.WHAT)
        need(isinstance(source, Null), "a clock-change row's source is null")
        need(start == before and end == after,
             "a clock-change row carries each time twice, the same both times")
        return cls(
            u32(n, "record number"), read_opt_time(start, "time before"),
            read_opt_time(end, "time after"), ReportStatus.from_data(report),
        )


# --- ours: the manufacturer objects' rows (docs/dlt698.md) -----------------------------------


def _quality(value: Data, what: str) -> Quality:
    code = as_type(value, Enum, what).value
    q = QUALITY_BY_CODE.get(code)
    need(q is not None, f"{what}: {code} is not a time-quality code")
    return cast(Quality, q)


def _opt_quality(value: Data, what: str) -> Quality | None:
    return None if isinstance(value, Null) else _quality(value, what)


def _quality_data(q: Quality | None) -> Data:
    return NULL if q is None else Enum(QUALITY_CODES[q])


def _check_quality(q: object, what: str, *, optional: bool = False) -> None:
    if not (optional and q is None) and q not in QUALITY_CODES:
        raise InvalidField(f"{what} must be one of {', '.join(QUALITY_CODES)}, got {q!r}")


@dataclass(frozen=True, slots=True)
class QualityCoverRow(_Row):
    """A cover-open record of all time as our manufacturer object serves it: the all-time
    sequence number, whether an event clear hides it from 301B, the time quality of the opening
    and of the closing (null while open), the bounds of a bounded opening (null otherwise:
    not_before down and not_after up to the second, so they still contain the truth), then the
    standard's start, end, energies (0.01 kWh) and report status bits."""

    seq: int
    cleared: bool
    quality: Quality
    end_quality: Quality | None
    not_before_ms: int | None
    not_after_ms: int | None
    start_ms: int
    end_ms: int | None
    import_before: int
    export_before: int
    import_after: int | None
    export_after: int | None
    report_bits: int = 0
    COLUMNS: ClassVar[tuple[Oad, ...]] = ()
    WHAT: ClassVar[str] = "a manufacturer cover-open row"

    def __post_init__(self) -> None:
        _check_u32(self.seq, "seq")
        _check_quality(self.quality, "time quality")
        _check_quality(self.end_quality, "end time quality", optional=True)
        for name in ("not_before_ms", "not_after_ms", "start_ms", "end_ms"):
            check_time(getattr(self, name), name)
        for name in ("import_before", "export_before", "import_after", "export_after"):
            _check_u32(getattr(self, name), name)
        if not isinstance(self.cleared, bool):
            raise InvalidField("cleared is a bool")
        if not 0 <= self.report_bits <= 0xFF:
            raise InvalidField("report bits are 0..255")
        bounds = (self.not_before_ms, self.not_after_ms)
        if (self.quality == "bounded") == (None in bounds):
            raise InvalidField("a bounded record carries both bounds, and only it does")
        closed = (self.end_quality, self.end_ms, self.import_after, self.export_after)
        if len({v is None for v in closed}) != 1:
            raise InvalidField("an end quality, end time and energies after go together")

    @classmethod
    def from_record(cls, rec: CoverOpen, baseline: int, report_bits: int) -> Self:
        bounded = rec.quality == _firmware_bounded()
        closed = rec.closed
        return cls(
            rec.seq % U32, rec.seq <= baseline, _quality_name(rec.quality),
            _quality_name(rec.close_quality) if closed else None,
            floor_s(rec.not_before_ms) if bounded else None,
            ceil_s(rec.not_after_ms) if bounded else None,
            floor_s(rec.opened_ms), floor_s(rec.closed_ms) if closed else None,
            rec.import_before % U32, rec.export_before % U32,
            rec.import_after % U32 if closed else None,
            rec.export_after % U32 if closed else None, report_bits,
        )

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.seq), Bool(self.cleared), _quality_data(self.quality),
            _quality_data(self.end_quality), opt_time(self.not_before_ms),
            opt_time(self.not_after_ms), date_time_s(self.start_ms), opt_time(self.end_ms),
            DoubleLongUnsigned(self.import_before), DoubleLongUnsigned(self.export_before),
            opt_u32(self.import_after), opt_u32(self.export_after), Unsigned(self.report_bits),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        seq, cleared, q, eq, nb, na, start, end, ib, eb, ia, ea, bits = items(
            value, Structure, 13, cls.WHAT
        )
        return cls(
            u32(seq, "seq"), as_type(cleared, Bool, "cleared").value, _quality(q, "quality"),
            _opt_quality(eq, "end quality"), read_opt_time(nb, "not_before"),
            read_opt_time(na, "not_after"), time_ms(as_type(start, DateTimeS, "start"), "start"),
            read_opt_time(end, "end"), u32(ib, "import before"), u32(eb, "export before"),
            read_opt_u32(ia, "import after"), read_opt_u32(ea, "export after"),
            as_type(bits, Unsigned, "report bits").value,
        )


@dataclass(frozen=True, slots=True)
class QualityPowerDownRow(_Row):
    """A power-down record of all time as our manufacturer object serves it: seq, cleared,
    the start's and the end's time quality (null while down), start and end."""

    seq: int
    cleared: bool
    quality: Quality
    end_quality: Quality | None
    start_ms: int
    end_ms: int | None
    COLUMNS: ClassVar[tuple[Oad, ...]] = ()
    WHAT: ClassVar[str] = "a manufacturer power-down row"

    def __post_init__(self) -> None:
        _check_u32(self.seq, "seq")
        _check_quality(self.quality, "start time quality")
        _check_quality(self.end_quality, "end time quality", optional=True)
        check_time(self.start_ms, "start")
        check_time(self.end_ms, "end")
        if (self.end_quality is None) != (self.end_ms is None):
            raise InvalidField("an end quality goes with an end time, and only with one")
        if not isinstance(self.cleared, bool):
            raise InvalidField("cleared is a bool")

    @classmethod
    def from_record(cls, rec: PowerDown, baseline: int) -> Self:
        return cls(
            rec.seq % U32, rec.seq <= baseline, _quality_name(rec.start_quality),
            _quality_name(rec.end_quality) if rec.ended else None, floor_s(rec.start_ms),
            floor_s(rec.end_ms) if rec.ended else None,
        )

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.seq), Bool(self.cleared), _quality_data(self.quality),
            _quality_data(self.end_quality), date_time_s(self.start_ms), opt_time(self.end_ms),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        seq, cleared, q, eq, start, end = items(value, Structure, 6, cls.WHAT)
        return cls(
            u32(seq, "seq"), as_type(cleared, Bool, "cleared").value, _quality(q, "quality"),
            _opt_quality(eq, "end quality"), time_ms(as_type(start, DateTimeS, "start"), "start"),
            read_opt_time(end, "end"),
        )


@dataclass(frozen=True, slots=True)
class QualityClockRow(_Row):
    """A clock change as our manufacturer object serves it: seq (all-time; a clock log is never
    cleared), the operator code as DL/T 645 received it (4 bytes, C0 first; zeros for a
    broadcast), whether the clock was valid before the change, the time before and after (as
    3016's 201E and 2020), and the broadcast-time total at the change (a reader tells from it
    whether broadcasts moved the clock after the latest authorised set)."""

    seq: int
    operator: bytes
    before_valid: bool
    before_ms: int | None
    after_ms: int | None
    broadcasts: int
    COLUMNS: ClassVar[tuple[Oad, ...]] = ()
    WHAT: ClassVar[str] = "a manufacturer clock-change row"

    def __post_init__(self) -> None:
        _check_u32(self.seq, "seq")
        _check_u32(self.broadcasts, "broadcast total")
        if not isinstance(self.operator, bytes) or len(self.operator) != 4:
            raise InvalidField(f"an operator code is 4 bytes, got {self.operator!r}")
        if not isinstance(self.before_valid, bool):
            raise InvalidField("before_valid is a bool")
        check_time(self.before_ms, "time before")
        check_time(self.after_ms, "time after")

    @classmethod
    def from_record(cls, rec: ClockChange) -> Self:
        return cls(
            rec.seq % U32, int(rec.operator).to_bytes(4, "little"), bool(rec.before_valid),
            servable_time(rec.before_ms), servable_time(rec.after_ms), rec.broadcasts % U32,
        )

    def values(self) -> tuple[Data, ...]:
        return (
            DoubleLongUnsigned(self.seq), OctetString(self.operator), Bool(self.before_valid),
            opt_time(self.before_ms), opt_time(self.after_ms), DoubleLongUnsigned(self.broadcasts),
        )

    @classmethod
    def from_data(cls, value: Data) -> Self:
        seq, op, valid, before, after, broadcasts = items(value, Structure, 6, cls.WHAT)
        operator = as_type(op, OctetString, "operator").value
        need(len(operator) == 4, "an operator code is 4 bytes")
        return cls(
            u32(seq, "seq"), operator, as_type(valid, Bool, "before valid").value,
            read_opt_time(before, "time before"), read_opt_time(after, "time after"),
            u32(broadcasts, "broadcast total"),
        )


@dataclass(frozen=True, slots=True)
class AllTimeTotals(_Value):
    """Attribute 3 of our manufacturer objects: the log's all-time total, and the standard
    view's baseline (the all-time total at the log's last clear)."""

    total: int
    baseline: int
    WHAT: ClassVar[str] = "all-time totals"

    def __post_init__(self) -> None:
        _check_u32(self.total, "total")
        _check_u32(self.baseline, "baseline")

    def to_data(self) -> Data:
        return Structure((DoubleLongUnsigned(self.total), DoubleLongUnsigned(self.baseline)))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        total, base = items(value, Structure, 2, cls.WHAT)
        return cls(u32(total, "total"), u32(base, "baseline"))
