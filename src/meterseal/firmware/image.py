"""What the NVM holds: the Index of valid pages, and decode_image, which turns it into the
MeterImage (meterimage.py) every reader downstream sees.

Owns the rules that turn pages into records: that a page counts only where its kind lives
(pagemap.py), that a record N is valid only in slot N % 11, that a close/end half counts only
when its seq matches its slot's open/start half, that the totals are the highest valid seq, that
the latest 10 are shown newest first, that the valid SavedState copy with the highest generation
wins, and that the newest valid event clear sets the baselines below which a log's records are
hidden from the standard view (never erased: the all-time totals and records stay). It never
writes and knows nothing of devices: pages come through a read(addr, n) callable or a bytes image.
The same Index serves the firmware's Journal (updated write by write) and decode_image, so the
firmware and every reader downstream see one truth.
"""

from meterseal.firmware.authlog import broadcast_addr, time_set_addr
from meterseal.firmware.chain import MAC_SIZE, decode_seal, encode_seal, link_of, raw_chain_seq
from meterseal.firmware.layout import (
    CHAINED_END_PAGE,
    CHAINED_FIRST_PAGE,
    ERASED_PAGE,
    FREEZE_KEEP,
    FREEZE_SLOTS,
    PAGE_SIZE,
    RING,
    SEAL_BASE_PAGE,
    SLOTS,
    cover_close_addr,
    cover_open_addr,
    event_clear_addr,
    freeze_addr,
    pd_end_addr,
    pd_start_addr,
    report_addr,
    seal_addr,
    state_addr,
    terminal_close_addr,
    terminal_open_addr,
    terminal_report_addr,
)
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.pagecodec import PAGE_LEN, chained_span, decode_chained
from meterseal.firmware.pagemap import is_seal_page, locate
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

_HALF_GEN = 0x80000000
_U32 = 0xFFFFFFFF


def gen_newer(a, b):
    """True when generation a was saved after b (serial-number order, survives u32 wrap)."""
    return a != b and ((a - b) & _U32) < _HALF_GEN



