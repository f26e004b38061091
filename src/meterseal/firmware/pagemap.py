"""Where each journal page lives, as the Index of valid pages keeps it.

Owns the map from an NVM address to the Index table of its kind, the slot in that table and the
record class the page must hold (locate), which addresses hold the chain's seal pages, and which
part of the image a write at an address can change (page_group, for readers that replay the
writes). It knows the layout's page numbers (layout.py) and the names of the Index's tables;
nothing of how a page is decoded nor of what a record means.
"""

from meterseal.firmware.authlog import (
    BROADCAST_BASE_PAGE,
    TIME_SET_BASE_PAGE,
    BroadcastChange,
    TimeSetChange,
)
from meterseal.firmware.layout import (
    CHAINED_END_PAGE,
    CHAINED_FIRST_PAGE,
    COVER_BASE_PAGE,
    EVENT_CLEAR_BASE_PAGE,
    FREEZE_BASE_PAGE,
    FREEZE_SLOTS,
    PAGE_SIZE,
    POWER_DOWN_BASE_PAGE,
    REPORT_BASE_PAGE,
    SEAL_BASE_PAGE,
    SLOTS,
    STATE_PAGE_A,
    STATE_PAGE_B,
    TERMINAL_BASE_PAGE,
    TERMINAL_REPORT_BASE_PAGE,
)
from meterseal.firmware.records import (
    CoverClose,
    CoverOpen,
    DailyFreeze,
    EventClear,
    PowerDown,
    PowerDownEnd,
    ReportStatus,
    SavedState,
    TerminalClose,
    TerminalOpen,
    TerminalReport,
)


def is_seal_page(addr):
    page = addr // PAGE_SIZE
    return addr % PAGE_SIZE == 0 and (
        SEAL_BASE_PAGE <= page < SEAL_BASE_PAGE + CHAINED_END_PAGE - CHAINED_FIRST_PAGE)


# One getter per Index table: locate names a table without holding an Index, and page_group
# tells the tables apart by the getter's identity.
def _t_states(ix):
    return ix.states


def _t_time_sets(ix):
    return ix.time_sets


def _t_broadcasts(ix):
    return ix.broadcasts


def _t_cover_open(ix):
    return ix.cover_open


def _t_cover_close(ix):
    return ix.cover_close


def _t_pd_start(ix):
    return ix.pd_start


def _t_pd_end(ix):
    return ix.pd_end


def _t_clears(ix):
    return ix.clears


def _t_reports(ix):
    return ix.reports


def _t_freezes(ix):
    return ix.freezes


def _t_terminal_open(ix):
    return ix.t_open


def _t_terminal_close(ix):
    return ix.t_close


def _t_terminal_reports(ix):
    return ix.t_reports


# Regions of two pages a slot (an opening and its close half), and of one page a slot:
# (first page, slots, table getter, record class[, close half's getter, its class]).
_PAIRED = (
    (COVER_BASE_PAGE, _t_cover_open, CoverOpen, _t_cover_close, CoverClose),
    (POWER_DOWN_BASE_PAGE, _t_pd_start, PowerDown, _t_pd_end, PowerDownEnd),
    (TERMINAL_BASE_PAGE, _t_terminal_open, TerminalOpen, _t_terminal_close, TerminalClose),
)
_SINGLE = (
    (EVENT_CLEAR_BASE_PAGE, SLOTS, _t_clears, EventClear),
    (REPORT_BASE_PAGE, SLOTS, _t_reports, ReportStatus),
    (FREEZE_BASE_PAGE, FREEZE_SLOTS, _t_freezes, DailyFreeze),
    (TERMINAL_REPORT_BASE_PAGE, SLOTS, _t_terminal_reports, TerminalReport),
    (TIME_SET_BASE_PAGE, SLOTS, _t_time_sets, TimeSetChange),
    (BROADCAST_BASE_PAGE, SLOTS, _t_broadcasts, BroadcastChange),
)


def locate(addr):
    """(table getter, index, record class) of the journal page at addr, or None."""
    if addr < 0 or addr % PAGE_SIZE:
        return None
    page = addr // PAGE_SIZE
    if page == STATE_PAGE_A or page == STATE_PAGE_B:
        return _t_states, page - STATE_PAGE_A, SavedState
    for base, t_open, open_kind, t_close, close_kind in _PAIRED:
        rel = page - base
        if 0 <= rel < 2 * SLOTS:
            if rel % 2:
                return t_close, rel // 2, close_kind
            return t_open, rel // 2, open_kind
    for base, slots, table, kind in _SINGLE:
        rel = page - base
        if 0 <= rel < slots:
            return table, rel, kind
    return None


GROUP_STATE = "state"
GROUP_COVER = "cover"
GROUP_POWER_DOWN = "power_down"
GROUP_CLEAR = "clear"
GROUP_REPORT = "report"
GROUP_FREEZE = "freeze"
GROUP_TERMINAL = "terminal"


def page_group(addr):
    """Which part of the image a page write at addr can change (GROUP_*), or None for an
    address that holds no journal page."""
    where = locate(addr)
    if where is None:
        return None
    table = where[0]
    if table is _t_time_sets or table is _t_broadcasts:
        return None  # the authority journal's: no part of the record image
    if table is _t_cover_open or table is _t_cover_close:
        return GROUP_COVER
    if table is _t_pd_start or table is _t_pd_end:
        return GROUP_POWER_DOWN
    if table is _t_reports:
        return GROUP_REPORT
    if table is _t_freezes:
        return GROUP_FREEZE
    if table is _t_terminal_open or table is _t_terminal_close or table is _t_terminal_reports:
        return GROUP_TERMINAL
    return GROUP_STATE if table is _t_states else GROUP_CLEAR
