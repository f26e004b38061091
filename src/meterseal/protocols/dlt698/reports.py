"""Active and follow reports of the DL/T 698.45 face: which rows are still to be reported, the
REPORT-Notification that carries them, and what the meter's module did of each.

Owns: the report desk — one per meter, shared by every link (sessions, the link that dials
out to the master): the 3300 bits the DL/T 698.45 module set (reported, confirmed by the
master), kept in memory because the firmware's NVM records only its own active report — and the
rules of what is pending: a row since the log's last clear whose end the report flag (attribute
8) asks for and whose report at that end is not yet confirmed. Pushed rows are marked
reported; a REPORT-Response naming the table marks them confirmed.

Must not know: sockets, frames, threads beyond its own lock, the firmware.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

from meterseal.protocols.dlt698.apdu import ResultRecord
from meterseal.protocols.dlt698.catalog import (
    COVER_OPEN,
    MODE_ACTIVE,
    MODE_FOLLOW,
    POWER_DOWN,
    REPORT_END,
    REPORT_START,
    TERMINAL_COVER_OPEN,
    EventObject,
)
from meterseal.protocols.dlt698.refs import Oad
from meterseal.protocols.dlt698.tables import EventTable
from meterseal.protocols.dlt698.values import (
    END_CONFIRMED,
    END_REPORTED,
    START_CONFIRMED,
    START_REPORTED,
)

REPORTED_OBJECTS: Final = (COVER_OPEN, TERMINAL_COVER_OPEN, POWER_DOWN)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """The meter's report switches: 4300 attributes 7 (follow reports allowed) and 8 (active
    reports allowed), and per event object attributes 8 (report flag) and 11 (mode)."""

    allow_active: bool = True
    allow_follow: bool = True
    flags: dict[int, int] = field(default_factory=dict)  # OI -> flag; default from the catalogue
    modes: dict[int, int] = field(default_factory=dict)  # OI -> mode

    def flag(self, event: EventObject) -> int:
        return self.flags.get(event.oi, event.report_flag)

    def mode(self, event: EventObject) -> int:
        return self.modes.get(event.oi, event.report_mode)


@dataclass(frozen=True, slots=True)
class Pending:
    """One row still to report: which table, its all-time seq, the ends to report (as the
    REPORTED bits) and its index in the table's rows."""

    event: EventObject
    seq: int
    ends: int
    index: int

    @property
    def confirm_bits(self) -> int:
        return (START_CONFIRMED if self.ends & START_REPORTED else 0) | (
            END_CONFIRMED if self.ends & END_REPORTED else 0
        )


class ReportDesk:
    """What the meter's DL/T 698.45 module did of its reports; thread-safe. ``epoch`` moves
    whenever a bit does, so a session knows its cached answers are stale."""

    def __init__(self, settings: ReportSettings | None = None) -> None:
        self.settings = settings or ReportSettings()
        self._bits: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()
        self._epoch = 0
        self._links = 0

    @property
    def epoch(self) -> int:
        return self._epoch

    def bits(self, oi: int, seq: int) -> int:
        return self._bits.get((oi, seq), 0)

    def mark(self, oi: int, seq: int, bits: int) -> None:
        with self._lock:
            old = self._bits.get((oi, seq), 0)
            if old | bits != old:
                self._bits[(oi, seq)] = old | bits
                self._epoch += 1

    def link_up(self, up: bool) -> None:
        """A link to the master that takes active reports came up (or went down)."""
        with self._lock:
            self._links += 1 if up else -1

    @property
    def active_link(self) -> bool:
        return self._links > 0

    def pending(self, tables: dict[int, EventTable], mode: int) -> list[Pending]:
        """Rows whose report (``mode``: active or follow) is due, oldest first."""
        if mode == MODE_ACTIVE and not self.settings.allow_active:
            return []
        if mode == MODE_FOLLOW and not self.settings.allow_follow:
            return []
        out: list[Pending] = []
        for event in REPORTED_OBJECTS:
            table = tables.get(event.oi)
            if table is None or self.route(event) != mode:
                continue
            flag = self.settings.flag(event)
            for i in range(len(table.rows) - 1, -1, -1):
                row = table.rows[i]
                ended = getattr(row, "end_ms", None) is not None
                ends = _ends_due(row.report.bits, flag, ended, mode == MODE_FOLLOW)
                if ends:
                    out.append(Pending(event, table.seqs[i], ends, i))
        return out

    def route(self, event: EventObject) -> int:
        """How ``event``'s reports go out now: its mode (attribute 11), except that an active
        report with no link to the master up (or active reports switched off) goes as a follow
        report, on the next answer to whoever reads the meter."""
        mode = self.settings.mode(event)
        if mode == MODE_ACTIVE and not (self.active_link and self.settings.allow_active):
            return MODE_FOLLOW
        return mode


def _ends_due(bits: int, flag: int, ended: bool, unreported_only: bool) -> int:
    """The ends (as REPORTED bits) of a row with 3300 ``bits`` still to report."""
    start_done = START_CONFIRMED | (START_REPORTED if unreported_only else 0)
    end_done = END_CONFIRMED | (END_REPORTED if unreported_only else 0)
    due = 0
    if flag & REPORT_START and not bits & start_done:
        due |= START_REPORTED
    if flag & REPORT_END and ended and not bits & end_done:
        due |= END_REPORTED
    return due


def report_results(
    tables: dict[int, EventTable], pending: list[Pending]
) -> tuple[ResultRecord, ...]:
    """The A-ResultRecords carrying ``pending``: one per table, all its columns, the rows in
    the order given."""
    by_oi: dict[int, list[Pending]] = {}
    for p in pending:
        by_oi.setdefault(p.event.oi, []).append(p)
    out = []
    for oi, items in by_oi.items():
        table = tables[oi]
        event = table.event
        rows = tuple(table.rows[p.index].values() for p in items)
        out.append(ResultRecord(Oad(oi, 0x02), event.columns, rows))
    return tuple(out)


def confirm(desk: ReportDesk, sent: list[Pending], oads: tuple[Oad, ...]) -> int:
    """Mark confirmed the rows of ``sent`` whose table the master named in its REPORT-Response;
    how many."""
    named = {o.oi for o in oads}
    n = 0
    for p in sent:
        if p.event.oi in named:
            desk.mark(p.event.oi, p.seq, p.confirm_bits)
            n += 1
    return n
