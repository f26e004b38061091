"""The DL/T 698.45 data catalogue, part one: the fields every value is built from, and the small
values a meter serves on their own.

Owns: the meter's time as date_time_s (local standard time, whole seconds) and back, the
time-quality codes of our manufacturer objects, the report-status bits of column 3300 and the
channel it names, and the small values: energy registers (0010/0020 attribute 2, 0.01 kWh),
the current-value table (attribute 7 of an event object) and the time-status table (attribute
10). Each value has a symmetric codec over its A-XDR bytes.

Must not know: frames, APDUs, sessions, the firmware (a head-end decodes with this module).
The calendar is the standard library's on purpose, as in the DL/T 645 catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Final, Literal, Self, TypeVar

from meterseal.protocols.dlt698.axdr import (
    NULL,
    Array,
    Data,
    DoubleLongUnsigned,
    Null,
    Structure,
    Unsigned,
    data_from_bytes,
)
from meterseal.protocols.dlt698.axdr_time import DateTimeS, ScalerUnit
from meterseal.protocols.dlt698.errors import CodecError, InvalidField
from meterseal.protocols.dlt698.refs import Oad, OadData

MS_PER_S: Final = 1000
_EPOCH: Final = datetime(2000, 1, 1)
MS_LIMIT: Final = 36_525 * 86_400_000  # 2100-01-01, as the NVM and DL/T 645 can carry
U32: Final = 1 << 32

# --- time quality (ours: the standard has no such field) -------------------------------------

Quality = Literal["exact", "deferred", "bounded", "unsynced"]
QUALITY_CODES: Final[dict[Quality, int]] = {
    "exact": 0, "deferred": 1, "bounded": 2, "unsynced": 3,
}
QUALITY_BY_CODE: Final[dict[int, Quality]] = {code: q for q, code in QUALITY_CODES.items()}

# --- column 3300, the report status: one {channel, status} per channel ----------------------
# Status bits (two public meter codecs agree: docs/dlt698.md): 0 the start was reported, 1 its
# report was confirmed by the master, 2 the end was reported, 3 its report was confirmed.
START_REPORTED: Final = 0x01
START_CONFIRMED: Final = 0x02
END_REPORTED: Final = 0x04
END_CONFIRMED: Final = 0x08
REPORT_BITS: Final = 0x0F
# The communication module's channel: carrier / micro-power wireless port 1 (F209 0201), the
# port a State Grid single-phase meter's module reports through.
MODULE_CHANNEL: Final = Oad(0xF209, 0x02, 0x01)

# --- energy: double-long-unsigned, scaler -2, unit kWh (33) ----------------------------------
ENERGY_SCALER_UNIT: Final = ScalerUnit(-2, 33)


T = TypeVar("T")


def need(cond: bool, what: str) -> None:
    if not cond:
        raise CodecError(what)


def as_type(value: Data, cls: type[T], what: str) -> T:
    """``value`` as a ``cls``, or CodecError naming ``what``."""
    if not isinstance(value, cls):
        raise CodecError(f"{what}: expected {cls.__name__}, got {type(value).__name__}")
    return value


def items(value: Data, cls: type[Array] | type[Structure], n: int | None, what: str) -> tuple[
    Data, ...
]:
    seq = as_type(value, cls, what)
    if n is not None and len(seq.items) != n:
        raise CodecError(f"{what}: {n} elements expected, got {len(seq.items)}")
    return seq.items


# --- time ------------------------------------------------------------------------------------


def check_time(ms: int | None, what: str) -> None:
    """A time the wire carries: None, or whole seconds in 2000..2099 as local epoch ms."""
    if ms is None:
        return
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms < MS_LIMIT:
        raise InvalidField(f"{what} must be local epoch ms in 2000..2099, got {ms!r}")
    if ms % MS_PER_S:
        raise InvalidField(f"{what} must be whole seconds (date_time_s has none smaller)")


def floor_s(ms: int) -> int:
    return ms - ms % MS_PER_S


def ceil_s(ms: int) -> int:
    return -(-ms // MS_PER_S) * MS_PER_S


def civil(ms: int) -> datetime:
    """The naive local datetime of a local epoch ms."""
    return _EPOCH + timedelta(milliseconds=ms)


def date_time_s(ms: int) -> DateTimeS:
    """The date_time_s of a local epoch ms (rounded down to the second)."""
    t = civil(ms)
    return DateTimeS(t.year, t.month, t.day, t.hour, t.minute, t.second)


def time_ms(value: DateTimeS, what: str = "time") -> int:
    """The local epoch ms a date_time_s names; CodecError if it names no time we carry (an FF
    "unspecified" field, 30 February, a year outside 2000..2099)."""
    try:
        delta = datetime(value.year, value.month, value.day, value.hour, value.minute,
                         value.second) - _EPOCH
    except ValueError as exc:
        raise CodecError(f"{what}: {value} is not a time ({exc})") from None
    ms = (delta.days * 86_400 + delta.seconds) * MS_PER_S
    if not 0 <= ms < MS_LIMIT:
        raise CodecError(f"{what}: {value} is outside 2000..2099")
    return ms


def opt_time(ms: int | None) -> Data:
    return NULL if ms is None else date_time_s(ms)


def read_opt_time(value: Data, what: str) -> int | None:
    if isinstance(value, Null):
        return None
    return time_ms(as_type(value, DateTimeS, what), what)


def opt_u32(n: int | None) -> Data:
    return NULL if n is None else DoubleLongUnsigned(n % U32)


def read_opt_u32(value: Data, what: str) -> int | None:
    if isinstance(value, Null):
        return None
    return as_type(value, DoubleLongUnsigned, what).value


def u32(value: Data, what: str) -> int:
    return as_type(value, DoubleLongUnsigned, what).value


# --- small values ----------------------------------------------------------------------------


class _Value:
    """Base: the value is its A-XDR ``to_data()``; bytes go through it both ways."""

    __slots__ = ()
    WHAT: ClassVar[str]

    def to_data(self) -> Data:
        raise NotImplementedError

    @classmethod
    def from_data(cls, value: Data) -> Self:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return self.to_data().to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        try:
            return cls.from_data(data_from_bytes(data))
        except (CodecError, InvalidField) as exc:
            raise CodecError(f"{cls.WHAT}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ReportStatus(_Value):
    """Column 3300: the report status of one record on the module's channel."""

    bits: int = 0
    channel: Oad = MODULE_CHANNEL
    WHAT: ClassVar[str] = "a report status (3300)"

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or not (
            0 <= self.bits <= 0xFF
        ):
            raise InvalidField(f"report status bits are 0..255, got {self.bits!r}")

    def to_data(self) -> Data:
        return Array((Structure((OadData(self.channel), Unsigned(self.bits))),))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        (entry,) = items(value, Array, 1, cls.WHAT)
        channel, bits = items(entry, Structure, 2, "channel status")
        status = as_type(bits, Unsigned, "status").value
        return cls(status, as_type(channel, OadData, "channel").oad)


