"""The head-end reader: read one meter's cover-open records (and its power-down and event-clear
logs, clock and energies) over DL/T 645, decoded with the protocol's data catalogue.

Owns the reading plan (which identifiers, in which order, follow-up frames for the long block),
the mapping of catalogue values into a typed MeterReading, and its presentation (text and JSON).
The meter-side identifiers are documented in docs/dlt645.md.

Must not know: the firmware (not even its record codec: every byte layout, DI and flag is the
catalogue's), the simulator, sockets (the protocol client owns the link).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta, timezone
from typing import Any, TypeVar

from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.catalog import (
    RING,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedPowerDown,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
    decode_as,
)
from meterseal.protocols.dlt645.client import Dlt645Client
from meterseal.protocols.dlt645.errors import CatalogError, MeterRefused
from meterseal.protocols.dlt645.frame import (
    WILDCARD_ADDRESS,
    ErrorCode,
    Frame,
    FunctionCode,
    address_to_string,
)
from meterseal.protocols.dlt645.values import (
    Address,
    AllTimeTotals,
    Count,
    Energy,
    EnergySnapshot,
    MeterDate,
    MeterTime,
    Value,
    civil,
)

UNKNOWN = "unknown"  # a meter without the manufacturer-specific identifiers
V = TypeVar("V", bound=Value)


class ReadError(Exception):
    """The meter's answers cannot be read as this head-end expects (one line, actionable)."""


@dataclass(frozen=True, slots=True)
class CoverRecord:
    seq: int  # all-time sequence number (0 when the meter does not say)
    opened_at: str  # meter local time, ISO-8601 (with offset when the reader was given one)
    closed_at: str | None
    time_quality: str  # exact, deferred, bounded, unsynced (or unknown)
    closed_quality: str | None
    not_before: str | None
    not_after: str | None
    energy_before_kwh: dict[str, float]
    energy_after_kwh: dict[str, float] | None
    cleared: bool  # hidden from the standard DIs by an event clear (still held by the meter)


@dataclass(frozen=True, slots=True)
class PowerDownRecord:
    seq: int
    from_: str
    to: str | None
    time_quality: str
    end_quality: str | None
    cleared: bool


@dataclass(frozen=True, slots=True)
class ClearRecord:
    at: str
    operator: str  # C0 C1 C2 C3 as hex, wire order
    di: str  # the identifier cleared, DI3..DI0


@dataclass(frozen=True, slots=True)
class ClockRecord:
    """A change of the meter's clock: a time setting or a broadcast time."""

    seq: int  # all-time (the clock logs are never cleared); 0 when the meter does not say
    before: str | None  # the meter's clock before the change (None: it had lost its time)
    after: str | None
    operator: str | None  # C0 C1 C2 C3 as hex, wire order; None: a broadcast, or not carried


@dataclass(frozen=True, slots=True)
class MeterReading:
    address: str
    link: str
    clock: str
    import_kwh: float
    export_kwh: float
    cover_open_count: int  # the standard count (since the last clear)
    cover_open_total: int  # all time
    cover_open: list[CoverRecord] = field(default_factory=list)  # newest first
    power_down_count: int = 0
    power_down_total: int = 0
    power_down: list[PowerDownRecord] = field(default_factory=list)
    event_clear_count: int = 0
    event_clears: list[ClearRecord] = field(default_factory=list)
    # The terminal cover's log (03 30 0E): empty from a meter that has none.
    terminal_cover_count: int = 0
    terminal_cover_total: int = 0
    terminal_cover: list[CoverRecord] = field(default_factory=list)  # newest first
    # The clock logs: time settings (03 30 04, 3016) and broadcast times (ours: 04 80 08, 303C).
    time_set_count: int = 0
    time_sets: list[ClockRecord] = field(default_factory=list)  # newest first
    broadcast_count: int = 0
    broadcasts: list[ClockRecord] = field(default_factory=list)  # newest first

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for pd in d["power_down"]:
            pd["from"] = pd.pop("from_")
        return d


