"""Collect one meter: what is new in its logs since the store's watermarks, as a Harvest.

Owns the reading plan of one meter over an async DL/T 645 client: who made it (04 80 00 03,
once; our manufacturer-specific identifiers are trusted only from our manufacturer number), every
log's totals (one question, 04 80 FF 00, from our meters: a meter with nothing new costs one
exchange), the event clears (all-time count, never cleared), then per log only the records of
its window (window.py) — through our extended records (seq, time quality, bounds)
for our meters, through the standard records (time quality ``unknown``, a seq counted by the
head-end from the standard count) for everyone else; the meter cover's and the terminal cover's
logs alike (CoverLog: a meter without a terminal cover answers its count "no such data") — and
the daily freezes taken since the newest the store holds (daily.py).

Must not know: SQL, sockets (the client owns the link), the firmware, the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Final, Literal, TypeVar

from meterseal.headend.daily import DailyReader
from meterseal.headend.harvest import (
    UNKNOWN,
    ClearRow,
    ClockRow,
    CoverRow,
    Harvest,
    Kind,
    Mark,
    MeterState,
    PowerDownRow,
)
from meterseal.headend.window import Window, advance, window
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.aclient import AsyncClient
from meterseal.protocols.dlt645.catalog import (
    AllTimeTotals,
    Count,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedFreezeBlock,
    ExtendedPowerDown,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
    decode_as,
)
from meterseal.protocols.dlt645.errors import CatalogError, MeterRefused
from meterseal.protocols.dlt645.frame import ErrorCode, address_from_string
from meterseal.protocols.dlt645.maker import (
    DI_MANUFACTURER,
    DI_MFR_LOG_TOTALS,
    OURS,
    LogTotals,
    ManufacturerNumber,
)
from meterseal.protocols.dlt645.values import Value, civil

V = TypeVar("V", bound=Value)
BLOCK_FROM = 4  # this many records or more: one block read (5 frames) beats single reads
_CLEARS_POWER_DOWN = {cat.DI_CLEAR_ALL, cat.DI_CLEAR_POWER_DOWN}


@dataclass(frozen=True, slots=True)
class CoverLog:
    """One of the two cover logs (the meter cover's, the terminal cover's): the same 60-byte
    records under their own identifiers, their own watermark kind and store table."""

    kind: Kind
    clears: frozenset[int]  # the event clears that empty it
    count: cat.DataItem  # the standard count
    record: cat.DataItem  # the standard records
    totals: cat.DataItem  # ours: the all-time totals
    block: cat.DataItem  # ours: the ten extended records in one read
    extended: cat.DataItem  # ours: one extended record
    optional: bool  # a meter may have none (it answers its count "no such data")


@dataclass(frozen=True, slots=True)
class ClockLog:
    """A log of clock changes: the time settings (standard) or the broadcast times (ours)."""

    kind: Literal["time_set", "broadcast_time"]
    count: cat.DataItem
    record: cat.DataItem  # StandardTimeSet records, newest first
    optional: bool = True  # a meter may keep none (it answers "no such data")


TIME_SETS: Final = ClockLog("time_set", cat.TIME_SET_COUNT, cat.TIME_SET_RECORD)
BROADCASTS: Final = ClockLog("broadcast_time", cat.BROADCAST_COUNT, cat.BROADCAST_RECORD)
COVER: Final = CoverLog(
    "cover_open", frozenset({cat.DI_CLEAR_ALL, cat.DI_CLEAR_COVER}), cat.COVER_OPEN_COUNT,
    cat.COVER_OPEN_RECORD, cat.MFR_COVER_OPEN_TOTALS, cat.MFR_COVER_OPEN_BLOCK,
    cat.MFR_COVER_OPEN_RECORD, optional=False)
TERMINAL: Final = CoverLog(
    "terminal_cover", frozenset({cat.DI_CLEAR_ALL, cat.DI_CLEAR_TERMINAL}),
    cat.TERMINAL_OPEN_COUNT, cat.TERMINAL_OPEN_RECORD, cat.MFR_TERMINAL_OPEN_TOTALS,
    cat.MFR_TERMINAL_OPEN_BLOCK, cat.MFR_TERMINAL_OPEN_RECORD, optional=True)


class Garbage(Exception):
    """The meter answered something that is not what the catalogue says (one line)."""


class MeterHarvester:
    """One collection of one meter through ``client`` (a link that holds its bus)."""

    def __init__(self, client: AsyncClient, address: str, state: MeterState, *,
                 endpoint: str, utc_offset_h: float) -> None:
        self._client = client
        self._addr = address_from_string(address)
        self._state = state
        self._tz = timezone(timedelta(hours=utc_offset_h))
        self.h = Harvest(address, endpoint, utc_offset_h, state.manufacturer,
                         bool(state.vendor_records))

    async def harvest(self) -> Harvest:
        if self._state.vendor_records is None:
            await self._identify()
        totals = await self._log_totals() if self.h.vendor_records else None
        new_clears = await self._clears(None if totals is None else totals.clears.value)
        daily = DailyReader(self._get, self._freeze_block, self.h.utc_offset_h,
                            self._state.daily_through)
        if self.h.vendor_records:
            await self._vendor_covers(COVER, None if totals is None else totals.cover)
            await self._vendor_covers(TERMINAL, None if totals is None else totals.terminal)
            await self._vendor_power_downs(None if totals is None else totals.power_down)
            await self._clock_log(TIME_SETS, None if totals is None else totals.time_sets)
            await self._clock_log(BROADCASTS, None if totals is None else totals.broadcasts)
            self.h.daily = await daily.ours(None if totals is None else totals.freeze)
        else:
            await self._standard_covers(COVER, new_clears)
            await self._standard_covers(TERMINAL, new_clears)
            await self._standard_power_downs(new_clears & _CLEARS_POWER_DOWN)
            await self._clock_log(TIME_SETS, None)
            self.h.daily = await daily.standard()
        return self.h

    # --- reading -----------------------------------------------------------------------------

    async def _get(self, item: cat.DataItem, cls: type[V], n: int = 1) -> V:
        di = item.di(n)
        return _decode(cls, di, await self._client.read(self._addr, di))

    async def _freeze_block(self) -> ExtendedFreezeBlock:
        di = cat.MFR_FREEZE_BLOCK.di()
        return _decode(ExtendedFreezeBlock, di, await self._client.read_all(self._addr, di))

    async def _identify(self) -> None:
        try:
            data = await self._client.read(self._addr, DI_MANUFACTURER)
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            self.h.manufacturer, self.h.vendor_records = None, False
            return
        try:
            maker = ManufacturerNumber.from_bytes(data).name
        except CatalogError as exc:
            raise Garbage(f"its manufacturer number (04800003) is garbage: {exc}") from None
        self.h.manufacturer, self.h.vendor_records = maker, maker == OURS

    async def _log_totals(self) -> LogTotals | None:
        """Every log's totals in one question (ours, 04 80 FF 00); None from a meter that does
        not offer it (then each log's totals are asked for on their own)."""
        try:
            data = await self._client.read(self._addr, DI_MFR_LOG_TOTALS)
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            return None
        try:
            return LogTotals.from_bytes(data)
        except CatalogError as exc:
            raise Garbage(f"answered garbage to 0480FF00: {exc}") from None

    def _iso(self, local_ms: int | None) -> str | None:
        if local_ms is None:
            return None
        return civil(local_ms).replace(tzinfo=self._tz).isoformat(timespec="seconds")

    def _note(self, kind: Kind, mark: Mark, new: Mark, win: Window,
              got: dict[int, bool]) -> None:
        if win.lost:
            self.h.problems.append(f"{kind}: {win.lost} records left the ring unread (seq"
                                   f" {mark.seq + 1}..{mark.seq + win.lost})")
        if mark.open_seq is not None and mark.open_seq < win.oldest_in_ring:
            self.h.problems.append(f"{kind}: the close of seq {mark.open_seq} left the ring"
                                   " unread")
        if new != mark:
            self.h.marks[kind] = new
        self.h.new_events += sum(1 for seq in got if seq > mark.seq)

    # --- event clears ------------------------------------------------------------------------

    async def _clears(self, count: int | None) -> set[int]:
        """Read the clears above the watermark; the DIs they cleared."""
        mark = self._state.mark("event_clear")
        if count is None:
            count = (await self._get(cat.EVENT_CLEAR_COUNT, Count)).value
        win = window(mark, count)
        got: dict[int, bool] = {}
        for n in range(1, win.count + 1):
            rec = await self._get(cat.EVENT_CLEAR_RECORD, StandardEventClear, n)
            if rec.is_empty or rec.time_ms is None:
                continue
            seq = win.seq_of(n)
            got[seq] = True
            self.h.clears.append(ClearRow(seq, self._iso(rec.time_ms) or "",
                                          rec.operator.hex().upper(), f"{rec.di:08X}"))
        self._note("event_clear", mark, advance(mark, win, got, 0), win, got)
        return {int(r.di, 16) for r in self.h.clears}

    # --- our meters: extended records --------------------------------------------------------

    async def _vendor_covers(self, log: CoverLog, totals: AllTimeTotals | None) -> None:
        mark = self._state.mark(log.kind)
        if totals is None:
            totals = await self._optional(log, log.totals, AllTimeTotals)
            if totals is None:
                return  # no terminal cover on this meter
        win = window(mark, totals.total)
        if win.count >= BLOCK_FROM:
            block_di = log.block.di()
            data = await self._client.read_all(self._addr, block_di)
            records = _decode(ExtendedCoverBlock, block_di, data).records[: win.count]
        else:
            records = tuple([await self._get(log.extended, ExtendedCoverOpen, n)
                             for n in range(1, win.count + 1)])
        got: dict[int, bool] = {}
        rows = self._rows_of(log)
        for ext in records:
            if ext.is_empty or not win.first <= ext.seq <= win.total:
                continue  # filed after we read the total: the next collection takes it
            got[ext.seq] = ext.closed
            rows.append(self._extended_cover(ext, totals.baseline))
        self._cleared(mark, log.kind, totals.baseline)
        self._note(log.kind, mark, advance(mark, win, got, totals.baseline), win, got)

    # --- the clock logs: time settings, broadcast times ---------------------------------------

    async def _clock_log(self, log: ClockLog, count: Count | None) -> None:
        """The clock changes above the watermark. Neither log is ever cleared on our meters
        (they are the evidence of who moved the clock); a count that fell on another maker's
        is taken as a clear, like its standard records."""
        if count is None:
            count = await self._optional(log, log.count, Count)
            if count is None:
                return  # a meter that keeps no such log
        mark, base = self._standard_base(log.kind, count.value, False)
        win = window(mark, base + count.value)
        got: dict[int, bool] = {}
        for n in range(1, win.count + 1):
            rec = await self._get(log.record, StandardTimeSet, n)
            if rec.is_empty or rec.before_ms is None or rec.after_ms is None:
                continue
            seq = win.seq_of(n)
            got[seq] = True
            before = self._iso(rec.before_ms) or ""
            self.h.clock_changes.append(ClockRow(
                log.kind, seq, before, before, self._iso(rec.after_ms) or "",
                rec.operator.hex().upper() if log.kind == "time_set" else None))
        self._note(log.kind, self._state.mark(log.kind), advance(mark, win, got, base), win,
                   got)

    def _rows_of(self, log: CoverLog) -> list[CoverRow]:
        return self.h.covers if log is COVER else self.h.terminal_covers

    async def _optional(self, log: CoverLog | ClockLog, item: cat.DataItem,
                        cls: type[V]) -> V | None:
        """Read a log's count or totals; None where an optional log is answered "no such
        data" (a meter without a terminal cover, or that keeps no clock log)."""
        try:
            return await self._get(item, cls)
        except MeterRefused as exc:
            if not log.optional or exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            return None

    async def _vendor_power_downs(self, totals: AllTimeTotals | None) -> None:
        mark = self._state.mark("power_down")
        if totals is None:
            totals = await self._get(cat.MFR_POWER_DOWN_TOTALS, AllTimeTotals)
        win = window(mark, totals.total)
        got: dict[int, bool] = {}
        for n in range(1, win.count + 1):
            ext = await self._get(cat.MFR_POWER_DOWN_RECORD, ExtendedPowerDown, n)
            if ext.is_empty or not win.first <= ext.seq <= win.total:
                continue
            got[ext.seq] = ext.ended
            std = ext.record
            self.h.power_downs.append(PowerDownRow(
                ext.seq, self._iso(std.start_ms) or "", self._iso(std.end_ms),
                ext.start_quality or UNKNOWN, ext.end_quality,
                ext.hidden or ext.seq <= totals.baseline,
            ))
        self._cleared(mark, "power_down", totals.baseline)
        self._note("power_down", mark, advance(mark, win, got, totals.baseline), win, got)

    def _cleared(self, mark: Mark, kind: Kind, baseline: int) -> None:
        if baseline > mark.base:
            self.h.cleared_up_to[kind] = baseline

    def _extended_cover(self, ext: ExtendedCoverOpen, baseline: int) -> CoverRow:
        std = ext.record
        return CoverRow(
            seq=ext.seq, opened_at=self._iso(std.opened_ms) or "",
            closed_at=self._iso(std.closed_ms), time_quality=ext.quality or UNKNOWN,
            close_quality=ext.close_quality, not_before=self._iso(ext.not_before_ms),
            not_after=self._iso(ext.not_after_ms),
            import_before_kwh=std.before.import_0p01kwh / 100,
            export_before_kwh=std.before.export_0p01kwh / 100,
            import_after_kwh=std.after.import_0p01kwh / 100 if ext.closed else None,
            export_after_kwh=std.after.export_0p01kwh / 100 if ext.closed else None,
            cleared=ext.hidden or ext.seq <= baseline,
        )

    # --- other makers' meters: the standard records ------------------------------------------

    def _standard_base(self, kind: Kind, count: int, cleared: bool) -> tuple[Mark, int]:
        """(the mark to read from, the all-time seq the standard count starts at). A clear
        restarts the count: what we held stays below the new base, and what the meter filed
        between our last collection and the clear is gone with it."""
        mark = self._state.mark(kind)
        if not cleared and count >= mark.seq - mark.base:
            return mark, mark.base
        self.h.problems.append(f"{kind}: the log was cleared since the last collection; records"
                               " filed in between, if any, were not read")
        self.h.cleared_up_to[kind] = mark.seq
        return Mark(mark.seq, None, mark.seq), mark.seq

    async def _standard_covers(self, log: CoverLog, new_clears: set[int]) -> None:
        got_count = await self._optional(log, log.count, Count)
        if got_count is None:
            return  # no terminal cover on this meter
        count = got_count.value
        mark, base = self._standard_base(log.kind, count, bool(new_clears & log.clears))
        win = window(mark, base + count)
        got: dict[int, bool] = {}
        rows = self._rows_of(log)
        for n in range(1, win.count + 1):
            std = await self._get(log.record, StandardCoverOpen, n)
            if std.is_empty or std.opened_ms is None:
                continue
            seq = win.seq_of(n)
            closed = std.closed_ms is not None
            got[seq] = closed
            rows.append(CoverRow(
                seq, self._iso(std.opened_ms) or "", self._iso(std.closed_ms), UNKNOWN,
                UNKNOWN if closed else None, None, None,
                std.before.import_0p01kwh / 100, std.before.export_0p01kwh / 100,
                std.after.import_0p01kwh / 100 if closed else None,
                std.after.export_0p01kwh / 100 if closed else None, False,
            ))
        self._note(log.kind, self._state.mark(log.kind), advance(mark, win, got, base),
                   win, got)

    async def _standard_power_downs(self, cleared: set[int]) -> None:
        count = (await self._get(cat.POWER_DOWN_COUNT, Count)).value
        mark, base = self._standard_base("power_down", count, bool(cleared))
        win = window(mark, base + count)
        got: dict[int, bool] = {}
        for n in range(1, win.count + 1):
            std = await self._get(cat.POWER_DOWN_RECORD, StandardPowerDown, n)
            if std.is_empty or std.start_ms is None:
                continue
            seq = win.seq_of(n)
            got[seq] = std.end_ms is not None
            self.h.power_downs.append(PowerDownRow(
                seq, self._iso(std.start_ms) or "", self._iso(std.end_ms), UNKNOWN,
                UNKNOWN if std.end_ms is not None else None, False,
            ))
        self._note("power_down", self._state.mark("power_down"), advance(mark, win, got, base),
                   win, got)


def _decode(cls: type[V], di: int, data: bytes) -> V:
    try:
        return decode_as(cls, di, data)
    except CatalogError as exc:
        raise Garbage(f"answered garbage to {exc}") from None