class Index:
    """Valid page contents by slot: what a scan of the NVM finds, kept current write by write."""

    __slots__ = (
        "broadcasts",
        "clears",
        "cover_close",
        "cover_open",
        "freeze_top",
        "freezes",
        "late",
        "links",
        "pd_end",
        "pd_start",
        "raw",
        "reports",
        "seals",
        "states",
        "t_close",
        "t_open",
        "t_reports",
        "time_sets",
        "waiting",
    )

    def __init__(self):
        self.cover_open = [None] * SLOTS
        self.cover_close = [None] * SLOTS
        self.pd_start = [None] * SLOTS
        self.pd_end = [None] * SLOTS
        self.states = [None, None]
        self.clears = [None] * SLOTS
        self.reports = [None] * SLOTS
        self.freezes = [None] * FREEZE_SLOTS
        self.links = {}  # page number -> chain.Link of the valid record it holds
        self.seals = {}  # page number -> (chain_seq, prev_mac, mac) of its valid seal page
        self.late = {}  # page number -> None: the pages written without their MAC
        self.waiting = {}  # page number -> None: the late pages with no valid seal (yet)
        # page number -> bytes of every page whose chained CRC holds, valid record or not: the
        # reader is shown what the NVM holds, not only what still decodes to a record.
        self.raw = {}
        # The freeze ring is 63 slots, asked its total at every freeze: kept until a freeze
        # page changes (None: to be found again).
        self.freeze_top = None
        self.t_open = [None] * SLOTS
        self.t_close = [None] * SLOTS
        self.t_reports = [None] * SLOTS
        # The authority journal's clock changes (authlog.py owns them; here only as links of
        # the chain they share).
        self.time_sets = [None] * SLOTS
        self.broadcasts = [None] * SLOTS

    def load(self, read):
        """Fill this new index from every journal page read through read(addr, n)."""
        for copy in (0, 1):
            self._load_page(read, state_addr(copy), SavedState)
        for slot in range(SLOTS):
            self._load_page(read, cover_open_addr(slot), CoverOpen)
            self._load_page(read, cover_close_addr(slot), CoverClose)
            self._load_page(read, pd_start_addr(slot), PowerDown)
            self._load_page(read, pd_end_addr(slot), PowerDownEnd)
            self._load_page(read, event_clear_addr(slot), EventClear)
            self._load_page(read, report_addr(slot), ReportStatus)
            self._load_page(read, terminal_open_addr(slot), TerminalOpen)
            self._load_page(read, terminal_close_addr(slot), TerminalClose)
            self._load_page(read, terminal_report_addr(slot), TerminalReport)
            self._load_raw(time_set_addr(slot), read(time_set_addr(slot), PAGE_SIZE))
            self._load_raw(broadcast_addr(slot), read(broadcast_addr(slot), PAGE_SIZE))
        for slot in range(FREEZE_SLOTS):
            self._load_page(read, freeze_addr(slot), DailyFreeze)
        for page in list(self.late):  # only a record written without its MAC has a seal
            addr = seal_addr(page)
            self._load_raw(addr, read(addr, PAGE_SIZE))

    def _load_page(self, read, addr, kind):
        self._load_raw(addr, read(addr, PAGE_SIZE if kind is not SavedState else PAGE_LEN[kind]))

    def _load_raw(self, addr, data):
        # Most of a meter's journal is erased pages (a young meter's nearly all of it), and an
        # erased page indexes nothing in a new index: decoding it would only be thrown away.
        if data != ERASED_PAGE[: len(data)]:
            self.put(addr, data)

    def put(self, addr, data):
        """The page at addr now holds these bytes (a write, or what a cut left): index what
        they decode to, or forget the slot if they decode to nothing that belongs there."""
        if self.commit(addr, data):
            # A page that decodes where it belongs: commit kept its chained bytes, or dropped
            # them for a page without a trailer (decode and chained_span test the same CRC).
            return
        self.clear(addr)
        if addr % PAGE_SIZE == 0 and CHAINED_FIRST_PAGE <= addr // PAGE_SIZE < CHAINED_END_PAGE:
            n = chained_span(data)
            if n:
                self.raw[addr // PAGE_SIZE] = bytes(data[:n])
            else:
                self.raw.pop(addr // PAGE_SIZE, None)

    def commit(self, addr, data, got=None):
        """Index the page written at addr; False (index unchanged) if data is no page that
        belongs there. got: decode_chained(data) when the writer already has it (else None)."""
        page = addr // PAGE_SIZE
        if is_seal_page(addr):
            seal = decode_seal(data)
            if seal is None or seal[0] != page - SEAL_BASE_PAGE + CHAINED_FIRST_PAGE:
                return False
            self.seals[seal[0]] = seal[1:]
            link = self.links.get(seal[0])
            if link is not None and link.late() and seal[1] == link.chain_seq:
                self.waiting.pop(seal[0], None)
            return True
        if got is None:
            got = decode_chained(data)
        if got is None or not self.apply(addr, got[0]):
            return False
        link = link_of(page, data, got) if got[1] else None
        self.late.pop(page, None)
        self.waiting.pop(page, None)
        self.raw.pop(page, None)
        if link is None:
            self.links.pop(page, None)
        else:
            self.links[page] = link
            self.raw[page] = bytes(data[:len(link.head) + 2 * MAC_SIZE + 4])  # + CRC
            if link.late():
                self.late[page] = None
                if self.link_mac(link) is None:
                    self.waiting[page] = None
        return True

    def clear(self, addr):
        """Forget what the page at addr held (it is unreadable now)."""
        if is_seal_page(addr):
            page = addr // PAGE_SIZE - SEAL_BASE_PAGE + CHAINED_FIRST_PAGE
            self.seals.pop(page, None)
            if page in self.late:
                self.waiting[page] = None
            return
        where = locate(addr)
        if where is not None:
            where[0](self)[where[1]] = None
            self.links.pop(addr // PAGE_SIZE, None)
            self.late.pop(addr // PAGE_SIZE, None)
            self.waiting.pop(addr // PAGE_SIZE, None)
            if where[2] is DailyFreeze:
                self.freeze_top = None

    # --- the chain -----------------------------------------------------------------------

    def chain_head(self):
        """The Link with the highest chain_seq, or None when no page is chained."""
        head = None
        for link in self.links.values():
            if head is None or link.chain_seq > head.chain_seq:
                head = link
        return head

    def link_mac(self, link):
        """The MAC of a chained page: its own, or its seal's; None while it awaits its seal."""
        if not link.late():
            return link.mac
        seal = self.seals.get(link.page)
        if seal is None or seal[0] != link.chain_seq:
            return None
        return seal[2]

    def newest_with_mac(self):
        """The highest chain_seq among pages that carry their MAC or have their seal (0: none)."""
        top = 0
        for link in self.links.values():
            if link.chain_seq > top and self.link_mac(link) is not None:
                top = link.chain_seq
        return top

    def unsealed(self):
        """The chained pages written without a MAC that have no seal yet, oldest first."""
        out = [self.links[page] for page in self.waiting]
        out.sort(key=_chain_seq)
        return out

    def chain_pages(self):
        """(page, page bytes, seal bytes or b"") of every page that holds a chained page (a
        valid record or not), newest chain_seq first."""
        out = []
        for page, data in self.raw.items():
            link = self.links.get(page)
            seal = self.seals.get(page) if link is not None and link.late() else None
            sealed = b"" if seal is None else encode_seal(page, seal[0], seal[1], seal[2])
            out.append((raw_chain_seq(data), page, data, sealed))
        out.sort(reverse=True)
        return [(page, data, sealed) for _seq, page, data, sealed in out]

    def apply(self, addr, rec):
        """Record that the page at addr now holds rec; False (index unchanged) if rec does not
        belong at addr: wrong kind, or a seq of another slot."""
        where = locate(addr)
        if where is None:
            return False
        table, i, kind = where
        if type(rec) is not kind:
            return False
        rows = table(self)
        if kind is not SavedState and rec.seq % len(rows) != i:
            return False
        old = rows[i]
        rows[i] = rec
        if kind is DailyFreeze:
            self._freeze_put(old, rec)
        return True

    def _freeze_put(self, old, rec):
        """Keep freeze_top (the highest freeze seq) through a write of rec over old: a freeze
        is written every midnight, and finding the top again scans all 63 slots."""
        top = self.freeze_top
        if top is None:
            return
        if rec.seq >= top:
            self.freeze_top = rec.seq
        elif old is not None and old.seq == top:
            self.freeze_top = None  # the top itself was overwritten by a lower seq

    # --- derived views -------------------------------------------------------------------

    def cover_total(self):
        return _highest(self.cover_open)

    def power_down_total(self):
        return _highest(self.pd_start)

    def clear_total(self):
        return _highest(self.clears)

    def event_clear(self, seq):
        """The event-clear record seq (a copy), or None if not held."""
        return _held(self.clears, seq)

    def event_clears(self):
        """The latest RING event clears, newest first."""
        return _window(self.clear_total(), self.event_clear)

    def baselines(self):
        """(cover_base, power_down_base) set by the newest valid clear; (0, 0) if none."""
        top = self.clear_total()
        if top == 0:
            return 0, 0
        rec = self.clears[top % SLOTS]
        return rec.cover_base, rec.pd_base

    def terminal_baseline(self):
        """The terminal cover's baseline set by the newest valid clear; 0 if none."""
        top = self.clear_total()
        return 0 if top == 0 else self.clears[top % SLOTS].terminal_base

    def cover(self, seq):
        """The cover-open record seq (closed if its close half is valid), or None if not held."""
        return _merged(self.cover_open, self.cover_close, seq)

    def terminal(self, seq):
        """The terminal-cover-open record seq (a CoverOpen), or None if not held."""
        return _merged(self.t_open, self.t_close, seq)

    def terminal_total(self):
        return _highest(self.t_open)

    def terminals(self):
        """The latest RING terminal-cover-open records, newest first."""
        return _window(self.terminal_total(), self.terminal)

    def terminal_report(self, seq):
        return _held(self.t_reports, seq)

    def terminal_report_statuses(self):
        return _statuses(self.terminal_total(), self.terminal_report)

    def power_down(self, seq):
        if seq < 1:
            return None
        i = seq % SLOTS
        s = self.pd_start[i]
        if s is None or s.seq != seq:
            return None
        e = self.pd_end[i]
        if e is not None and e.seq == seq:
            return s.with_end(e)
        return _open_pd(s)

    def report(self, seq):
        """The report status of cover-open record seq (a copy), or None if none is held."""
        return _held(self.reports, seq)

    def report_statuses(self):
        """{seq: ReportStatus} of the latest RING cover-open records that have one."""
        return _statuses(self.cover_total(), self.report)

    def covers(self):
        """The latest RING cover-open records, newest first."""
        return _window(self.cover_total(), self.cover)

    def freeze_total(self):
        if self.freeze_top is None:
            self.freeze_top = _highest(self.freezes)
        return self.freeze_top

    def freeze(self, seq):
        """Daily freeze seq (a copy), or None if not held."""
        return _held(self.freezes, seq)

    def daily_freezes(self):
        """The latest 62 daily freezes, newest first."""
        return _window(self.freeze_total(), self.freeze, FREEZE_KEEP)

    def power_downs(self):
        return _window(self.power_down_total(), self.power_down)

    def latest_state_copy(self):
        """0 or 1: the copy holding the latest valid SavedState, or None if neither is valid."""
        a, b = self.states
        if a is None:
            return None if b is None else 1
        if b is None:
            return 0
        return 1 if gen_newer(b.gen, a.gen) else 0

    def state(self):
        c = self.latest_state_copy()
        return None if c is None else self.states[c].copy()

    def image(self):
        cover_base, pd_base = self.baselines()
        return MeterImage(
            self.cover_total(),
            self.covers(),
            self.power_down_total(),
            self.power_downs(),
            self.state(),
            self.clear_total(),
            self.event_clears(),
            cover_base,
            pd_base,
            self.report_statuses(),
            self.freeze_total(),
            self.daily_freezes(),
            self.terminal_total(),
            self.terminals(),
            self.terminal_baseline(),
            self.terminal_report_statuses(),
            self.chain_pages(),
        )


def _chain_seq(link):
    return link.chain_seq


def _merged(opens, closes, seq):
    if seq < 1:
        return None
    i = seq % SLOTS
    o = opens[i]
    if o is None or o.seq != seq:
        return None
    c = closes[i]
    if c is not None and c.seq == seq:
        return o.with_close(c)
    return o.copy()


def _held(table, seq):
    """Record seq of a one-page ring (a copy), or None if its slot holds another."""
    if seq < 1:
        return None
    rec = table[seq % len(table)]
    if rec is None or rec.seq != seq:
        return None
    return rec.copy()


def _statuses(top, get):
    out = {}
    seq = top
    while seq >= 1 and seq > top - RING:
        rec = get(seq)
        if rec is not None:
            out[seq] = rec
        seq -= 1
    return out


def _open_pd(s):
    return PowerDown(s.seq, s.start_ms, s.start_quality)


def _highest(table):
    top = 0
    for rec in table:
        if rec is not None and rec.seq > top:
            top = rec.seq
    return top


def _window(top, get, keep=RING):
    out = []
    seq = top
    while seq >= 1 and seq > top - keep:
        rec = get(seq)
        # A hole (a record whose write never completed) is skipped, never filled with a stale one.
        if rec is not None:
            out.append(rec)
        seq -= 1
    return out


def decode_image(image):
    """The records held by a full NVM image (bytes). Never raises: torn or garbage pages are
    skipped, and a short image reads as erased beyond its end."""
    ix = Index()
    try:
        mv = bytes(image)
    except Exception:
        mv = b""

    def read(addr, n):
        return mv[addr : addr + n]

    ix.load(read)
    return ix.image()


def saved_state(read):
    """The latest valid SavedState in the NVM read through read(addr, n), or None: the two state
    pages alone, for whoever needs only the registers and the cover as last saved."""
    ix = Index()
    for copy in (0, 1):
        ix._load_page(read, state_addr(copy), SavedState)
    return ix.state()
