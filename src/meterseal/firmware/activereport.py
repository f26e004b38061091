"""The recorder's active reports: a committed record's report over the radio, and its outcome.

Owns when a report may go out (after its record is committed, in a power state that reports,
and on backup only if the watch keeps its own reserve afterwards), its sends a gap apart until
they are done or the supply stops them, and the status it leaves in the NVM (sent, cut short,
or not sent at all, marked at the next restore for a report that never went out). It does not
know the report's frame beyond encode_report (report.py), nor how the status page is written
(writequeue.py).

ActiveReport is a mixin of Recorder: its methods run on the recorder's state. MicroPython-safe:
a plain class.
"""

from meterseal.firmware import states as st
from meterseal.firmware.pending import COVER, TERMINAL
from meterseal.firmware.records import REPORT_CUT_SHORT, REPORT_NOT_SENT, REPORT_ON_BACKUP
from meterseal.firmware.report import (
    REPORT_COVER_OPEN,
    REPORT_TERMINAL_COVER_OPEN,
    encode_report,
)
from meterseal.firmware.writes import ReportWrite


class ActiveReport:
    """The recorder's active reports (a mixin: `self` is the Recorder)."""

    def _send_report(self):
        if (not self.reports or self.radio_busy or self.sends_left
                or self.state not in st.REPORTS_IN):
            return
        if not self._report_affordable():
            # Not affordable: the records are safe, their reports are dropped — and say so;
            # but those a tried write committed wait for mains (see Recorder.owed).
            now, _valid = self.b.clock.read()
            dropped = [seq for seq in self.reports if seq not in self.owed]
            self.reports = [seq for seq in self.reports if seq in self.owed]
            for seq in dropped:
                self._queue_report_status(seq, 0, REPORT_NOT_SENT, now)
            if dropped:
                self._pump()
            return
        planned = max(1, self.cfg.radio_sends)
        flags = REPORT_ON_BACKUP if self.state in st.BUDGETED_IN else 0
        self.report = [self.reports[0], planned, 0, flags]
        self.sends_left = planned
        self._send_again()

    def _report_done(self):
        """The report in progress is over (every send made, or the supply stopped it): its
        status goes to the NVM, like any record, through the budget."""
        seq, planned, done, flags = self.report
        self.report = None
        if seq in self.owed:
            self.owed.remove(seq)
        if done and not self.reports:
            self.b.eventout.set(0)  # the module has read the status word and forwarded it
        if done < planned:
            flags |= REPORT_CUT_SHORT
        if not done:
            flags |= REPORT_NOT_SENT
        now, _valid = self.b.clock.read()
        self._queue_report_status(seq, done, flags, now)

    def _queue_report_status(self, key, sends, flags, now):
        channel = TERMINAL if key < 0 else COVER
        self.queue.append(ReportWrite(abs(key), sends, flags, now, channel))

    def _unreported_on_restore(self, now):
        """Records whose report never went out (its status write was not affordable, or the
        MCU died first) are marked so when mains is back."""
        if not self.cfg.radio_present:
            return
        for rec in self.journal.covers():
            if not self.journal.reported(rec.seq) and rec.seq not in self.reports and (
                    self.report is None or self.report[0] != rec.seq):
                self._queue_report_status(rec.seq, 0, REPORT_NOT_SENT, now)
        self._terminal_unreported(now)

    def _report_affordable(self):
        budgeted = self.state in st.BUDGETED_IN
        return self.path.report_affordable(budgeted, self.watch != st.WATCH_PENDING
                                           and self.watch != st.WATCH_ENDED)

    def _send_again(self):
        """One send of the report at the head of the queue; the report is done when its sends
        are (a send the supply cannot afford any more ends it early)."""
        if not self.reports or self.state not in st.REPORTS_IN or not self._report_affordable():
            self.sends_left = 0
            self.reports = self.reports[1:]
            if self.report is not None:
                self._report_done()
            self._pump()
            return
        self.sends_left -= 1
        key = self.reports[0]
        if not self.sends_left:
            self.reports.pop(0)
        self.radio_busy = True
        kind = REPORT_TERMINAL_COVER_OPEN if key < 0 else REPORT_COVER_OPEN
        self.b.radio.send(encode_report(kind, abs(key)))
