"""The DL/T 645 data catalogue, part three: the daily freezes a meter serves, standard and ours.

Owns: the daily-freeze values of DL/T 645-2007 Table A.6 — the freeze time (`05 06 00 nn`, 5
bytes YYMMDDhhmm) and the forward and reverse active energies frozen then (`05 06 01 nn`,
`05 06 02 nn`: the total and tariffs 1–4, 5 × XXXXXX.XX = 20 bytes), nn = 01…3E the 1st…62nd
latest — our extended freeze (seq, time quality, time, both energies: 18 bytes) and the block
of all 62 of them, and how a firmware freeze becomes each (``from_record``).

Layouts: the freeze time and the 20-byte energy block as public meter-side implementations
serve them (a PLC module's meter simulator answers `05 06 00 01` with 5 BCD bytes and
`05 06 01 01…3E` with the total and four tariffs; a concentrator reads `05 06 01 01` as five
4-byte values); docs/dlt645.md has the sources. Our single-rate meter keeps no tariff registers:
tariffs 1–4 are sent as zeros, the total is the register.

Must not know: data identifiers, frames, sessions, the head-end. The firmware's record codec is
imported inside ``from_record`` only, so that decoding never loads the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Self, cast

from meterseal.protocols.dlt645.values import (
    MS_LIMIT,
    REGISTER_LIMIT,
    Quality,
    bcd_byte,
    bcd_value,
    check_quality,
    check_uint,
    civil,
    decoding,
    expect_length,
    local_ms,
    quality_code,
    quality_from_code,
    slot_seq,
    uint_from_bcd,
    uint_to_bcd,
)

if TYPE_CHECKING:
    from meterseal.firmware.records import DailyFreeze

FREEZES: Final = 62  # DI0 01..3E: the latest 62 daily freezes
TARIFFS: Final = 4
MS_PER_MIN: Final = 60_000


def time5_to_bytes(ms: int | None) -> bytes:
    """YYMMDDhhmm, sent mm hh DD MM YY; all zeros for None."""
    if ms is None:
        return bytes(5)
    t = civil(ms)
    return bytes(bcd_byte(v) for v in (t.minute, t.hour, t.day, t.month, t.year - 2000))


def time5_from_bytes(data: bytes, what: str) -> int | None:
    expect_length(data, 5, what)
    if not any(data):
        return None
    mi, hh, dd, mo, yy = (bcd_value(b, what) for b in data)
    return local_ms(2000 + yy, mo, dd, hh, mi, what=what)


def _check_minute(ms: int | None, what: str) -> None:
    if ms is None:
        return
    check_uint(ms, MS_LIMIT, what)
    if ms % MS_PER_MIN:
        raise ValueError(f"{what} must be whole minutes (the wire has none smaller), got {ms}")


@dataclass(frozen=True, slots=True)
class FreezeTime:
    """`05 06 00 nn`: when the n-th latest daily freeze was taken (a whole minute, the meter's
    local time). All zeros: no such freeze (yet)."""

    time_ms: int | None = None

    LENGTH: ClassVar[int] = 5
    WHAT: ClassVar[str] = "a freeze time"

    def __post_init__(self) -> None:
        _check_minute(self.time_ms, "freeze time")

    @property
    def is_empty(self) -> bool:
        return self.time_ms is None

    @classmethod
    def from_record(cls, rec: DailyFreeze) -> Self:
        return cls(rec.time_ms - rec.time_ms % MS_PER_MIN)

    def to_bytes(self) -> bytes:
        return time5_to_bytes(self.time_ms)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            return cls(time5_from_bytes(data, "freeze time"))


@dataclass(frozen=True, slots=True)
class FreezeEnergy:
    """`05 06 01 nn` (forward) or `05 06 02 nn` (reverse) active energy at the n-th latest daily
    freeze: the total, then tariffs 1–4, each XXXXXX.XX (20 bytes; zeros: no such freeze)."""

    total_0p01kwh: int = 0
    tariffs_0p01kwh: tuple[int, int, int, int] = (0, 0, 0, 0)

    LENGTH: ClassVar[int] = 4 * (1 + TARIFFS)
    WHAT: ClassVar[str] = "a frozen energy"

    def __post_init__(self) -> None:
        check_uint(self.total_0p01kwh, REGISTER_LIMIT, "frozen total (0.01 kWh)")
        if not isinstance(self.tariffs_0p01kwh, tuple) or len(self.tariffs_0p01kwh) != TARIFFS:
            raise ValueError(f"tariffs are {TARIFFS} energies, got {self.tariffs_0p01kwh!r}")
        for t, units in enumerate(self.tariffs_0p01kwh, start=1):
            check_uint(units, REGISTER_LIMIT, f"frozen tariff {t} (0.01 kWh)")

    @property
    def kwh(self) -> float:
        return self.total_0p01kwh / 100.0

    @classmethod
    def rolled(cls, units_0p01kwh: int) -> Self:
        """A single-rate register as shown (it rolls over at 1 000 000 kWh)."""
        return cls(units_0p01kwh % REGISTER_LIMIT)

    def to_bytes(self) -> bytes:
        return b"".join(uint_to_bcd(u, 4) for u in (self.total_0p01kwh, *self.tariffs_0p01kwh))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            total, t1, t2, t3, t4 = (uint_from_bcd(data[i : i + 4], "energy")
                                     for i in range(0, cls.LENGTH, 4))
            return cls(total, (t1, t2, t3, t4))


@dataclass(frozen=True, slots=True)
class ExtendedFreeze:
    """Ours (`04 80 06 nn`, 18 bytes): the n-th latest daily freeze with what the standard
    leaves out — seq, the all-time sequence number (XXXXXXXX); the time quality (the wire codes
    of the cover records: exact at midnight on mains, deferred when made up at a restore for a
    midnight the meter missed, unsynced when its clock had lost time); the freeze time (5); the
    forward and reverse active energy totals (4 + 4). seq 0 and all zeros: an empty slot."""

    seq: int = 0
    quality: Quality | None = None  # None only in the empty slot
    time_ms: int | None = None
    import_0p01kwh: int = 0
    export_0p01kwh: int = 0

    LENGTH: ClassVar[int] = 4 + 1 + 5 + 4 + 4
    WHAT: ClassVar[str] = "an extended daily freeze"

    def __post_init__(self) -> None:
        check_uint(self.seq, REGISTER_LIMIT, "seq")
        check_uint(self.import_0p01kwh, REGISTER_LIMIT, "frozen import (0.01 kWh)")
        check_uint(self.export_0p01kwh, REGISTER_LIMIT, "frozen export (0.01 kWh)")
        _check_minute(self.time_ms, "freeze time")
        if self.seq == 0:
            if (self.quality, self.time_ms, self.import_0p01kwh, self.export_0p01kwh) != (
                    None, None, 0, 0):
                raise ValueError("seq 0 marks an empty slot, which holds nothing else")
            return
        check_quality(self.quality, "time quality")
        if self.time_ms is None:
            raise ValueError("a freeze has a time")

    @property
    def is_empty(self) -> bool:
        return self.seq == 0

    @classmethod
    def from_record(cls, rec: DailyFreeze) -> Self:
        from meterseal.firmware.records import QUALITY_NAMES

        return cls(rec.seq % REGISTER_LIMIT, cast(Quality, QUALITY_NAMES[rec.quality]),
                   rec.time_ms - rec.time_ms % MS_PER_MIN, rec.import_units % REGISTER_LIMIT,
                   rec.export_units % REGISTER_LIMIT)

    def to_bytes(self) -> bytes:
        if self.seq == 0:
            return bytes(self.LENGTH)
        return (uint_to_bcd(self.seq, 4) + bytes((quality_code(self.quality),))
                + time5_to_bytes(self.time_ms) + uint_to_bcd(self.import_0p01kwh, 4)
                + uint_to_bcd(self.export_0p01kwh, 4))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        with decoding(cls.WHAT):
            seq = slot_seq(data)
            if seq is None:
                return cls()
            return cls(seq, quality_from_code(data[4], "time quality"),
                       time5_from_bytes(data[5:10], "freeze time"),
                       uint_from_bcd(data[10:14], "frozen import"),
                       uint_from_bcd(data[14:18], "frozen export"))


@dataclass(frozen=True, slots=True)
class ExtendedFreezeBlock:
    """Ours (`04 80 06 FF`): all 62 extended freezes, newest first, in one answer (1116 bytes:
    a first frame and five follow-up frames)."""

    freezes: tuple[ExtendedFreeze, ...]

    LENGTH: ClassVar[int] = FREEZES * ExtendedFreeze.LENGTH
    WHAT: ClassVar[str] = "the block of extended daily freezes"

    def __post_init__(self) -> None:
        if len(self.freezes) != FREEZES or not all(
                isinstance(f, ExtendedFreeze) for f in self.freezes):
            raise ValueError(f"the block holds {FREEZES} extended freezes")

    def to_bytes(self) -> bytes:
        return b"".join(f.to_bytes() for f in self.freezes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        size = ExtendedFreeze.LENGTH
        with decoding(cls.WHAT):
            return cls(tuple(ExtendedFreeze.from_bytes(data[i : i + size])
                             for i in range(0, cls.LENGTH, size)))