NO_REPORT: Final = ReportStatus()


@dataclass(frozen=True, slots=True)
class EnergyTotal(_Value):
    """Attribute 2 of 0010 / 0020: total (and per-tariff) energy, double-long-unsigned in
    0.01 kWh. This meter has no tariff registers: the array holds the total only."""

    units_0p01kwh: int
    WHAT: ClassVar[str] = "an energy (0010/0020)"

    def __post_init__(self) -> None:
        if not 0 <= self.units_0p01kwh < U32:
            raise InvalidField(f"energy must fit 32 bits, got {self.units_0p01kwh}")

    @property
    def kwh(self) -> float:
        return self.units_0p01kwh / 100.0

    @classmethod
    def rolled(cls, units: int) -> Self:
        """The register as a 32-bit field shows it."""
        return cls(units % U32)

    def to_data(self) -> Data:
        return Array((DoubleLongUnsigned(self.units_0p01kwh),))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        elements = items(value, Array, None, cls.WHAT)
        need(len(elements) >= 1, "an energy array holds at least the total")
        return cls(u32(elements[0], "total energy"))


@dataclass(frozen=True, slots=True)
class CurrentValue(_Value):
    """Attribute 7 of an event object, single-phase: one {source null, {count, cumulative
    time s}} entry."""

    count: int
    cumulative_s: int
    WHAT: ClassVar[str] = "a current-value table (attribute 7)"

    def __post_init__(self) -> None:
        for name in ("count", "cumulative_s"):
            if not 0 <= getattr(self, name) < U32:
                raise InvalidField(f"{name} must fit 32 bits")

    def to_data(self) -> Data:
        stats = Structure((DoubleLongUnsigned(self.count), DoubleLongUnsigned(self.cumulative_s)))
        return Array((Structure((NULL, stats)),))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        (entry,) = items(value, Array, 1, cls.WHAT)
        _source, stats = items(entry, Structure, 2, "current value")
        count, seconds = items(stats, Structure, 2, "count and time")
        return cls(u32(count, "count"), u32(seconds, "cumulative time"))


@dataclass(frozen=True, slots=True)
class TimeStatus(_Value):
    """Attribute 10 of an event object, single-phase: one {source null, {last start, last
    end}} entry; a time not (yet) known is null."""

    last_start_ms: int | None
    last_end_ms: int | None
    WHAT: ClassVar[str] = "a time-status table (attribute 10)"

    def __post_init__(self) -> None:
        check_time(self.last_start_ms, "last start")
        check_time(self.last_end_ms, "last end")

    def to_data(self) -> Data:
        times = Structure((opt_time(self.last_start_ms), opt_time(self.last_end_ms)))
        return Array((Structure((NULL, times)),))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        (entry,) = items(value, Array, 1, cls.WHAT)
        _source, times = items(entry, Structure, 2, "time status")
        start, end = items(times, Structure, 2, "last start and end")
        return cls(read_opt_time(start, "last start"), read_opt_time(end, "last end"))
