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
It performs no I/O: it reads through read(addr, n) at recovery and hands back (addr, data) for the
firmware's write queue. Contract with that queue: every write handed out is performed, in the order
handed out, unless power dies (then recover() starts afresh); a write the firmware drops on purpose
must be followed by recover(), since the SavedState alternation counts writes as they are issued.
It knows nothing of timing, energy, the HAL or the power states.
"""

from meterseal.firmware.image import Index
from meterseal.firmware.layout import (
    RING,
    cover_close_addr,
    cover_open_addr,
    event_clear_addr,
    freeze_addr,
    pd_end_addr,
    pd_start_addr,
    report_addr,
    state_addr,
)
from meterseal.firmware.records import (
    CoverClose,
    CoverOpen,
    EventClear,
    PowerDown,
    PowerDownEnd,
    ReportStatus,
    decode_page,
    encode_page,
)

_U32 = 0xFFFFFFFF


class Journal:
    """The firmware's record journal on the NVM. Call recover() before anything else."""

    __slots__ = (
        "_clear_issued",
        "_cover_issued",
        "_freeze_issued",
        "_gen_issued",
        "_index",
        "_issued_bases",
        "_next_copy",
        "_pd_issued",
        "_read",
        "_ready",
    )

    def __init__(self, read):
        self._read = read
        self._index = Index()
        self._ready = False
        self._cover_issued = 0
        self._pd_issued = 0
        self._gen_issued = 0
        self._next_copy = 0
        self._clear_issued = 0
        self._issued_bases = (0, 0)
        self._freeze_issued = 0

    def recover(self):
        """Scan the NVM and rebuild the index; forgets every write not yet committed."""
        ix = Index()
        ix.load(self._read)
        self._index = ix
        self._cover_issued = ix.cover_total()
        self._pd_issued = ix.power_down_total()
        self._clear_issued = ix.clear_total()
        self._freeze_issued = ix.freeze_total()
        self._issued_bases = ix.baselines()
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
        data = encode_page(half)
        if seq > self._cover_issued:
            self._cover_issued = seq
        return cover_open_addr(seq), data

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
        data = encode_page(CoverClose(seq, close_quality, closed_ms, import_after, export_after))
        return cover_close_addr(seq), data

    def power_down_start(self, seq, start_ms, start_quality):
        """Write of the start half of power-down record seq (= next_power_down_seq(), or a retry);
        None if already committed."""
        self._need_ready()
        if seq <= self.power_down_total:
            return None
        if seq > self.next_power_down_seq():
            raise ValueError("power-down seq would leave a hole")
        data = encode_page(PowerDown(seq, start_ms, start_quality))
        if seq > self._pd_issued:
            self._pd_issued = seq
        return pd_start_addr(seq), data

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
        data = encode_page(PowerDownEnd(seq, end_ms, end_quality))
        return pd_end_addr(seq), data

    def event_clear(self, seq, time_ms, time_quality, operator, di, cover, power_down):
        """Write of event-clear record seq (= next_clear_seq(), or a retry); None if committed.

        cover / power_down say which logs the clear hides from the standard view: their
        baselines become their committed all-time totals now; the other baseline is carried from
        the clear before, so the newest clear alone holds both.
        """
        self._need_ready()
        if seq <= self.clear_total:
            return None
        if seq > self.next_clear_seq():
            raise ValueError("event-clear seq would leave a hole")
        if seq == self.clear_total + 1:
            prev_cover, prev_pd = self._index.baselines()
        else:
            prev_cover, prev_pd = self._issued_bases
        cover_total = self.cover_total
        pd_total = self.power_down_total
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
        )
        data = encode_page(rec)
        if seq > self._clear_issued:
            self._clear_issued = seq
            self._issued_bases = (rec.cover_base, rec.pd_base)
        return event_clear_addr(seq), data

    def report_status(self, seq, sends, flags, time_ms):
        """Write of cover-open record seq's report status; None if one is already committed
        (a report status is written once). The record must be in the ring."""
        self._need_ready()
        top = max(self.cover_total, self._cover_issued)
        if not (1 <= seq <= top) or seq <= top - RING:
            raise ValueError("report status of a cover record not in the ring")
        if self._index.report(seq) is not None:
            return None
        return report_addr(seq), encode_page(ReportStatus(seq, sends, flags, time_ms))

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
        data = encode_page(rec)
        if seq > self._freeze_issued:
            self._freeze_issued = seq
        return freeze_addr(seq), data

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
        return state_addr(copy), data

    def committed(self, addr, data):
        """The firmware reports that the write (addr, data) completed."""
        rec = decode_page(data)
        if rec is None or not self._index.apply(addr, rec):
            raise ValueError("not a journal page for this address")

    def _need_ready(self):
        if not self._ready:
            raise RuntimeError("Journal.recover() first")
