"""Where everything lives in the NVM (a 24LC256-like EEPROM: 32768 bytes in 64-byte pages).

Owns the page map and the page tags, nothing else: no encoding, no device access. Every journal
page sits alone in its own EEPROM page, so one write never touches two records.

    page  0, 1      SavedState copies A and B (alternating; the valid one with the highest gen wins)
    pages 2..23     cover-open slots 0..10, two pages each: open half, close half
    pages 24..45    power-down slots 0..10, two pages each: start half, end half
    pages 46..56    event-clear slots 0..10, one page each (a clear is written once, never closed)
    pages 57..67    cover-open report status, slots 0..10, one page each (written once per record,
                    when its active report is done, or at the next restore if none could go out)
    pages 68..89    terminal-cover-open slots 0..10, two pages each, as the cover's (own tags, so
                    a page copied from one log to the other never passes for a record there)
    pages 90..100   terminal-cover-open report status, slots 0..10, one page each
    pages 101..163  daily freezes, slots 0..62, one page each (the latest 62 are kept, as the
                    standard's 62 daily freezes: a freeze N only overwrites freeze N - 63)
    pages 164..187  the authority journal (authlog.py): time-setting log 164..174, broadcast-time
                    log 175..185, the lockout counter's two copies 186, 187
    pages 188..373  late MAC seals, one per journal page 2..187 (seal of page P at P + 186):
                    the MAC of a record written on backup without one (chain.py)
    pages 374..499  free
    pages 500, 501  the active-report page, copies A and B (reportword.py)
    pages 502..511  free

A ring of SLOTS = 11 keeps the latest RING = 10: record N goes to slot N % 11 and overwrites
record N - 11, never one of the latest 10, so a torn write can only destroy a record that had
already left the ring. The event-clear ring follows the same rule.

Every journal page in 2..187 written by the Journal ends in a chain trailer before its CRC, and
so does every clock change of the authority journal (164..185, through Journal.chained) (the
format is in chain.py): tag | payload | chain_seq 4 | prev_page 2 | flags 1 | prev_mac 8 | mac 8
| CRC-32, 63 bytes at most. SavedState pages carry none.
"""

from meterseal.firmware.compat import const

NVM_SIZE = const(32768)  # the simulated board sizes its EEPROM by this
PAGE_SIZE = const(64)
ERASED_PAGE = b"\xff" * PAGE_SIZE  # what an unwritten page reads

RING = const(10)
SLOTS = const(11)

STATE_PAGE_A = const(0)
STATE_PAGE_B = const(1)
COVER_BASE_PAGE = const(2)
POWER_DOWN_BASE_PAGE = const(24)
EVENT_CLEAR_BASE_PAGE = const(46)
REPORT_BASE_PAGE = const(57)
TERMINAL_BASE_PAGE = const(68)
TERMINAL_REPORT_BASE_PAGE = const(90)
FREEZE_BASE_PAGE = const(101)
FREEZE_KEEP = const(62)
FREEZE_SLOTS = const(63)
SEAL_BASE_PAGE = const(188)
CHAINED_FIRST_PAGE = const(2)
CHAINED_END_PAGE = const(188)  # journal pages that may carry a chain trailer: 2..187
FREE_BASE_PAGE = const(374)
TRAILER_SIZE = const(23)  # the chain trailer before a chained page's CRC (fields: chain.py)

# Page tags: first byte of every page, one per page kind. 0x00 and 0xFF are never tags, so an
# erased page (0xFF) or a zeroed one can never pass for a record.
TAG_STATE = const(0xA5)
TAG_COVER_OPEN = const(0xC1)
TAG_COVER_CLOSE = const(0xC2)
TAG_PD_START = const(0xD1)
TAG_PD_END = const(0xD2)
TAG_EVENT_CLEAR = const(0xE1)
TAG_REPORT = const(0xB1)
TAG_FREEZE = const(0xF1)
TAG_SEAL = const(0x5E)
TAG_TERMINAL_OPEN = const(0xC3)
TAG_TERMINAL_CLOSE = const(0xC4)
TAG_TERMINAL_REPORT = const(0xB2)
TAG_EVENT_CLEAR_T = const(0xE2)  # an event clear that also carries the terminal cover's baseline


def state_addr(copy):
    """Byte address of SavedState copy 0 (A) or 1 (B)."""
    return (STATE_PAGE_A + copy) * PAGE_SIZE


def cover_open_addr(seq):
    return (COVER_BASE_PAGE + 2 * (seq % SLOTS)) * PAGE_SIZE


def cover_close_addr(seq):
    return (COVER_BASE_PAGE + 2 * (seq % SLOTS) + 1) * PAGE_SIZE


def pd_start_addr(seq):
    return (POWER_DOWN_BASE_PAGE + 2 * (seq % SLOTS)) * PAGE_SIZE


def pd_end_addr(seq):
    return (POWER_DOWN_BASE_PAGE + 2 * (seq % SLOTS) + 1) * PAGE_SIZE


def event_clear_addr(seq):
    return (EVENT_CLEAR_BASE_PAGE + seq % SLOTS) * PAGE_SIZE


def report_addr(seq):
    """The report status of cover-open record seq."""
    return (REPORT_BASE_PAGE + seq % SLOTS) * PAGE_SIZE


def freeze_addr(seq):
    """Daily freeze seq."""
    return (FREEZE_BASE_PAGE + seq % FREEZE_SLOTS) * PAGE_SIZE


def seal_addr(page):
    """The late-seal page of journal page `page` (2..187)."""
    return (SEAL_BASE_PAGE + page - CHAINED_FIRST_PAGE) * PAGE_SIZE


def terminal_open_addr(seq):
    return (TERMINAL_BASE_PAGE + 2 * (seq % SLOTS)) * PAGE_SIZE


def terminal_close_addr(seq):
    return (TERMINAL_BASE_PAGE + 2 * (seq % SLOTS) + 1) * PAGE_SIZE


def terminal_report_addr(seq):
    """The report status of terminal-cover-open record seq."""
    return (TERMINAL_REPORT_BASE_PAGE + seq % SLOTS) * PAGE_SIZE
