"""What one collection of one meter yields: its identity, the records new since the last
collection (or whose close half was still to come), and where its watermarks stand afterwards.

Owns the value objects the collector fills and the store ingests in one transaction; times are
ISO-8601 strings with the meter's UTC offset, energies kWh.

Must not know: frames and links (harvester.py), SQL (store/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

Kind = Literal["cover_open", "power_down", "event_clear", "terminal_cover", "time_set",
               "broadcast_time"]
KINDS: Final[tuple[Kind, ...]] = ("cover_open", "power_down", "event_clear", "terminal_cover",
                                  "time_set", "broadcast_time")
UNKNOWN: Final = "unknown"  # a record read through the standard DIs only


@dataclass(frozen=True, slots=True)
class CoverRow:
    seq: int
    opened_at: str
    closed_at: str | None
    time_quality: str
    close_quality: str | None
    not_before: str | None
    not_after: str | None
    import_before_kwh: float
    export_before_kwh: float
    import_after_kwh: float | None
    export_after_kwh: float | None
    cleared: bool


@dataclass(frozen=True, slots=True)
class PowerDownRow:
    seq: int
    started_at: str
    ended_at: str | None
    time_quality: str
    end_quality: str | None
    cleared: bool


@dataclass(frozen=True, slots=True)
class ClearRow:
    seq: int
    cleared_at: str
    operator: str
    di: str


@dataclass(frozen=True, slots=True)
class ClockRow:
    """A change of the meter's clock: a time setting (03 30 04) or a broadcast time (ours,
    04 80 08); ``changed_at`` is the meter's clock when it was changed (its time before)."""

    kind: Literal["time_set", "broadcast_time"]
    seq: int  # counted by the head-end from the log's count, like a standard record's
    changed_at: str
    clock_before: str
    clock_after: str
    operator: str | None  # C0 C1 C2 C3 as hex, wire order; None for a broadcast


@dataclass(frozen=True, slots=True)
class DailyEnergyRow:
    day: str  # YYYY-MM-DD, the meter's local day
    import_kwh: float
    export_kwh: float
    frozen_at: str


@dataclass(frozen=True, slots=True)
class Mark:
    """A watermark: the highest all-time seq ingested; the oldest ingested while still open
    (None: none open); the all-time seq a standard-only count starts from."""

    seq: int = 0
    open_seq: int | None = None
    base: int = 0


@dataclass(frozen=True, slots=True)
class MeterState:
    """What the store knows of a meter before this collection."""

    manufacturer: str | None = None
    vendor_records: bool | None = None  # None: never read
    marks: dict[str, Mark] = field(default_factory=dict)
    endpoint: str | None = None  # the gateway it was last read through
    daily_through: datetime | None = None  # the newest daily freeze held (its frozen_at)

    def mark(self, kind: Kind) -> Mark:
        return self.marks.get(kind, Mark())


@dataclass(slots=True)
class Harvest:
    address: str
    endpoint: str
    utc_offset_h: float
    manufacturer: str | None = None
    vendor_records: bool = False
    covers: list[CoverRow] = field(default_factory=list)
    terminal_covers: list[CoverRow] = field(default_factory=list)  # the terminal cover's log
    power_downs: list[PowerDownRow] = field(default_factory=list)
    clears: list[ClearRow] = field(default_factory=list)
    clock_changes: list[ClockRow] = field(default_factory=list)
    daily: list[DailyEnergyRow] = field(default_factory=list)
    marks: dict[str, Mark] = field(default_factory=dict)
    cleared_up_to: dict[str, int] = field(default_factory=dict)  # every seq ≤ it is cleared
    problems: list[str] = field(default_factory=list)
    new_events: int = 0

    @property
    def changed(self) -> bool:
        """Whether the store has anything to write for this meter beyond 'seen again'."""
        return bool(self.covers or self.terminal_covers or self.power_downs or self.clears
                    or self.clock_changes or self.daily or self.marks or self.cleared_up_to)
