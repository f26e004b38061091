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


def locate(addr):
    """(table getter, index, record class) of the journal page at addr, or None."""
    if addr < 0 or addr % PAGE_SIZE:
        return None
    page = addr // PAGE_SIZE
    if page == STATE_PAGE_A or page == STATE_PAGE_B:
        return _t_states, page - STATE_PAGE_A, SavedState
    rel = page - COVER_BASE_PAGE
    if 0 <= rel < 2 * SLOTS:
        if rel % 2:
            return _t_cover_close, rel // 2, CoverClose
        return _t_cover_open, rel // 2, CoverOpen
    rel = page - POWER_DOWN_BASE_PAGE
    if 0 <= rel < 2 * SLOTS:
        if rel % 2:
            return _t_pd_end, rel // 2, PowerDownEnd
        return _t_pd_start, rel // 2, PowerDown
    rel = page - EVENT_CLEAR_BASE_PAGE
    if 0 <= rel < SLOTS:
        return _t_clears, rel, EventClear
    rel = page - REPORT_BASE_PAGE
    if 0 <= rel < SLOTS:
        return _t_reports, rel, ReportStatus
    rel = page - FREEZE_BASE_PAGE
    if 0 <= rel < FREEZE_SLOTS:
        return _t_freezes, rel, DailyFreeze
    rel = page - TERMINAL_BASE_PAGE
    if 0 <= rel < 2 * SLOTS:
        if rel % 2:
            return _t_terminal_close, rel // 2, TerminalClose
        return _t_terminal_open, rel // 2, TerminalOpen
    rel = page - TERMINAL_REPORT_BASE_PAGE
    if 0 <= rel < SLOTS:
        return _t_terminal_reports, rel, TerminalReport
    rel = page - TIME_SET_BASE_PAGE
    if 0 <= rel < SLOTS:
        return _t_time_sets, rel, TimeSetChange
    rel = page - BROADCAST_BASE_PAGE
    if 0 <= rel < SLOTS:
        return _t_broadcasts, rel, BroadcastChange
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
