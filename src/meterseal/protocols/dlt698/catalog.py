"""The DL/T 698.45 data catalogue: the one place the meter face's objects are defined.

Owns: every OI the meter serves (standard and ours), the attribute numbers of an event object
(interface class 7), the methods it runs, each event object's columns and associated list, the
defaults of its report settings, and our factory version (its maker code gates our manufacturer
objects at the head-end). The value classes live in values.py and events.py.

Must not know: frames, APDUs, sessions, the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meterseal.protocols.dlt698.events import (
    CLEAR_COLUMNS,
    CLOCK_ASSOCIATED,
    CLOCK_COLUMNS,
    COVER_ASSOCIATED,
    COVER_COLUMNS,
    POWER_DOWN_COLUMNS,
)
from meterseal.protocols.dlt698.refs import Oad, Omd

# --- standard objects (DL/T 698.45 appendix E; docs/dlt698.md) ------------------------------
OI_IMPORT_ENERGY: Final = 0x0010  # forward active energy
OI_EXPORT_ENERGY: Final = 0x0020  # reverse active energy
OI_POWER_DOWN: Final = 0x3011
OI_EVENT_CLEAR: Final = 0x3015
OI_TIME_SET: Final = 0x3016
OI_COVER_OPEN: Final = 0x301B
OI_TERMINAL_COVER_OPEN: Final = 0x301C
OI_BROADCAST_TIME: Final = 0x303C
OI_DATE_TIME: Final = 0x4000
OI_ADDRESS: Final = 0x4001
OI_DEVICE: Final = 0x4300  # the electrical device: report switches, channels, event init
OI_DAILY_FREEZE: Final = 0x5004  # class 9: the daily freeze (its rows: freezes.py)

# --- ours: manufacturer objects (docs/dlt698.md says why FFxx and why these) -----------------
# DL/T 698.45 assigns no OI range to manufacturers that we found. We take FF + the low byte of
# the standard event the object stands beside, and trust them only from a meter whose CONNECT
# answer carries our maker code.
OI_MFR_COVER_OPEN: Final = 0xFF1B
OI_MFR_TERMINAL_COVER_OPEN: Final = 0xFF1C
OI_MFR_POWER_DOWN: Final = 0xFF11
OI_MFR_TIME_SET: Final = 0xFF16
OI_MFR_BROADCAST_TIME: Final = 0xFF3C
MFR_HISTORY: Final = 2  # array of rows, newest first: the latest 10 of all time
MFR_TOTALS: Final = 3  # structure {all-time total, baseline}
MAKER: Final = "MSEL"
FACTORY: Final = (MAKER + "0100" + "260301" + "0100" + "260301" + "seal698 ").encode("ascii")

# --- interface class 7 (event object): attributes and methods --------------------------------
ATTR_LOGICAL_NAME: Final = 1
ATTR_RECORDS: Final = 2
ATTR_ASSOCIATED: Final = 3
ATTR_COUNT: Final = 4
ATTR_MAX_COUNT: Final = 5
ATTR_CONFIG: Final = 6
ATTR_CURRENT_VALUE: Final = 7
ATTR_REPORT_FLAG: Final = 8
ATTR_VALID: Final = 9
ATTR_TIME_STATUS: Final = 10
ATTR_REPORT_MODE: Final = 11
METHOD_RESET: Final = 1
DEVICE_METHOD_EVENT_INIT: Final = 5  # 4300: clear every event log
DEVICE_ALLOW_FOLLOW_REPORT: Final = 7
DEVICE_ALLOW_ACTIVE_REPORT: Final = 8
DEVICE_REPORT_CHANNELS: Final = 10
MAX_RECORDS: Final = 10

# Report flag (attribute 8): which ends of an event are reported.
REPORT_NONE: Final = 0
REPORT_START: Final = 1
REPORT_END: Final = 2
REPORT_BOTH: Final = 3
# Report mode (attribute 11).
MODE_ACTIVE: Final = 0
MODE_FOLLOW: Final = 1


@dataclass(frozen=True, slots=True)
class EventObject:
    """One event object (class 7): its OI, its columns (the standard record unit followed by
    the associated list), the associated list alone (attribute 3), its report defaults, and the
    DL/T 645 event-clear identifier its reset corresponds to."""

    oi: int
    name: str
    columns: tuple[Oad, ...]
    associated: tuple[Oad, ...]
    report_flag: int
    report_mode: int = MODE_ACTIVE
    clear_di: int | None = None  # the 1B identifier of the same clear; None: no reset here

    def oad(self, attribute: int = ATTR_RECORDS, index: int = 0) -> Oad:
        return Oad(self.oi, attribute, index)

    @property
    def reset(self) -> Omd:
        return Omd(self.oi, METHOD_RESET)


COVER_OPEN: Final = EventObject(
    OI_COVER_OPEN, "cover_open", COVER_COLUMNS, COVER_ASSOCIATED, REPORT_START,
    clear_di=0x03300DFF,
)
TERMINAL_COVER_OPEN: Final = EventObject(
    OI_TERMINAL_COVER_OPEN, "terminal_cover_open", COVER_COLUMNS, COVER_ASSOCIATED, REPORT_START,
    clear_di=0x03300EFF,
)
POWER_DOWN: Final = EventObject(
    OI_POWER_DOWN, "power_down", POWER_DOWN_COLUMNS, (), REPORT_BOTH, clear_di=0x031100FF,
)
EVENT_CLEAR: Final = EventObject(OI_EVENT_CLEAR, "event_clear", CLEAR_COLUMNS, (), REPORT_NONE)
# The clock logs: no reset here (a clock change stays evidence; the firmware keeps no baseline
# for them, and DL/T 645's clears leave them too), and no report (the firmware raises none).
TIME_SET: Final = EventObject(
    OI_TIME_SET, "time_set", CLOCK_COLUMNS, CLOCK_ASSOCIATED, REPORT_NONE,
)
BROADCAST_TIME: Final = EventObject(
    OI_BROADCAST_TIME, "broadcast_time", CLOCK_COLUMNS, CLOCK_ASSOCIATED, REPORT_NONE,
)
CLOCK_EVENTS: Final = (TIME_SET, BROADCAST_TIME)
EVENT_OBJECTS: Final = (COVER_OPEN, TERMINAL_COVER_OPEN, POWER_DOWN, EVENT_CLEAR, *CLOCK_EVENTS)
EVENT_BY_OI: Final = {e.oi: e for e in EVENT_OBJECTS}
MFR_BY_OI: Final = {
    OI_MFR_COVER_OPEN: COVER_OPEN,
    OI_MFR_TERMINAL_COVER_OPEN: TERMINAL_COVER_OPEN,
    OI_MFR_POWER_DOWN: POWER_DOWN,
    OI_MFR_TIME_SET: TIME_SET,
    OI_MFR_BROADCAST_TIME: BROADCAST_TIME,
}

# DL/T 645 event-clear identifiers (1B) and the DL/T 698.45 methods of the same clears: both
# faces write one firmware EventClear, and 3015 lists the methods whatever face cleared.
DI_CLEAR_ALL: Final = 0xFFFFFFFF
EVENT_INIT: Final = Omd(OI_DEVICE, DEVICE_METHOD_EVENT_INIT)
CLEARED_BY_DI: Final[dict[int, tuple[Omd, ...]]] = {
    DI_CLEAR_ALL: (EVENT_INIT,),
    0x03300DFF: (COVER_OPEN.reset,),
    0x031100FF: (POWER_DOWN.reset,),
    0x03300EFF: (TERMINAL_COVER_OPEN.reset,),
}


def cleared_methods(di: int) -> tuple[Omd, ...]:
    """The methods an event clear recorded with DL/T 645 identifier ``di`` amounts to."""
    return CLEARED_BY_DI.get(di, ())
