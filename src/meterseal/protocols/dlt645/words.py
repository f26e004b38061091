"""The bit words of the active-report path and of the run status, and the cover's open time.

Owns the value classes of 04 00 11 04 (active-report mode word, 8 bytes), 04 00 15 01 (active-
report status word, 12 bytes), 04 00 15 03 (its reset, 12 bytes), 04 00 05 07 (run-status word
7, 2 bytes) and our cumulative cover-open time (vendor block): each a symmetric to_bytes /
from_bytes pair. A bit word travels as every multi-byte field of the standard, lowest byte first;
bit n is bit n % 8 of byte n // 8.

Must not know: frames, sessions, the firmware or what the bits mean (firmware/reportword.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from meterseal.protocols.dlt645.values import (
    check_uint,
    expect_length,
    uint_from_bcd,
    uint_to_bcd,
)


@dataclass(frozen=True, slots=True)
class _BitWord:
    bits: int

    LENGTH: ClassVar[int] = 0
    WHAT: ClassVar[str] = "a bit word"

    def __post_init__(self) -> None:
        check_uint(self.bits, 1 << (8 * self.LENGTH), self.WHAT)

    def bit(self, n: int) -> bool:
        return bool(self.bits >> n & 1)

    def to_bytes(self) -> bytes:
        return self.bits.to_bytes(self.LENGTH, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(int.from_bytes(data, "little"))


@dataclass(frozen=True, slots=True)
class ReportMode(_BitWord):
    """04 00 11 04: a bit per event type whose active report is enabled."""

    LENGTH: ClassVar[int] = 8
    WHAT: ClassVar[str] = "an active-report mode word"


@dataclass(frozen=True, slots=True)
class ReportStatus(_BitWord):
    """04 00 15 01: a bit per event type that awaits reporting."""

    LENGTH: ClassVar[int] = 12
    WHAT: ClassVar[str] = "an active-report status word"


@dataclass(frozen=True, slots=True)
class ReportReset(_BitWord):
    """04 00 15 03 (written): a 1 bit resets that bit of the status word."""

    LENGTH: ClassVar[int] = 12
    WHAT: ClassVar[str] = "an active-report status reset"


@dataclass(frozen=True, slots=True)
class RunStatus7(_BitWord):
    """04 00 05 07: run-status word 7 (bit 8 meter cover open, bit 9 terminal cover open)."""

    LENGTH: ClassVar[int] = 2
    WHAT: ClassVar[str] = "run-status word 7"


@dataclass(frozen=True, slots=True)
class CoverOpenTime:
    """Ours (vendor block): the openings the meter holds records of (XXXXXX) and the time the
    cover was open over them, in minutes (XXXXXX, whole minutes, rounded down), in the standard's
    "count, cumulative time" layout of its other event logs."""

    openings: int
    minutes: int

    LENGTH: ClassVar[int] = 6
    WHAT: ClassVar[str] = "a cover-open time"

    def __post_init__(self) -> None:
        check_uint(self.openings, 1_000_000, "openings")
        check_uint(self.minutes, 1_000_000, "minutes")

    @classmethod
    def of(cls, openings: int, open_ms: int) -> Self:
        """From a count and milliseconds open; the minutes roll over as a count does."""
        return cls(openings % 1_000_000, open_ms // 60_000 % 1_000_000)

    def to_bytes(self) -> bytes:
        return uint_to_bcd(self.openings, 3) + uint_to_bcd(self.minutes, 3)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(uint_from_bcd(data[:3], cls.WHAT), uint_from_bcd(data[3:], cls.WHAT))
