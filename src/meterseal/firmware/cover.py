"""The meter cover: how its switch's changes become records.

Owns what happens to a change of the meter cover once the debouncer settles on it: seen while
the MCU watches (a record, exact on mains; on backup through retained RAM, deferred when its
write must wait), reconciled after a time the meter did not watch (a bounded record from the
last instant known), or adopted from retained RAM at power-up (committed as deferred); and the
retained-RAM block that mirrors the pending records. It does not decide when the switches are
sampled (the recorder's timers, the hold-up watch's wake-ups), nor how a queued write is issued
(writequeue.py); the terminal cover's own changes are terminal.py's.

CoverWatch is a mixin of Recorder: its methods run on the recorder's state. MicroPython-safe:
a plain class.
"""

from meterseal.firmware import states as st
from meterseal.firmware.pending import CLOSE as KIND_CLOSE
from meterseal.firmware.pending import (
    COVER,
    MAX_ENTRIES,
    TERMINAL,
    PendingEntry,
    encode_pending,
)
from meterseal.firmware.pending import OPEN as KIND_OPEN
from meterseal.firmware.power_path import SRC_NONE
from meterseal.firmware.records import DEFERRED, EXACT, FLAG_WATCH_ENDED
from meterseal.firmware.writes import reconciled_write


class CoverWatch:
    """The recorder's meter-cover handling (a mixin: `self` is the Recorder)."""

    def _sample(self):
        b = self.b
        level = b.cover.read()
        now, valid = b.clock.read()
        if self.deb.feed(level, now, valid):
            t_ms, t_valid = self.deb.since_ms, self.deb.since_valid
            if self.reconciling:
                self._reconcile_change(level, now, valid)
            elif level == 0:
                self._seen_open(t_ms, t_valid, EXACT)
            else:
                self._seen_close(t_ms, t_valid, EXACT)
            self.known_ms = self._known_at(t_ms)
        self._terminal_sample(now, valid)
        if not self._busy() and st.has_transition(self.state, st.EV_SAVED):
            self._pump()  # the power-fail window waited for this debounce to settle

    def _retained_full(self, channel=COVER):
        if self.state not in st.BUDGETED_IN or self._write_affordable():
            return False
        if len(self.pending) < MAX_ENTRIES:
            return False
        if self.frozen is None:
            own = channel == COVER
            self.frozen = (1 - self.deb.stable if own else self.deb.stable, self.known_ms)
            self._terminal_freeze(not own)
        return True

    def _seen_open(self, t_ms, valid, quality):
        if self._retained_full():
            return
        imp, exp = self._registers()
        seq = self.next_cover_seq
        self.next_cover_seq += 1
        entry = PendingEntry(KIND_OPEN, t_ms, 1 if valid else 0, imp, exp, seq)
        self.open_seq = seq
        self._add_pending(entry, quality)

    def _seen_close(self, t_ms, valid, quality):
        if not self.open_seq or self._retained_full():
            return
        imp, exp = self._registers()
        entry = PendingEntry(KIND_CLOSE, t_ms, 1 if valid else 0, imp, exp, self.open_seq)
        self.open_seq = 0
        self._add_pending(entry, quality)

    def _add_pending(self, entry, quality):
        self.pending.append(entry)
        self._save_retained()
        if self.state in st.BUDGETED_IN and not self._write_affordable() and (
                self._attempt_source() == SRC_NONE):
            return  # stays pending: committed as deferred when energy returns
        # Records a sag left pending (their write dropped from the queue) go first, as
        # deferred: a close must never land before its open, nor a record before an older one.
        for e in self.pending[:-1]:
            if not self._queued_entry(e):
                self._queue_entry(e, DEFERRED)
        self._queue_entry(entry, quality)
        self._pump()

    def _adopt_pending(self, e):
        """A record the previous life saw but could not commit: commit it now, as deferred."""
        if e.channel == TERMINAL:
            if self._terminal_adopt(e):
                self.pending.append(e)
                self._queue_entry(e, DEFERRED)
            return
        if e.kind == KIND_OPEN:
            if self.journal.cover(e.seq) is not None:
                return
            if e.seq >= self.next_cover_seq:
                self.next_cover_seq = e.seq + 1
            self.open_seq = e.seq
        else:
            rec = self.journal.cover(e.seq)
            if rec is not None and rec.closed:
                return
            if self.open_seq == e.seq:
                self.open_seq = 0
        self.pending.append(e)
        self._queue_entry(e, DEFERRED)

    def _reconcile_change(self, level, now, valid):
        """The switch, debounced at power-up, differs from the last state the meter knew.

        Nothing here goes through retained RAM: if power fails before the write commits, the
        next power-up finds the same difference and reconciles it again, with the same
        not_before."""
        imp, exp = self._registers()
        if level == 0:
            seq = self.next_cover_seq
            self.next_cover_seq += 1
            self.open_seq = seq
        elif not self.open_seq:
            return
        self.queue.append(reconciled_write(level, now, valid, imp, exp, self.open_seq,
                                           self.known_ms, COVER))
        if level == 1:
            self.open_seq = 0
        self._pump()

    def _save_retained(self):
        flags = FLAG_WATCH_ENDED if self.watch == st.WATCH_ENDED else 0
        flags |= self._terminal_flags(False)
        level, known_ms = self.frozen or (self.deb.stable, self.known_ms)
        self.b.retained.write(encode_pending(self.pending, known_ms, level, flags))
