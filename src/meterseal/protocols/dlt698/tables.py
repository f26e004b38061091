"""The record tables of the DL/T 698.45 face, built from an image, and the row selectors.

Owns: turning the image's logs into rows (standard rows for 301B/301C/3011/3015, and for
3016/303C from the NVM's clock-log pages; ours for the manufacturer objects; the daily freezes'
for 5004), the per-object figures a class-7 object serves beside its rows (count, cumulative
time, last start and end), the 3300 report bits of each row (the firmware's record of its
report OR'ed with what the DL/T 698.45 module did), and selecting rows by an RSD and columns by
an RCSD.

Rows are newest first in every answer, as meters list "the 1st, 2nd… latest" records; a
selector-1 or selector-2 answer keeps that order.

Must not know: frames, APDUs, sessions, sockets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meterseal.firmware.meterimage import MeterImage
from meterseal.protocols.dlt698.axdr import NULL, Data
from meterseal.protocols.dlt698.axdr_time import DateTimeS
from meterseal.protocols.dlt698.catalog import (
    COVER_OPEN,
    EVENT_CLEAR,
    TERMINAL_COVER_OPEN,
    EventObject,
    cleared_methods,
)
from meterseal.protocols.dlt698.events import (
    AllTimeTotals,
    ClockChangeRow,
    CoverOpenRow,
    EventClearRow,
    PowerDownRow,
    QualityClockRow,
    QualityCoverRow,
    QualityPowerDownRow,
)
from meterseal.protocols.dlt698.freezes import DailyFreezeRow
from meterseal.protocols.dlt698.logs import (
    Log,
    clear_records,
    clock_logs,
    event_logs,
    firmware_report_bits,
)
from meterseal.protocols.dlt698.refs import (
    Csd,
    Oad,
    Rsd,
    SelectAll,
    Selector1,
    Selector2,
    Selector3,
    Selector9,
)
from meterseal.protocols.dlt698.values import (
    MS_PER_S,
    U32,
    CurrentValue,
    ReportStatus,
    TimeStatus,
)

Row = CoverOpenRow | PowerDownRow | EventClearRow | ClockChangeRow | DailyFreezeRow
ReportBits = Callable[[int, int], int]  # (oi, seq) -> bits the DL/T 698.45 module set


@dataclass(frozen=True, slots=True)
class EventTable:
    """What one event object serves: its standard rows (newest first) with each row's
    all-time seq, the figures of attributes 4, 7 and 10, and our manufacturer rows."""

    event: EventObject
    rows: tuple[Row, ...]
    seqs: tuple[int, ...]  # the all-time seq of each row
    count: int  # occurrences since the last clear (attribute 7)
    cumulative_s: int
    time_status: TimeStatus
    history: (
        tuple[QualityCoverRow, ...] | tuple[QualityPowerDownRow, ...] | tuple[QualityClockRow, ...]
    ) = ()
    totals: AllTimeTotals | None = None

    @property
    def current_value(self) -> CurrentValue:
        return CurrentValue(self.count % (1 << 32), self.cumulative_s % (1 << 32))


def build_tables(img: MeterImage, report_bits: ReportBits) -> dict[int, EventTable]:
    """Every event object's table for ``img``, by OI; ``report_bits`` gives what the DL/T
    698.45 module did of each record's report."""
    out = {oi: _event_table(log, img, report_bits) for oi, log in event_logs(img).items()}
    out[EVENT_CLEAR.oi] = _clear_table(img)
    return out


def freeze_rows(img: MeterImage) -> tuple[DailyFreezeRow, ...]:
    """The rows of the daily freeze 5004, newest first: every freeze the image keeps."""
    return tuple(DailyFreezeRow.from_record(f) for f in img.freezes)


def _bits(img: MeterImage, report_bits: ReportBits, oi: int, seq: int) -> int:
    return firmware_report_bits(img, oi, seq) | report_bits(oi, seq)


