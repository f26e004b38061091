"""A-XDR data of DL/T 698.45, part two: the calendar and interval types.

Owns: date_time_s, date_time, date, time, TI and scaler_unit as small immutable classes with a
symmetric codec, registered with axdr.py's decoder. Times are kept as their wire fields (a
meter may send FF for "unspecified"); what they mean as an instant is the catalogue's.

Must not know: APDUs, frames, objects of the meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from meterseal.protocols.dlt698.axdr import Reader, Tag, _check_int, _Value

# --------------------------------------------------------------------------------------------
# calendar types: kept as wire fields (FF / FFFF: unspecified)


class _Fields(_Value):
    """A fixed run of fields, each WIDTHS[i] bytes, big-endian."""

    __slots__ = ()
    WIDTHS: ClassVar[tuple[int, ...]]

    def fields(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _check(self) -> None:
        for value, width, name in zip(self.fields(), self.WIDTHS, self.__slots__, strict=True):
            _check_int(value, 0, (1 << (8 * width)) - 1, f"{type(self).__name__}.{name}")

    def __post_init__(self) -> None:
        self._check()

    def body(self) -> bytes:
        pairs = zip(self.fields(), self.WIDTHS, strict=True)
        return b"".join(v.to_bytes(w, "big") for v, w in pairs)

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Self:
        return cls(*(r.uint(w, cls.__name__) for w in cls.WIDTHS))


@dataclass(frozen=True, slots=True)
class DateTimeS(_Fields):
    """date_time_s: year (2 bytes), month, day, hour, minute, second."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    TAG: ClassVar[int] = Tag.DATE_TIME_S
    WIDTHS: ClassVar[tuple[int, ...]] = (2, 1, 1, 1, 1, 1)

    def fields(self) -> tuple[int, ...]:
        return (self.year, self.month, self.day, self.hour, self.minute, self.second)


@dataclass(frozen=True, slots=True)
class DateTime(_Fields):
    """date_time: year (2), month, day, day of week, hour, minute, second, milliseconds (2)."""

    year: int
    month: int
    day: int
    weekday: int
    hour: int
    minute: int
    second: int
    milliseconds: int
    TAG: ClassVar[int] = Tag.DATE_TIME
    WIDTHS: ClassVar[tuple[int, ...]] = (2, 1, 1, 1, 1, 1, 1, 2)

    def fields(self) -> tuple[int, ...]:
        return (
            self.year, self.month, self.day, self.weekday,
            self.hour, self.minute, self.second, self.milliseconds,
        )


@dataclass(frozen=True, slots=True)
class Date(_Fields):
    """date: year (2), month, day, day of week."""

    year: int
    month: int
    day: int
    weekday: int
    TAG: ClassVar[int] = Tag.DATE
    WIDTHS: ClassVar[tuple[int, ...]] = (2, 1, 1, 1)

    def fields(self) -> tuple[int, ...]:
        return (self.year, self.month, self.day, self.weekday)


@dataclass(frozen=True, slots=True)
class Time(_Fields):
    """time: hour, minute, second."""

    hour: int
    minute: int
    second: int
    TAG: ClassVar[int] = Tag.TIME
    WIDTHS: ClassVar[tuple[int, ...]] = (1, 1, 1)

    def fields(self) -> tuple[int, ...]:
        return (self.hour, self.minute, self.second)


@dataclass(frozen=True, slots=True)
class Ti(_Value):
    """TI, a time interval: unit (0 s, 1 min, 2 h, 3 day, 4 month, 5 year) and a count."""

    unit: int
    interval: int
    TAG: ClassVar[int] = Tag.TI

    def __post_init__(self) -> None:
        _check_int(self.unit, 0, 0xFF, "TI unit")
        _check_int(self.interval, 0, 0xFFFF, "TI interval")

    def body(self) -> bytes:
        return bytes((self.unit,)) + self.interval.to_bytes(2, "big")

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Ti:
        return cls(r.u8("TI unit"), r.uint(2, "TI interval"))


@dataclass(frozen=True, slots=True)
class ScalerUnit(_Value):
    scaler: int
    unit: int
    TAG: ClassVar[int] = Tag.SCALER_UNIT

    def __post_init__(self) -> None:
        _check_int(self.scaler, -128, 127, "scaler")
        _check_int(self.unit, 0, 0xFF, "unit")

    def body(self) -> bytes:
        return self.scaler.to_bytes(1, "big", signed=True) + bytes((self.unit,))

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> ScalerUnit:
        return cls(r.sint(1, "scaler"), r.u8("unit"))