class Reader:
    """Read one meter through a :class:`Dlt645Client`.

    ``utc_offset_h``: the meter's local standard time offset, to print times with an offset
    (None: print the meter's local time as it is, without one).
    """

    def __init__(
        self, client: Dlt645Client, *, address: bytes | None = None,
        utc_offset_h: float | None = 8.0,
    ) -> None:
        self._client = client
        self._address = address
        self._tz = None if utc_offset_h is None else timezone(timedelta(hours=utc_offset_h))

    def read_address(self) -> bytes:
        """Ask whoever is on the line for its address (13 to AA×6)."""
        reply = self._client.request(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS))
        if reply.is_abnormal:
            raise ReadError(f"the meter answered read-address with {reply!r}")
        try:
            return Address.from_bytes(reply.data).wire
        except CatalogError as exc:
            raise ReadError(f"the meter's answer to read-address is not one: {exc}") from None

    def read(self) -> MeterReading:
        addr = self._address if self._address is not None else self.read_address()
        cover_count = self._get(addr, cat.COVER_OPEN_COUNT, Count).value
        pd_count = self._get(addr, cat.POWER_DOWN_COUNT, Count).value
        try:
            totals = self._get(addr, cat.MFR_COVER_OPEN_TOTALS, AllTimeTotals)
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            totals = None  # another maker's meter: the standard records only
        if totals is None:
            cover_total, covers = cover_count, self._standard_covers(addr, cover_count)
            pd_total, pds = pd_count, self._standard_power_downs(addr, pd_count)
        else:
            cover_total = totals.total
            covers = [
                self._cover(rec, totals.baseline)
                for rec in self._extended_covers(addr) if not rec.is_empty
            ]
            pd_totals = self._get(addr, cat.MFR_POWER_DOWN_TOTALS, AllTimeTotals)
            pd_total = pd_totals.total
            extended = (
                self._get(addr, cat.MFR_POWER_DOWN_RECORD, ExtendedPowerDown, n)
                for n in range(1, min(pd_total, RING) + 1)
            )
            pds = [self._power_down(rec, pd_totals.baseline) for rec in extended
                   if not rec.is_empty]

        clear_count = self._get(addr, cat.EVENT_CLEAR_COUNT, Count).value
        clears = []
        for n in range(1, min(clear_count, RING) + 1):
            rec = self._get(addr, cat.EVENT_CLEAR_RECORD, StandardEventClear, n)
            if not rec.is_empty:
                clears.append(self._clear(rec))
        t_count, t_total, terminal = self._terminal(addr, vendor=totals is not None)
        set_count, sets = self._clock_log(addr, cat.TIME_SET_COUNT, cat.TIME_SET_RECORD)
        bc_count, bcs = (self._clock_log(addr, cat.BROADCAST_COUNT, cat.BROADCAST_RECORD)
                         if totals is not None else (0, []))
        date = self._get(addr, cat.DATE, MeterDate)
        tod = self._get(addr, cat.TIME, MeterTime)
        return MeterReading(
            address=address_to_string(addr),
            link=self._client.link.name,
            clock=self._iso(date.at(tod)),
            import_kwh=self._get(addr, cat.IMPORT_ENERGY, Energy).kwh,
            export_kwh=self._get(addr, cat.EXPORT_ENERGY, Energy).kwh,
            cover_open_count=cover_count,
            cover_open_total=cover_total,
            cover_open=covers,
            power_down_count=pd_count,
            power_down_total=pd_total,
            power_down=pds,
            event_clear_count=clear_count,
            event_clears=clears,
            terminal_cover_count=t_count,
            terminal_cover_total=t_total,
            terminal_cover=terminal,
            time_set_count=set_count,
            time_sets=sets,
            broadcast_count=bc_count,
            broadcasts=bcs,
        )

    def _clock_log(self, addr: bytes, count_item: cat.DataItem,
                   record_item: cat.DataItem) -> tuple[int, list[ClockRecord]]:
        """(count, records newest first) of a clock log; (0, []) from a meter that answers its
        count "no such data". The n-th latest record's seq is count − n + 1: neither log is
        ever cleared."""
        try:
            count = self._get(addr, count_item, Count).value
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            return 0, []
        out = []
        for n in range(1, min(count, RING) + 1):
            rec = self._get(addr, record_item, StandardTimeSet, n)
            if rec.is_empty:
                continue
            operator = (rec.operator.hex().upper() if record_item is cat.TIME_SET_RECORD
                        else None)
            out.append(ClockRecord(count - n + 1, self._time(rec.before_ms),
                                   self._time(rec.after_ms), operator))
        return count, out

    # --- reading -----------------------------------------------------------------------------

    def _get(self, addr: bytes, item: cat.DataItem, cls: type[V], n: int = 1) -> V:
        """Read the n-th DI of ``item`` and decode it as the catalogue says."""
        di = item.di(n)
        return self._decode(cls, di, self._client.read(addr, di))

    @staticmethod
    def _decode(cls: type[V], di: int, data: bytes) -> V:
        try:
            return decode_as(cls, di, data)
        except CatalogError as exc:
            raise ReadError(f"cannot read the meter's answer to {exc}") from None

    def _extended_covers(
        self, addr: bytes, block: cat.DataItem = cat.MFR_COVER_OPEN_BLOCK,
        record: cat.DataItem = cat.MFR_COVER_OPEN_RECORD,
    ) -> tuple[ExtendedCoverOpen, ...]:
        block_di = block.di()
        try:
            data = self._client.read_all(addr, block_di)
        except MeterRefused:  # a meter without the block: one record at a time
            return tuple(
                self._get(addr, record, ExtendedCoverOpen, n)
                for n in range(1, RING + 1)
            )
        return self._decode(ExtendedCoverBlock, block_di, data).records

    def _terminal(self, addr: bytes, *, vendor: bool) -> tuple[int, int, list[CoverRecord]]:
        """(standard count, all-time total, records newest first) of the terminal-cover log;
        (0, 0, []) from a meter that answers it has no such data (no terminal cover)."""
        try:
            count = self._get(addr, cat.TERMINAL_OPEN_COUNT, Count).value
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            return 0, 0, []
        if not vendor:
            return count, count, self._standard_covers(addr, count, cat.TERMINAL_OPEN_RECORD)
        totals = self._get(addr, cat.MFR_TERMINAL_OPEN_TOTALS, AllTimeTotals)
        if totals.total == 0:
            return count, 0, []
        records = self._extended_covers(addr, cat.MFR_TERMINAL_OPEN_BLOCK,
                                        cat.MFR_TERMINAL_OPEN_RECORD)
        return count, totals.total, [self._cover(rec, totals.baseline) for rec in records
                                     if not rec.is_empty]

    def _standard_covers(
        self, addr: bytes, count: int, item: cat.DataItem = cat.COVER_OPEN_RECORD,
    ) -> list[CoverRecord]:
        out = []
        for n in range(1, min(count, RING) + 1):
            std = self._get(addr, item, StandardCoverOpen, n)
            closed = self._time(std.closed_ms)
            out.append(CoverRecord(
                seq=0, opened_at=self._time(std.opened_ms) or "", closed_at=closed,
                time_quality=UNKNOWN, closed_quality=UNKNOWN if closed else None,
                not_before=None, not_after=None,
                energy_before_kwh=_kwh(std.before),
                energy_after_kwh=_kwh(std.after) if closed is not None else None,
                cleared=False,
            ))
        return out

    def _standard_power_downs(self, addr: bytes, count: int) -> list[PowerDownRecord]:
        out = []
        for n in range(1, min(count, RING) + 1):
            std = self._get(addr, cat.POWER_DOWN_RECORD, StandardPowerDown, n)
            to = self._time(std.end_ms)
            out.append(PowerDownRecord(0, self._time(std.start_ms) or "", to, UNKNOWN,
                                       UNKNOWN if to else None, False))
        return out

    # --- mapping -----------------------------------------------------------------------------

    def _iso(self, local_ms: int) -> str:
        dt = civil(local_ms)
        if self._tz is not None:
            dt = dt.replace(tzinfo=self._tz)
        return dt.isoformat(timespec="seconds")

    def _time(self, local_ms: int | None) -> str | None:
        return None if local_ms is None else self._iso(local_ms)

    def _cover(self, ext: ExtendedCoverOpen, base: int) -> CoverRecord:
        std = ext.record
        return CoverRecord(
            seq=ext.seq,
            opened_at=self._time(std.opened_ms) or "",
            closed_at=self._time(std.closed_ms),
            time_quality=ext.quality or UNKNOWN,
            closed_quality=ext.close_quality,
            not_before=self._time(ext.not_before_ms),
            not_after=self._time(ext.not_after_ms),
            energy_before_kwh=_kwh(std.before),
            energy_after_kwh=_kwh(std.after) if ext.closed else None,
            cleared=ext.hidden or ext.seq <= base,
        )

    def _power_down(self, ext: ExtendedPowerDown, base: int) -> PowerDownRecord:
        std = ext.record
        return PowerDownRecord(
            seq=ext.seq,
            from_=self._time(std.start_ms) or "",
            to=self._time(std.end_ms),
            time_quality=ext.start_quality or UNKNOWN,
            end_quality=ext.end_quality,
            cleared=ext.hidden or ext.seq <= base,
        )

    def _clear(self, rec: StandardEventClear) -> ClearRecord:
        return ClearRecord(self._time(rec.time_ms) or "", rec.operator.hex().upper(),
                           f"{rec.di:08X}")


