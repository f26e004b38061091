"""The DL/T 645 data catalogue, part one: the fields every value is built from, and the small
values a meter serves on their own (count, energy, date, time, address, all-time totals).

Owns: the byte layout of each of them as it goes on the wire before the link layer's +33h (every
multi-byte field low byte first), the checks a value must pass to exist, the time-quality code
table and the flag bits of the manufacturer-specific records, and how a decode fails
(:class:`CatalogError`, naming what is wrong). Times are the meter's local epoch ms (ms since
2000-01-01T00:00 local standard time) in whole seconds, or None for the all-zero "no time".

Must not know: frames, data identifiers and records (catalog.py), sessions, links, the firmware.
The calendar here is the standard library's on purpose: a head-end decodes with this module and
must not load the firmware, whose own calendar (caltime) exists because MicroPython has no
datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Final, Literal, Protocol, Self

from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.frame import address_to_string

MS_PER_S: Final = 1000
MS_PER_DAY: Final = 86_400_000
MS_LIMIT: Final = 36_525 * MS_PER_DAY  # 2100-01-01: a two-digit year holds 2000..2099 only
COUNT_LIMIT: Final = 1_000_000  # XXXXXX: counts roll over, as meters' counts do
REGISTER_LIMIT: Final = 100_000_000  # XXXXXX.XX and XXXXXXXX
_EPOCH: Final = datetime(2000, 1, 1)

# --- time quality and flags of the manufacturer-specific records (docs/dlt645.md) -------------
# The wire codes are ours (the standard has no such field); they are not the firmware's NVM codes,
# even though today they coincide: catalog.py maps one to the other by name.

Quality = Literal["exact", "deferred", "bounded", "unsynced"]
QUALITY_CODES: Final[dict[Quality, int]] = {
    "exact": 0, "deferred": 1, "bounded": 2, "unsynced": 3,
}
QUALITY_BY_CODE: Final[dict[int, Quality]] = {code: q for q, code in QUALITY_CODES.items()}
NO_QUALITY: Final = 0xFF  # the closing (ending) quality of a record still open
FLAG_HIDDEN: Final = 0x01  # hidden from the standard identifiers by an event clear
FLAG_CLOSED: Final = 0x02  # closed (cover) / ended (power down)


class Value(Protocol):
    """What every catalogue value is: a fixed byte length and a symmetric codec."""

    LENGTH: ClassVar[int]

    def to_bytes(self) -> bytes: ...

    @classmethod
    def from_bytes(cls, data: bytes) -> Self: ...


# --- checks ----------------------------------------------------------------------------------


def check_uint(value: object, limit: int, what: str) -> None:
    # bool is an int subclass; a flag passed for a number is a caller's bug worth catching
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < limit:
        raise ValueError(f"{what} must be an integer in 0..{limit - 1}, got {value!r}")


def check_time(ms: int | None, what: str) -> None:
    """A time the wire can carry: None, or whole seconds in 2000..2099."""
    if ms is None:
        return
    check_uint(ms, MS_LIMIT, what)
    if ms % MS_PER_S:
        raise ValueError(f"{what} must be whole seconds (the wire has none smaller), got {ms}")


def check_quality(q: object, what: str) -> None:
    if q not in QUALITY_CODES:
        raise ValueError(f"{what} must be one of {', '.join(QUALITY_CODES)}, got {q!r}")


@contextmanager
def decoding(what: str) -> Iterator[None]:
    """Inside the decoding of ``what``: any ValueError (a field's decode error, or a value
    refusing to exist) becomes a CatalogError that says where, outermost part first."""
    try:
        yield
    except ValueError as exc:
        raise CatalogError(f"{what}: {exc}") from None


# --- fields ----------------------------------------------------------------------------------


def expect_length(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise CatalogError(f"{what} has {length} bytes, got {len(data)}")


def slot_seq(data: bytes) -> int | None:
    """The all-time seq (4 BCD bytes) an extended record's answer starts with, or None for an
    empty slot (seq 0, every byte zero); seq 0 with anything else is refused."""
    seq = uint_from_bcd(data[:4], "seq")
    if seq == 0:
        if any(data):
            raise CatalogError("seq 0 marks an empty slot, whose bytes are all zeros")
        return None
    return seq


def bcd_byte(n: int) -> int:
    """One packed-BCD byte of 0..99."""
    return (n // 10) << 4 | n % 10


def bcd_value(byte: int, what: str) -> int:
    hi, lo = byte >> 4, byte & 0x0F
    if hi > 9 or lo > 9:
        raise CatalogError(f"{what}: byte {byte:02X} is not BCD")
    return 10 * hi + lo


def is_bcd(data: bytes) -> bool:
    return all(b >> 4 <= 9 and b & 0x0F <= 9 for b in data)


def uint_to_bcd(n: int, width: int) -> bytes:
    """``width`` BCD bytes of n, low byte first (n must fit)."""
    out = bytearray(width)
    for i in range(width):
        n, pair = divmod(n, 100)
        out[i] = bcd_byte(pair)
    return bytes(out)


def uint_from_bcd(data: bytes, what: str) -> int:
    n = 0
    for byte in reversed(data):
        n = 100 * n + bcd_value(byte, what)
    return n


def floor_s(ms: int) -> int:
    return ms - ms % MS_PER_S


def ceil_s(ms: int) -> int:
    return -(-ms // MS_PER_S) * MS_PER_S


def civil(ms: int) -> datetime:
    """The naive local datetime of a local epoch ms."""
    return _EPOCH + timedelta(milliseconds=ms)


def local_ms(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *,
    what: str,
) -> int:
    """The local epoch ms of a civil time; CatalogError naming ``what`` if there is no such time
    or the wire cannot carry it."""
    stamp = f"{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"
    try:
        delta = datetime(year, month, day, hour, minute, second) - _EPOCH
    except ValueError as exc:
        raise CatalogError(f"{what}: {stamp} is not a time ({exc})") from None
    ms = (delta.days * 86_400 + delta.seconds) * MS_PER_S
    if not 0 <= ms < MS_LIMIT:
        raise CatalogError(f"{what}: {stamp} is outside 2000..2099")
    return ms


def time6_to_bytes(ms: int | None) -> bytes:
    """YYMMDDhhmmss, sent ss mm hh DD MM YY; all zeros for None."""
    if ms is None:
        return bytes(6)
    t = civil(ms)
    return bytes(bcd_byte(v) for v in (t.second, t.minute, t.hour, t.day, t.month, t.year - 2000))


def time6_from_bytes(data: bytes, what: str) -> int | None:
    expect_length(data, 6, what)
    if not any(data):
        return None
    ss, mi, hh, dd, mo, yy = (bcd_value(b, what) for b in data)
    return local_ms(2000 + yy, mo, dd, hh, mi, ss, what=what)


def quality_code(q: Quality | None) -> int:
    return NO_QUALITY if q is None else QUALITY_CODES[q]


def quality_from_code(code: int, what: str, *, open_allowed: bool = False) -> Quality | None:
    """The quality a wire code names; NO_QUALITY gives None where ``open_allowed``."""
    if open_allowed and code == NO_QUALITY:
        return None
    q = QUALITY_BY_CODE.get(code)
    if q is None:
        raise CatalogError(f"{what}: {code:#04x} is not a time-quality code")
    return q


# --- the small values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Count:
    """XXXXXX: an event count, 3 BCD bytes."""

    value: int

    LENGTH: ClassVar[int] = 3
    WHAT: ClassVar[str] = "a count"

    def __post_init__(self) -> None:
        check_uint(self.value, COUNT_LIMIT, "count")

    @classmethod
    def rolled(cls, n: int) -> Self:
        """The count a meter shows for n events: it rolls over at 1 000 000."""
        return cls(n % COUNT_LIMIT)

    def to_bytes(self) -> bytes:
        return uint_to_bcd(self.value, self.LENGTH)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(uint_from_bcd(data, cls.WHAT))


@dataclass(frozen=True, slots=True)
class Energy:
    """XXXXXX.XX kWh: an energy register, 4 BCD bytes in 0.01 kWh."""

    units_0p01kwh: int

    LENGTH: ClassVar[int] = 4
    WHAT: ClassVar[str] = "an energy"

    def __post_init__(self) -> None:
        check_uint(self.units_0p01kwh, REGISTER_LIMIT, "energy (0.01 kWh)")

    @classmethod
    def rolled(cls, units_0p01kwh: int) -> Self:
        """The register as shown: it rolls over at 1 000 000 kWh."""
        return cls(units_0p01kwh % REGISTER_LIMIT)

    @property
    def kwh(self) -> float:
        return self.units_0p01kwh / 100.0

    def to_bytes(self) -> bytes:
        return uint_to_bcd(self.units_0p01kwh, self.LENGTH)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(uint_from_bcd(data, cls.WHAT))


@dataclass(frozen=True, slots=True)
class EnergySnapshot:
    """The six energy totals an event record stamps (24 bytes): forward (import) active,
    reverse (export) active, then reactive in quadrants I..IV, each XXXXXX.XX. A single-phase
    meter without reactive registers sends zeros for those."""

    import_0p01kwh: int = 0
    export_0p01kwh: int = 0
    reactive_0p01kvarh: tuple[int, int, int, int] = (0, 0, 0, 0)

    LENGTH: ClassVar[int] = 24
    WHAT: ClassVar[str] = "an energy snapshot"

    def __post_init__(self) -> None:
        check_uint(self.import_0p01kwh, REGISTER_LIMIT, "import energy (0.01 kWh)")
        check_uint(self.export_0p01kwh, REGISTER_LIMIT, "export energy (0.01 kWh)")
        if not isinstance(self.reactive_0p01kvarh, tuple) or len(self.reactive_0p01kvarh) != 4:
            raise ValueError(f"reactive energies are 4 quadrants, got {self.reactive_0p01kvarh!r}")
        for q, units in enumerate(self.reactive_0p01kvarh, start=1):
            check_uint(units, REGISTER_LIMIT, f"reactive energy Q{q} (0.01 kvarh)")

    @classmethod
    def rolled(cls, import_0p01kwh: int, export_0p01kwh: int) -> Self:
        """An active-only snapshot of the registers as shown (each rolls over)."""
        return cls(import_0p01kwh % REGISTER_LIMIT, export_0p01kwh % REGISTER_LIMIT)

    def to_bytes(self) -> bytes:
        units = (self.import_0p01kwh, self.export_0p01kwh, *self.reactive_0p01kvarh)
        return b"".join(uint_to_bcd(u, Energy.LENGTH) for u in units)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        imp, exp, q1, q2, q3, q4 = (
            uint_from_bcd(data[i : i + Energy.LENGTH], cls.WHAT)
            for i in range(0, cls.LENGTH, Energy.LENGTH)
        )
        return cls(imp, exp, (q1, q2, q3, q4))


ZERO_ENERGY: Final = EnergySnapshot()


@dataclass(frozen=True, slots=True)
class MeterDate:
    """YYMMDDWW, sent WW DD MM YY: the meter's date (its local midnight) and the weekday it
    states (0 = Sunday), kept as sent."""

    date_ms: int
    weekday: int

    LENGTH: ClassVar[int] = 4
    WHAT: ClassVar[str] = "a date"

    def __post_init__(self) -> None:
        check_time(self.date_ms, "date")
        if self.date_ms % MS_PER_DAY:
            raise ValueError(f"a date is a local midnight, got {self.date_ms} ms")
        check_uint(self.weekday, 7, "weekday")

    @classmethod
    def of(cls, local_ms: int) -> Self:
        """The date of a local epoch ms, with its true weekday."""
        midnight = local_ms - local_ms % MS_PER_DAY
        return cls(midnight, (civil(midnight).weekday() + 1) % 7)  # Monday 0 -> Sunday 0

    def at(self, time: MeterTime) -> int:
        """The local epoch ms of ``time`` on this date."""
        return self.date_ms + time.ms_of_day

    def to_bytes(self) -> bytes:
        t = civil(self.date_ms)
        return bytes(bcd_byte(v) for v in (self.weekday, t.day, t.month, t.year - 2000))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        ww, dd, mo, yy = (bcd_value(b, cls.WHAT) for b in data)
        if ww > 6:
            raise CatalogError(f"{cls.WHAT}: weekday {ww} is not 0..6")
        return cls(local_ms(2000 + yy, mo, dd, what=cls.WHAT), ww)


@dataclass(frozen=True, slots=True)
class MeterTime:
    """hhmmss, sent ss mm hh: the meter's time of day, in ms since its local midnight."""

    ms_of_day: int

    LENGTH: ClassVar[int] = 3
    WHAT: ClassVar[str] = "a time of day"

    def __post_init__(self) -> None:
        check_uint(self.ms_of_day, MS_PER_DAY, "time of day (ms)")
        if self.ms_of_day % MS_PER_S:
            raise ValueError(f"time of day must be whole seconds, got {self.ms_of_day} ms")

    @classmethod
    def of(cls, local_ms: int) -> Self:
        return cls(floor_s(local_ms % MS_PER_DAY))

    def to_bytes(self) -> bytes:
        s = self.ms_of_day // MS_PER_S
        return bytes(bcd_byte(v) for v in (s % 60, s // 60 % 60, s // 3600))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        ss, mi, hh = (bcd_value(b, cls.WHAT) for b in data)
        if hh > 23 or mi > 59 or ss > 59:
            raise CatalogError(f"{cls.WHAT}: {hh:02}:{mi:02}:{ss:02} is not one")
        return cls(((hh * 60 + mi) * 60 + ss) * MS_PER_S)


@dataclass(frozen=True, slots=True)
class Address:
    """The communication address: 12 BCD digits, 6 bytes, lowest byte first."""

    wire: bytes

    LENGTH: ClassVar[int] = 6
    WHAT: ClassVar[str] = "an address"

    def __post_init__(self) -> None:
        if not isinstance(self.wire, bytes) or len(self.wire) != self.LENGTH:
            raise ValueError(f"an address is {self.LENGTH} bytes, got {self.wire!r}")
        if not is_bcd(self.wire):
            raise ValueError(f"an address is BCD digits, got {self.wire.hex(' ')}")

    @property
    def digits(self) -> str:
        """As printed on the meter."""
        return address_to_string(self.wire)

    def to_bytes(self) -> bytes:
        return self.wire

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        if not is_bcd(data):
            raise CatalogError(f"{cls.WHAT}: {bytes(data).hex(' ')} is not BCD digits")
        return cls(bytes(data))


@dataclass(frozen=True, slots=True)
class AllTimeTotals:
    """Manufacturer-specific (docs/dlt645.md): a log's all-time total, XXXXXXXX, then the
    standard view's baseline, the all-time total at the log's last clear (8 bytes)."""

    total: int
    baseline: int

    LENGTH: ClassVar[int] = 8
    WHAT: ClassVar[str] = "all-time totals"

    def __post_init__(self) -> None:
        check_uint(self.total, REGISTER_LIMIT, "all-time total")
        check_uint(self.baseline, REGISTER_LIMIT, "baseline")

    @classmethod
    def rolled(cls, total: int, baseline: int) -> Self:
        return cls(total % REGISTER_LIMIT, baseline % REGISTER_LIMIT)

    def to_bytes(self) -> bytes:
        return uint_to_bcd(self.total, 4) + uint_to_bcd(self.baseline, 4)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(uint_from_bcd(data[:4], cls.WHAT), uint_from_bcd(data[4:], cls.WHAT))


@dataclass(frozen=True, slots=True)
class VersionString:
    """Table A.5 `04 80 00 01`…`03` (software version, hardware version, manufacturer number):
    32 ASCII bytes, low byte first like every field of the standard, NUL-padded."""

    text: str

    LENGTH: ClassVar[int] = 32
    WHAT: ClassVar[str] = "a 32-byte ASCII string"

    def __post_init__(self) -> None:
        t = self.text
        if not t or len(t) > self.LENGTH or not (t.isascii() and t.isprintable()):
            raise ValueError(f"{self.WHAT} holds 1..32 printable ASCII characters, got {t!r}")

    def to_bytes(self) -> bytes:
        return self.text.encode("ascii").ljust(self.LENGTH, b"\0")[::-1]

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        raw = bytes(data[::-1]).rstrip(b"\0").rstrip(b" ")
        try:
            return cls(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise CatalogError(f"{cls.WHAT}: {raw!r} is not printable ASCII") from None
