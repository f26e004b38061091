"""The terminal cover: a second key switch the recorder watches beside the meter cover's.

Owns what is the terminal cover's own: its debounced switch, the record it has open, the seq its
next record takes, and how its changes become records (seen, reconciled, adopted from retained
RAM). Everything else is shared with the meter cover and stays the recorder's: one wake-up, one
debounce burst that samples both switches, one backup budget, one write queue, one retained-RAM
block (each entry says whose it is), one state page (its flags say whether the terminal cover
was open). Its records go to their own pages (layout.py) and are counted on their own.

TerminalWatch is a mixin of Recorder: its methods run on the recorder's state. A board without
a terminal cover hands the firmware no terminal port; the recorder then has no channel and every
method here does nothing. MicroPython-safe: plain classes.
"""

from meterseal.firmware.debounce import Debouncer
from meterseal.firmware.pending import CLOSE, OPEN, TERMINAL, PendingEntry
from meterseal.firmware.records import (
    EXACT,
    FLAG_TERMINAL_OPEN,
    REPORT_NOT_SENT,
)
from meterseal.firmware.writes import reconciled_write


class TerminalChannel:
    """The terminal cover's switch as the firmware knows it."""

    __slots__ = ("deb", "frozen", "known_ms", "next_seq", "open_seq", "port")

    def __init__(self, port, debounce_samples):
        self.port = port
        self.deb = Debouncer(1, debounce_samples)
        self.open_seq = 0  # the terminal-cover record not yet closed
        self.next_seq = 1
        # The terminal cover's level when retained RAM filled (set and cleared with the
        # recorder's `frozen`), or None.
        self.frozen = None
        # While the recorder reconciles: the last instant the terminal cover's level was known
        # (the not_before of its reconciled record). The meter cover's own reconciliation moves
        # the recorder's known_ms on, so the terminal cover keeps the instant it started from.
        self.known_ms = 0


def report_key(channel, seq):
    """How a record waits for the radio: a cover record as its seq, a terminal one as -seq."""
    return -seq if channel == TERMINAL else seq