def _event_table(log: Log, img: MeterImage, report_bits: ReportBits) -> EventTable:
    oi = log.event.oi
    shown = log.standard()
    if log.event in (COVER_OPEN, TERMINAL_COVER_OPEN):
        rows: tuple[Row, ...] = tuple(
            CoverOpenRow.from_record(
                r, log.number(r.seq), ReportStatus(_bits(img, report_bits, oi, r.seq))
            )
            for r in shown
        )
        history: Any = tuple(
            QualityCoverRow.from_record(r, log.base, _bits(img, report_bits, oi, r.seq))
            for r in log.records
        )
    else:
        rows = tuple(
            PowerDownRow.from_record(
                r, log.number(r.seq), ReportStatus(_bits(img, report_bits, oi, r.seq))
            )
            for r in shown
        )
        history = tuple(QualityPowerDownRow.from_record(r, log.base) for r in log.records)
    newest = rows[0] if rows else None
    return EventTable(
        log.event, rows, tuple(r.seq for r in shown), max(0, log.count),
        _cumulative_s(rows),
        TimeStatus(newest.start_ms if newest else None, newest.end_ms if newest else None),
        history, AllTimeTotals(log.total % (1 << 32), log.base % (1 << 32)),
    )


def _cumulative_s(rows: tuple[Row, ...]) -> int:
    """Seconds the held records since the last clear lasted (those still open are not yet
    counted, as meters add an event's duration at its end). The firmware keeps no running
    total, so past MAX_RECORDS occurrences since a clear this is a lower bound (docs)."""
    total = 0
    for r in rows:
        end = getattr(r, "end_ms", None)
        if end is not None:
            total += max(0, end - r.start_ms) // MS_PER_S
    return total


def _clear_table(img: MeterImage) -> EventTable:
    records = clear_records(img)
    rows = tuple(EventClearRow.from_record(r, r.seq - 1, cleared_methods(r.di)) for r in records)
    newest = rows[0] if rows else None
    return EventTable(
        EVENT_CLEAR, rows, tuple(r.seq for r in records), img.clear_total, 0,
        TimeStatus(newest.time_ms if newest else None, None),
    )


def build_clock_tables(nvm: bytes) -> dict[int, EventTable]:
    """The tables of 3016 and 303C for a whole NVM image, by OI. A clock change is an instant:
    its cumulative time is 0 (the step between the two clocks is no duration). Its record number
    is seq - 1, as 3015's: no clear ever moves the start of a clock log."""
    out: dict[int, EventTable] = {}
    for oi, log in clock_logs(nvm).items():
        rows = tuple(ClockChangeRow.from_record(r, r.seq - 1) for r in log.records)
        newest = rows[0] if rows else None
        out[oi] = EventTable(
            log.event, rows, tuple(r.seq for r in log.records), log.total, 0,
            TimeStatus(newest.before_ms if newest else None, newest.after_ms if newest else None),
            tuple(QualityClockRow.from_record(r) for r in log.records),
            AllTimeTotals(log.total % U32, 0),
        )
    return out


# --------------------------------------------------------------------------------------------
# selection


def select_rows(rows: tuple[Row, ...], rsd: Rsd) -> list[int]:
    """The indexes (into ``rows``, newest first) an RSD selects, in that order."""
    if isinstance(rsd, SelectAll):
        return list(range(len(rows)))
    if isinstance(rsd, Selector9):
        return [rsd.last - 1] if 1 <= rsd.last <= len(rows) else []
    if isinstance(rsd, Selector1):
        return [i for i, r in enumerate(rows) if r.columns().get(rsd.oad) == rsd.value]
    ranges: tuple[Selector2, ...] = ()
    if isinstance(rsd, Selector2):
        ranges = (rsd,)
    elif isinstance(rsd, Selector3):
        ranges = rsd.ranges
    return [i for i, r in enumerate(rows) if any(_in_range(r, s) for s in ranges)]


def _key(value: Data) -> tuple[int, ...] | int | None:
    """An orderable key for a column value or a selector bound; None when not comparable."""
    if isinstance(value, DateTimeS):
        return value.fields()
    v = getattr(value, "value", None)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _in_range(row: Row, s: Selector2) -> bool:
    """start <= column < end (selector 2's interval only thins freeze curves; an event table
    has no grid, so it is not applied)."""
    column = row.columns().get(s.oad)
    if column is None:
        return False
    key, lo, hi = _key(column), _key(s.start), _key(s.end)
    if key is None or lo is None or hi is None or not type(key) is type(lo) is type(hi):
        return False
    return lo <= key < hi  # type: ignore[operator]


def project(row: Row, columns: tuple[Csd, ...]) -> tuple[Data, ...]:
    """A row's values under ``columns``: a column the row does not have answers null."""
    values = row.columns()
    return tuple(values.get(c, NULL) if isinstance(c, Oad) else NULL for c in columns)
