"""The record journal: which single page write carries each operation, and the in-RAM index.

Owns the write rules that make the NVM survive a power cut anywhere:
- every operation is exactly one page write, atomic by its CRC (a torn page decodes as nothing);
- a committed page is never rewritten: a close or end half has its own page, a record N only ever
  overwrites record N - 11 (gone from the latest 10), SavedState alternates between two copies
  so the latest valid one is never the page being written, and redoing an operation that already
  committed gives None (nothing to write) instead of a second write over committed bytes;
- the index changes only when the firmware reports the write finished (committed), so a write
  that may be torn never shows in RAM; totals come from the highest valid seq, so they survive
  every cut and never go backwards.
An event clear is one more single-page op in its own ring: it records the clear and moves the
baselines of the standard view; it never rewrites or erases a cover-open or power-down page, so
the all-time totals (I4) and every committed record (I5) are untouched by it.
Every record page carries a chain trailer (chain.py) once set_mac() names the security module:
the chain is issued with the writes, in the order they are handed out, and recover() takes it
back to the newest committed page, so a write that never committed leaves no gap. A page written
without its MAC (set_mac's function declined) is sealed later by next_seal(), in chain order.
It performs no I/O: it reads through read(addr, n) at recovery and hands back (addr, data) for the
firmware's write queue. Contract with that queue: every write handed out is performed, in the order
handed out, unless power dies (then recover() starts afresh); a write the firmware drops on purpose
must be followed by recover(), since the SavedState alternation counts writes as they are issued.
It knows nothing of timing, energy, the HAL or the power states.
"""

