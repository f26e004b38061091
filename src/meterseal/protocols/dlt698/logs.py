"""Which event logs an NVM image holds, as the DL/T 698.45 face reads them.

Owns: the one place that knows the names of the image's logs (MeterImage's cover, power_down,
clears and report-status fields, decoded by the firmware's record codec), and what of them an
event object serves: the all-time total, the baseline of the last clear, the latest records of
all time, and the report status the firmware recorded for a record. When the image grows a log
(the terminal cover), this module is where the face learns of it. The clock logs (time setting,
broadcast time) live in the authority journal's pages, not in the MeterImage: they are decoded
here from the NVM bytes by the firmware's authority codec (authlog.py).

Must not know: frames, APDUs, sessions, how records are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from meterseal.firmware.authlog import (
    BROADCAST_BASE_PAGE,
    KIND_BROADCAST,
    KIND_TIME_SET,
    TIME_SET_BASE_PAGE,
    decode_auth,
)
from meterseal.firmware.layout import PAGE_SIZE, SLOTS
from meterseal.firmware.meterimage import MeterImage
from meterseal.protocols.dlt698.catalog import (
    BROADCAST_TIME,
    COVER_OPEN,
    POWER_DOWN,
    TERMINAL_COVER_OPEN,
    TIME_SET,
    EventObject,
)
from meterseal.protocols.dlt698.values import START_REPORTED


@dataclass(frozen=True, slots=True)
class Log:
    """One event log of the image: ``records`` are the latest of all time, newest first
    (cleared or not); the standard view shows those above ``base``."""

    event: EventObject
    total: int
    base: int
    records: tuple[Any, ...]

    @property
    def count(self) -> int:
        """Occurrences since the log's last clear (the standard's count)."""
        return self.total - self.base

    def standard(self) -> list[Any]:
        return [r for r in self.records if r.seq > self.base]

    def number(self, seq: int) -> int:
        """The standard record number (2022) of all-time record ``seq``: its ordinal since the
        log's last clear, the first being 0 (docs/dlt698.md)."""
        return seq - self.base - 1


def event_logs(img: MeterImage) -> dict[int, Log]:
    """The logs the image holds, by the OI of the event object that serves each."""
    return {
        COVER_OPEN.oi: Log(COVER_OPEN, img.cover_total, img.cover_base, tuple(img.cover)),
        POWER_DOWN.oi: Log(
            POWER_DOWN, img.power_down_total, img.power_down_base, tuple(img.power_down)
        ),
        TERMINAL_COVER_OPEN.oi: Log(TERMINAL_COVER_OPEN, img.terminal_cover_total,
                                    img.terminal_cover_base, tuple(img.terminal_cover)),
    }


def clear_records(img: MeterImage) -> tuple[Any, ...]:
    """The latest event clears, newest first (all of them count: a clear is never cleared)."""
    return tuple(img.clears)


def firmware_report_bits(img: MeterImage, oi: int, seq: int) -> int:
    """What the firmware recorded of record ``seq``'s active report, as 3300 status bits: its
    communication module sent the opening (START_REPORTED) or it did not (0). The firmware
    keeps a report status for cover-open and terminal-cover-open records; the master's
    confirmation is the DL/T 698.45 module's to record (reports.py)."""
    if oi == COVER_OPEN.oi:
        status = img.reports.get(seq)
    elif oi == TERMINAL_COVER_OPEN.oi:
        status = img.terminal_reports.get(seq)
    else:
        return 0
    return START_REPORTED if status is not None and status.sent() else 0


# The NVM bytes the clock logs are decoded from (the time-setting then the broadcast-time
# pages, contiguous): a reader keeps a decoding while these bytes stay the same.
CLOCK_PAGES: Final = slice(
    TIME_SET_BASE_PAGE * PAGE_SIZE, (BROADCAST_BASE_PAGE + SLOTS) * PAGE_SIZE
)


@dataclass(frozen=True, slots=True)
class ClockLog:
    """One clock log of the NVM: its all-time total and its latest records, newest first.
    Nothing clears a clock log, so every record counts and the first one is seq 1."""

    event: EventObject
    total: int
    records: tuple[Any, ...]


def clock_logs(nvm: bytes) -> dict[int, ClockLog]:
    """The time-setting and broadcast-time logs of a whole NVM image, by the OI that serves
    each. A page that does not decode is left out, as the firmware leaves it out."""
    ix = decode_auth(nvm)
    return {
        event.oi: ClockLog(event, ix.total(kind), tuple(ix.changes(kind)))
        for event, kind in ((TIME_SET, KIND_TIME_SET), (BROADCAST_TIME, KIND_BROADCAST))
    }