class TerminalWatch:
    """The recorder's terminal-cover handlers (a mixin: `self` is the Recorder)."""

    def _terminal_boot(self, saved, ret_flags):
        """The terminal cover as the meter last knew it: the state page, overridden by the
        newest terminal record (journalled before anything else is saved), overridden by
        retained RAM's header (ret_flags; None unless it is newer than both)."""
        t = self.term
        if t is None:
            return
        j = self.journal
        t.next_seq = j.next_terminal_seq()
        level = 0 if saved is not None and saved.flags & FLAG_TERMINAL_OPEN else 1
        newest = j.terminals()
        t.open_seq = newest[0].seq if newest and not newest[0].closed else 0
        if newest:
            rec_level = 1 if newest[0].closed else 0
            if saved is None or rec_level != level:
                level = rec_level
        if ret_flags is not None:
            level = 0 if ret_flags & FLAG_TERMINAL_OPEN else 1
        t.deb = Debouncer(level, self.cfg.debounce_samples)
        t.frozen = None
        t.known_ms = self.known_ms

    def _terminal_level(self):
        """The terminal cover's level as retained RAM and the state page may claim it."""
        t = self.term
        if t is None:
            return 1
        if t.frozen is not None:
            return t.frozen
        return t.deb.stable

    def _terminal_flags(self, journalled):
        """FLAG_TERMINAL_OPEN when the terminal cover is open, as kept (journalled: only what
        the NVM holds, i.e. as before its first change still waiting in retained RAM)."""
        level = self._terminal_level()
        if journalled:
            for e in self.pending:
                if e.channel == TERMINAL:
                    level = 1 if e.kind == OPEN else 0
                    break
        return 0 if level else FLAG_TERMINAL_OPEN

    def _terminal_sample(self, now, valid):
        t = self.term
        if t is None:
            return
        level = t.port.read()
        if not t.deb.feed(level, now, valid):
            return
        t_ms, t_valid = t.deb.since_ms, t.deb.since_valid
        if self.reconciling:
            self._terminal_reconcile(level, now, valid)
        else:
            self._terminal_seen(level, t_ms, t_valid, EXACT)
            self.known_ms = self._known_at(t_ms)

    def _terminal_seen(self, level, t_ms, valid, quality):
        t = self.term
        if level == 0:
            if self._retained_full(TERMINAL):
                return
            seq = t.next_seq
            t.next_seq += 1
            t.open_seq = seq
            kind = OPEN
        else:
            if not t.open_seq or self._retained_full(TERMINAL):
                return
            seq = t.open_seq
            t.open_seq = 0
            kind = CLOSE
        imp, exp = self._registers()
        self._add_pending(PendingEntry(kind, t_ms, 1 if valid else 0, imp, exp, seq, TERMINAL),
                          quality)

    def _terminal_reconcile(self, level, now, valid):
        """As _reconcile_change, for the terminal cover."""
        t = self.term
        imp, exp = self._registers()
        if level == 0:
            seq = t.next_seq
            t.next_seq += 1
            t.open_seq = seq
        elif not t.open_seq:
            return
        self.queue.append(reconciled_write(level, now, valid, imp, exp, t.open_seq, t.known_ms,
                                           TERMINAL))
        if level == 1:
            t.open_seq = 0
        self._pump()

    def _terminal_adopt(self, e):
        """A terminal entry the previous life could not commit: False if it already is."""
        t = self.term
        j = self.journal
        if e.kind == OPEN:
            if j.terminal(e.seq) is not None:
                return False
            if t is not None:
                if e.seq >= t.next_seq:
                    t.next_seq = e.seq + 1
                t.open_seq = e.seq
            return True
        rec = j.terminal(e.seq)
        if rec is not None and rec.closed:
            return False
        if t is not None and t.open_seq == e.seq:
            t.open_seq = 0
        return True

    def _terminal_freeze(self, changed):
        """Retained RAM just filled: keep the terminal cover's level as it was before a change
        now being dropped (changed: the terminal cover's own change is the one dropped)."""
        t = self.term
        if t is not None and t.frozen is None:
            t.frozen = 1 - t.deb.stable if changed else t.deb.stable

    def _terminal_thaw(self):
        """Mains is back after retained RAM filled: the terminal cover is settled afresh from
        the level that was kept. True if it had been frozen."""
        t = self.term
        if t is None or t.frozen is None:
            return False
        t.deb = Debouncer(t.frozen, self.cfg.debounce_samples)
        t.frozen = None
        t.known_ms = self.known_ms
        return True

    def _terminal_unreported(self, now):
        for rec in self.journal.terminals():
            key = report_key(TERMINAL, rec.seq)
            if not self.journal.terminal_reported(rec.seq) and key not in self.reports and (
                    self.report is None or self.report[0] != key):
                self._queue_report_status(key, 0, REPORT_NOT_SENT, now)

    # --- both switches ----------------------------------------------------------------

    def _busy(self):
        """A change of either switch is being debounced."""
        t = self.term
        return self.deb.busy() or (t is not None and t.deb.busy())

    def _moved(self):
        """Either switch reads other than its stable level, or is being debounced."""
        t = self.term
        if self.b.cover.read() != self.deb.stable or self.deb.busy():
            return True
        return t is not None and (t.port.read() != t.deb.stable or t.deb.busy())

    def _known_at(self, t_ms):
        """t_ms, or earlier while a change of either switch is still being debounced: the last
        instant both switches' stable levels are known to have held."""
        if self.deb.busy():
            t_ms = min(t_ms, self.deb.since_ms)
        t = self.term
        if t is not None and t.deb.busy():
            t_ms = min(t_ms, t.deb.since_ms)
        if t is not None and self.reconciling:
            t_ms = min(t_ms, t.known_ms)  # nothing known of it since it was last watched
        return t_ms

    def _arm_wake(self, enabled):
        self.b.cover.arm_wake(enabled)
        if self.term is not None:
            self.term.port.arm_wake(enabled)

    def _set_bias(self, enabled):
        self.b.cover.set_bias(enabled)
        if self.term is not None:
            self.term.port.set_bias(enabled)