from meterseal.firmware.chain import FLAG_LATE, NO_MAC, encode_seal, mac_input, trailer
from meterseal.firmware.crc import crc32
from meterseal.firmware.image import Index
from meterseal.firmware.layout import (
    PAGE_SIZE,
    RING,
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
from meterseal.firmware.pagecodec import encode_page, encode_payload, read_back
from meterseal.firmware.records import (
    CoverClose,
    CoverOpen,
    EventClear,
    PowerDown,
    PowerDownEnd,
    ReportStatus,
    TerminalClose,
    TerminalOpen,
    TerminalReport,
)

_U32 = 0xFFFFFFFF


class Journal:
    """The firmware's record journal on the NVM. Call recover() before anything else."""

    __slots__ = (
        "_chain_mac",
        "_chain_page",
        "_chain_seq",
        "_clear_issued",
        "_cover_issued",
        "_freeze_issued",
        "_gen_issued",
        "_index",
        "_issued_bases",
        "_issued_terminal_base",
        "_last_issued",
        "_mac",
        "_next_copy",
        "_pd_issued",
        "_read",
        "_ready",
        "_seals",
        "_terminal_issued",
    )

    def __init__(self, read, mac=None):
        self._read = read
        self._mac = mac
        self._chain_seq = 0
        self._chain_page = 0
        self._chain_mac = NO_MAC
        self._seals = {}  # page -> (chain_seq, mac) of seals issued since recover()
        self._index = Index()
        self._ready = False
        self._cover_issued = 0
        self._pd_issued = 0
        self._gen_issued = 0
        self._next_copy = 0
        self._clear_issued = 0
        self._issued_bases = (0, 0)
        self._issued_terminal_base = 0
        self._freeze_issued = 0
        self._terminal_issued = 0
        # (addr, data, (record, trailer)) of the last record page handed out: what its commit
        # indexes without decoding the bytes the journal itself just encoded.
        self._last_issued = None

    def recover(self):
        """Scan the NVM and rebuild the index; forgets every write not yet committed."""
        ix = Index()
        ix.load(self._read)
        self._index = ix
        self._cover_issued = ix.cover_total()
        self._pd_issued = ix.power_down_total()
        self._clear_issued = ix.clear_total()
        self._freeze_issued = ix.freeze_total()
        self._terminal_issued = ix.terminal_total()
        self._issued_bases = ix.baselines()
        self._issued_terminal_base = ix.terminal_baseline()
        head = ix.chain_head()
        self._seals = {}
        if head is None:
            self._chain_seq, self._chain_page, self._chain_mac = 0, 0, NO_MAC
        else:
            self._chain_seq, self._chain_page = head.chain_seq, head.page
            self._chain_mac = ix.link_mac(head)
        latest = ix.latest_state_copy()
        if latest is None:
            self._gen_issued = 0
            self._next_copy = 0
        else:
            self._gen_issued = ix.states[latest].gen
            self._next_copy = 1 - latest
        self._ready = True

    # --- what is committed -----------------------------------------------------------------

    @property
    def cover_total(self):
        return self._index.cover_total()

    @property
    def power_down_total(self):
        return self._index.power_down_total()

    @property
    def state(self):
        """A copy of the latest committed SavedState, or None."""
        return self._index.state()

    def cover(self, seq):
        """Committed cover-open record seq (a copy; closed if its close committed), or None."""
        return self._index.cover(seq)

    def covers(self):
        """The latest 10 committed cover-open records, newest first."""
        return self._index.covers()

    def power_down(self, seq):
        return self._index.power_down(seq)

    @property
    def terminal_total(self):
        return self._index.terminal_total()

    def terminal(self, seq):
        """Committed terminal-cover-open record seq (a copy), or None."""
        return self._index.terminal(seq)

    def terminals(self):
        """The latest 10 committed terminal-cover-open records, newest first."""
        return self._index.terminals()

    def next_terminal_seq(self):
        return max(self.terminal_total, self._terminal_issued) + 1

    def terminal_reported(self, seq):
        return self._index.terminal_report(seq) is not None

    def power_downs(self):
        return self._index.power_downs()

    @property
    def clear_total(self):
        return self._index.clear_total()

    def event_clears(self):
        """The latest 10 committed event clears, newest first."""
        return self._index.event_clears()

    def baselines(self):
        """(cover_base, power_down_base) of the standard view, as committed."""
        return self._index.baselines()

    def next_clear_seq(self):
        return max(self.clear_total, self._clear_issued) + 1

    def image(self):
        """The MeterImage that decode_image would give for the NVM as committed so far."""
        return self._index.image()

    def next_cover_seq(self):
        """The seq the next open_cover must carry."""
        return max(self.cover_total, self._cover_issued) + 1

    def next_power_down_seq(self):
        return max(self.power_down_total, self._pd_issued) + 1

    @property
    def freeze_total(self):
        return self._index.freeze_total()

    def last_freeze(self):
        """The newest committed daily freeze (a copy), or None."""
        return self._index.freeze(self._index.freeze_total())

    def next_freeze_seq(self):
        return max(self.freeze_total, self._freeze_issued) + 1

    # --- operations: each returns the one page write to perform, or None -------------------

    def open_cover(self, rec):
        """Write of the open half of rec (a CoverOpen; its close fields are ignored).

        rec.seq must be next_cover_seq(), or a seq issued earlier whose write did not commit (a
        retry). None if that seq is already committed: the committed page must not be rewritten.
        """
        self._need_ready()
        seq = rec.seq
        if seq <= self.cover_total:
            return None
        if seq > self.next_cover_seq():
            raise ValueError("cover seq would leave a hole")
        half = CoverOpen(
            seq,
            rec.quality,
            rec.opened_ms,
            rec.not_before_ms,
            rec.not_after_ms,
            rec.import_before,
            rec.export_before,
        )
        write = self._chained(cover_open_addr(seq), half)
        if seq > self._cover_issued:
            self._cover_issued = seq
        return write

    def close_cover(self, seq, close_quality, closed_ms, import_after, export_after):
        """Write of the close half of record seq; None if its close already committed."""
        self._need_ready()
        top = max(self.cover_total, self._cover_issued)
        if not (1 <= seq <= top):
            raise ValueError("closing a cover record never opened")
        if seq <= top - RING:
            raise ValueError("closing a cover record that left the ring")
        rec = self._index.cover(seq)
        if rec is not None and rec.closed:
            return None
        return self._chained(cover_close_addr(seq),
                             CoverClose(seq, close_quality, closed_ms, import_after, export_after))

    def open_terminal(self, rec):
        """Write of the open half of terminal-cover record rec, by open_cover's rules."""
        self._need_ready()
        seq = rec.seq
        if seq <= self.terminal_total:
            return None
        if seq > self.next_terminal_seq():
            raise ValueError("terminal-cover seq would leave a hole")
        half = TerminalOpen(seq, rec.quality, rec.opened_ms, rec.not_before_ms, rec.not_after_ms,
                            rec.import_before, rec.export_before)
        write = self._chained(terminal_open_addr(seq), half)
        if seq > self._terminal_issued:
            self._terminal_issued = seq
        return write

    def close_terminal(self, seq, close_quality, closed_ms, import_after, export_after):
        """Write of the close half of terminal-cover record seq; None if already closed."""
        self._need_ready()
        top = max(self.terminal_total, self._terminal_issued)
        if not (1 <= seq <= top):
            raise ValueError("closing a terminal-cover record never opened")
        if seq <= top - RING:
            raise ValueError("closing a terminal-cover record that left the ring")
        rec = self._index.terminal(seq)
        if rec is not None and rec.closed:
            return None
        return self._chained(terminal_close_addr(seq),
                             TerminalClose(seq, close_quality, closed_ms, import_after,
                                           export_after))

    def terminal_report_status(self, seq, sends, flags, time_ms):
        """Write of terminal-cover record seq's report status, by report_status's rules."""
        self._need_ready()
        top = max(self.terminal_total, self._terminal_issued)
        if not (1 <= seq <= top) or seq <= top - RING:
            raise ValueError("report status of a terminal-cover record not in the ring")
        if self._index.terminal_report(seq) is not None:
            return None
        return self._chained(terminal_report_addr(seq), TerminalReport(seq, sends, flags, time_ms))

    def power_down_start(self, seq, start_ms, start_quality):
        """Write of the start half of power-down record seq (= next_power_down_seq(), or a retry);
        None if already committed."""
        self._need_ready()
        if seq <= self.power_down_total:
            return None
        if seq > self.next_power_down_seq():
            raise ValueError("power-down seq would leave a hole")
        write = self._chained(pd_start_addr(seq), PowerDown(seq, start_ms, start_quality))
        if seq > self._pd_issued:
            self._pd_issued = seq
        return write

    def power_down_end(self, seq, end_ms, end_quality):
        """Write of the end half of power-down record seq; None if its end already committed."""
        self._need_ready()
        top = max(self.power_down_total, self._pd_issued)
        if not (1 <= seq <= top):
            raise ValueError("ending a power-down record never started")
        if seq <= top - RING:
            raise ValueError("ending a power-down record that left the ring")
        rec = self._index.power_down(seq)
        if rec is not None and rec.ended:
            return None
        return self._chained(pd_end_addr(seq), PowerDownEnd(seq, end_ms, end_quality))

    def event_clear(self, seq, time_ms, time_quality, operator, di, cover, power_down,
                    terminal=False):
        """Write of event-clear record seq (= next_clear_seq(), or a retry); None if committed.

        cover / power_down / terminal say which logs the clear hides from the standard view:
        their baselines become their committed all-time totals now; the others are carried from
        the clear before, so the newest clear alone holds every baseline.
        """
        self._need_ready()
        if seq <= self.clear_total:
            return None
        if seq > self.next_clear_seq():
            raise ValueError("event-clear seq would leave a hole")
        if seq == self.clear_total + 1:
            prev_cover, prev_pd = self._index.baselines()
            prev_t = self._index.terminal_baseline()
        else:
            prev_cover, prev_pd = self._issued_bases
            prev_t = self._issued_terminal_base
        cover_total = self.cover_total
        pd_total = self.power_down_total
        t_total = self.terminal_total
        rec = EventClear(
            seq,
            time_ms,
            time_quality,
            operator,
            di,
            cover_total,
            cover_total if cover else min(prev_cover, cover_total),
            pd_total,
            pd_total if power_down else min(prev_pd, pd_total),
            t_total,
            t_total if terminal else min(prev_t, t_total),
        )
        write = self._chained(event_clear_addr(seq), rec)
        if seq > self._clear_issued:
            self._clear_issued = seq
            self._issued_bases = (rec.cover_base, rec.pd_base)
            self._issued_terminal_base = rec.terminal_base
        return write

    def report_status(self, seq, sends, flags, time_ms):
        """Write of cover-open record seq's report status; None if one is already committed
        (a report status is written once). The record must be in the ring."""
        self._need_ready()
        top = max(self.cover_total, self._cover_issued)
        if not (1 <= seq <= top) or seq <= top - RING:
            raise ValueError("report status of a cover record not in the ring")
        if self._index.report(seq) is not None:
            return None
        return self._chained(report_addr(seq), ReportStatus(seq, sends, flags, time_ms))

    def reported(self, seq):
        """Is a report status committed for cover-open record seq?"""
        return self._index.report(seq) is not None

    def daily_freeze(self, rec):
        """Write of daily freeze rec (rec.seq = next_freeze_seq(), or a retry); None if that seq
        is already committed."""
        self._need_ready()
        seq = rec.seq
        if seq <= self.freeze_total:
            return None
        if seq > self.next_freeze_seq():
            raise ValueError("freeze seq would leave a hole")
        write = self._chained(freeze_addr(seq), rec)
        if seq > self._freeze_issued:
            self._freeze_issued = seq
        return write

    def save_state(self, state):
        """Write of a new SavedState; assigns state.gen (the next generation) in place.

        Goes to the copy that was not written last, so the newest committed copy stays intact
        until this one commits.
        """
        self._need_ready()
        gen = (self._gen_issued + 1) & _U32
        state.gen = gen
        data = encode_page(state)
        copy = self._next_copy
        self._gen_issued = gen
        self._next_copy = 1 - copy
        return self._issued(state_addr(copy), data, state, b"")

    def committed(self, addr, data):
        """The firmware reports that the write (addr, data) completed."""
        got = None
        last = self._last_issued
        if last is not None and last[1] is data and last[0] == addr:
            self._last_issued = None  # used once: a second commit decodes, as any other
            got = last[2]
        if not self._index.commit(addr, data, got):
            raise ValueError("not a journal page for this address")

    def _issued(self, addr, data, rec, chain):
        """(addr, data), remembered with what its page reads back as (chain: its trailer)."""
        back = read_back(rec)
        self._last_issued = (addr, data, None if back is None else (back, chain))
        return addr, data

    # --- the record chain (chain.py) -------------------------------------------------------

    def set_mac(self, mac):
        """Chain every record page from now on: mac(data) gives the security module's MAC of
        data, or None when it cannot be afforded now (the page is then written late, flagged,
        and sealed by next_seal() later). None: write pages without a chain."""
        self._mac = mac

    def chained(self, addr, rec):
        """(addr, page bytes) of a page of another journal that shares this chain (the authority
        journal's clock changes): it takes its place in the chain as issued, as a record does."""
        self._need_ready()
        return self._chained(addr, rec)

    def _chained(self, addr, rec):
        """(addr, page bytes) of rec, with its chain trailer after the chain as issued."""
        if self._mac is None:
            return self._issued(addr, encode_page(rec), rec, b"")
        page = addr // PAGE_SIZE
        seq = self._chain_seq + 1
        prev_page, prev_mac = self._chain_page, self._chain_mac
        mac = None
        body = encode_payload(rec)  # tag and payload: encoded (and checked) once
        if prev_mac is not None:
            lead = trailer(seq, prev_page, 0, b"", b"")  # the trailer up to prev_mac
            mac = self._mac(mac_input(page, body + lead, prev_mac))
        if mac is None:
            chain = trailer(seq, prev_page, FLAG_LATE, NO_MAC, NO_MAC)
        else:
            chain = lead + prev_mac + mac
        body += chain
        data = body + crc32(body).to_bytes(4, "little")
        self._chain_seq, self._chain_page, self._chain_mac = seq, page, mac
        return self._issued(addr, data, rec, chain)

    def needs_seal(self):
        """Is a committed page waiting for its seal, with none issued yet?"""
        if not self._index.waiting or self._mac is None:
            return False
        for link in self._index.unsealed():
            if not self._seal_tried(link):
                return True
        return False

    def next_seal(self):
        """The seal write of the oldest committed page written without its MAC, or None (none
        waits, or its MAC cannot be had now: its predecessor is gone, or the module declined)."""
        self._need_ready()
        if self._mac is None:
            return None
        floor = self._index.newest_with_mac()
        for link in self._index.unsealed():
            if self._seal_tried(link):
                continue
            prev = self._mac_before(link)
            if prev is None or link.chain_seq < floor or link.prev_mac != NO_MAC or (
                    link.mac != NO_MAC):
                # Never sealed: its predecessor left the NVM unsealed, or the page cannot be a
                # genuine late page (late pages follow every MAC'd one and carry zeros) — the
                # module must not vouch for a page changed by hand. The reader reports it.
                self._seals[link.page] = (link.chain_seq, None)
                continue
            mac = self._mac(mac_input(link.page, link.head, prev))
            if mac is None:
                return None
            self._seals[link.page] = (link.chain_seq, mac)
            if link.chain_seq == self._chain_seq and link.page == self._chain_page:
                self._chain_mac = mac  # later records chain on the seal's MAC
            return seal_addr(link.page), encode_seal(link.page, link.chain_seq, prev, mac)
        return None

    def _seal_tried(self, link):
        got = self._seals.get(link.page)
        return got is not None and got[0] == link.chain_seq

    def _issued_seal(self, link):
        got = self._seals.get(link.page)
        return got[1] if got is not None and got[0] == link.chain_seq else None

    def _mac_before(self, link):
        """The MAC of the chain's record before link's, committed or sealed as issued."""
        if link.prev_page == 0:
            return NO_MAC if link.chain_seq == 1 else None
        prev = self._index.links.get(link.prev_page)
        if prev is None or prev.chain_seq != link.chain_seq - 1:
            return None
        mac = self._index.link_mac(prev)
        return mac if mac is not None else self._issued_seal(prev)

    def _need_ready(self):
        if not self._ready:
            raise RuntimeError("Journal.recover() first")