def _kwh(energies: EnergySnapshot) -> dict[str, float]:
    return {
        "import_active": energies.import_0p01kwh / 100.0,
        "export_active": energies.export_0p01kwh / 100.0,
    }


def format_reading(r: MeterReading) -> str:
    """The reading as a human reads it: one block per log, newest record first."""
    lines = [
        f"meter {r.address} on {r.link}: clock {r.clock}, import {r.import_kwh:.2f} kWh,"
        f" export {r.export_kwh:.2f} kWh",
        f"cover-open count {r.cover_open_count} (all-time {r.cover_open_total};"
        f" {r.cover_open_total - r.cover_open_count} hidden by event clears)",
    ]
    lines += _cover_lines(r.cover_open)
    lines.append(f"power-down count {r.power_down_count} (all-time {r.power_down_total})")
    for i, p in enumerate(r.power_down, start=1):
        hidden = " [cleared]" if p.cleared else ""
        label = f"#{p.seq}" if p.seq else f"({i})"
        lines.append(f"  {label:<5} {p.from_} -> {p.to or '(still down)'}"
                     f"  {p.time_quality}{hidden}")
    if r.terminal_cover_total:
        lines.append(f"terminal-cover-open count {r.terminal_cover_count} (all-time"
                     f" {r.terminal_cover_total})")
        lines += _cover_lines(r.terminal_cover)
    lines.append(f"event clears {r.event_clear_count}")
    for k in r.event_clears:
        lines.append(f"  {k.at}  operator {k.operator}  cleared {k.di}")
    for label, count, records in (("time settings", r.time_set_count, r.time_sets),
                                  ("broadcast times", r.broadcast_count, r.broadcasts)):
        if count:
            lines.append(f"{label} {count}")
        for c in records:
            who = f"  operator {c.operator}" if c.operator is not None else ""
            lines.append(f"  #{c.seq:<4} {c.before or '(clock lost)'} -> {c.after}{who}")
    return "\n".join(lines)


def _cover_lines(records: list[CoverRecord]) -> list[str]:
    lines = []
    for i, c in enumerate(records, start=1):
        span = f"{c.opened_at} -> {c.closed_at or '(still open)'}"
        bounds = f" within [{c.not_before}, {c.not_after}]" if c.not_before else ""
        closeq = f", closing {c.closed_quality}" if c.closed_quality else ""
        hidden = " [cleared]" if c.cleared else ""
        label = f"#{c.seq}" if c.seq else f"({i})"
        lines.append(f"  {label:<5} {span}  {c.time_quality}{closeq}{bounds}{hidden}")
    return lines


def reading_json(r: MeterReading) -> str:
    return json.dumps(r.to_json(), indent=2, ensure_ascii=False)

