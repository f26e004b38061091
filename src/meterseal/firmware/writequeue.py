"""The recorder's queue of page writes: what is queued, when it is issued, how it is encoded.

Owns the order of the NVM writes the recorder decides on (a record before its report status,
the saved state last, on mains the seals of pages written without their MAC first), when the
next one may start (the NVM is free, the power state runs the MCU, and on backup the budget
covers it on some source, or it may be tried there), the page bytes each becomes through the
Journal, and what the state page may claim while records still wait in retained RAM. The shapes
of the queued writes are in writes.py. It does not decide what is recorded (the handlers,
cover.py, terminal.py) nor when a report goes out (activereport.py).

WriteQueue is a mixin of Recorder: its methods run on the recorder's state. MicroPython-safe:
a plain class.
"""

from meterseal.firmware import states as st
from meterseal.firmware.layout import RING
from meterseal.firmware.pending import COVER, TERMINAL
from meterseal.firmware.pending import OPEN as KIND_OPEN
from meterseal.firmware.power_path import SRC_NONE, SRC_SUPERCAP
from meterseal.firmware.records import (
    DEFERRED,
    EXACT,
    FLAG_IN_OUTAGE,
    FLAG_RTC_VALID,
    FLAG_WATCH_ENDED,
    UNSYNCED,
    CoverOpen,
    SavedState,
)
from meterseal.firmware.writes import (
    W_CLOSE,
    W_CLOSE_REC,
    W_FREEZE,
    W_OPEN,
    W_OPEN_REC,
    W_PD_END,
    W_PD_START,
    W_REPORT,
    W_SEAL,
    W_STATE,
    EntryWrite,
    PowerDownWrite,
    SealWrite,
    StateWrite,
    carries,
)

# Page writes that fail in a row (the NVM's supply sagged below its minimum) before the firmware
# stops trying until the power state changes: the budget misjudged this supply, and retrying at
# once would only spend what is left on writes that cannot program.
MAX_NVM_FAILS = 3


class WriteQueue:
    """The recorder's page writes (a mixin: `self` is the Recorder)."""

    def _write_budgeted(self):
        """Is a page write started now held to the backup's budget? In the states that budget
        writes, unless it ends on the DC rail's hold-up after the power-fail trip."""
        return self.state in st.BUDGETED_IN and not self.rail_held

    def _write_affordable(self):
        if self.nvm_fails >= MAX_NVM_FAILS:
            return False
        return self.path.write_source(self._write_budgeted()) != SRC_NONE

    def _attempt_source(self):
        """On backup, where the budget refuses a write: the source it may still be tried on
        (PowerPath.attempt_source), or SRC_NONE. Any queued page may be tried: the journal
        hands out none that could harm a committed one when torn (a record's slot in its ring
        is the one it overwrites in any case, the saved state alternates between two copies).
        A write that fails keeps its record pending, and after MAX_NVM_FAILS in a row nothing
        more is tried on this supply."""
        if self.nvm_fails >= MAX_NVM_FAILS or self.state not in st.BUDGETED_IN:
            return SRC_NONE
        return self.path.attempt_source()

    def _queue_power_down(self, kind, now, valid):
        self.queue.append(PowerDownWrite(kind, self.pd_seq, now, EXACT if valid else UNSYNCED))

    def _queue_entry(self, entry, quality):
        self.queue.append(EntryWrite(entry, quality))

    def _queued_entry(self, entry):
        if carries(self.writing, entry):
            return True
        for item in self.queue:
            if carries(item, entry):
                return True
        return False

    def _queue_state(self, now, valid):
        # The saved state is written only as the last thing queued: drop older queued copies.
        self.queue = [q for q in self.queue if q.kind != W_STATE]
        self.queue.append(StateWrite(valid))

    def _pump(self):
        # Records never wait for a report: the radio burst runs beside the write, and the ADC
        # reading under its load already counts its ESR drop.
        if self.writing is not None or self.state not in st.RUNS_IN:
            return
        budgeted = self._write_budgeted()
        if self.state not in st.BUDGETED_IN:
            self._queue_seal()
        while self.queue:
            item = self.queue.pop(0)
            source = self.path.write_source(budgeted)
            if self.nvm_fails >= MAX_NVM_FAILS:
                source = SRC_NONE  # this supply cannot program the NVM: wait for another
            tried = False
            if source == SRC_NONE and budgeted:
                source = self._attempt_source()
                tried = source != SRC_NONE
            if source == SRC_NONE:
                # Nothing is dropped: a reconciled record lives only here. What waits is written
                # when energy returns, so what was seen is no longer written at once.
                self.queue.insert(0, item)
                for q in self.queue:
                    if q.kind == W_OPEN or q.kind == W_CLOSE:
                        if q.quality == EXACT:
                            q.quality = DEFERRED
                if not budgeted and self._may_arm_watch() and self._watch_could_write():
                    # The power-fail window writes on the bulk capacitor's energy; writes that
                    # no longer program say it is spent, and the window's mains-rate sampling
                    # drains the backup under every retry. Where the watch's budget covers a
                    # write or lets one be tried, the watch takes over and writes what waits.
                    # Where it does neither, the watch would end at once and what waits in
                    # retained RAM would die with the MCU: the window holds on instead.
                    self._enter_watch()
                    self._pump()
                return
            self.write_on = source
            write = self._encode(item)
            if write is None:
                continue
            item.addr, item.data = write
            self.writing = item
            self.tried = tried
            if source == SRC_SUPERCAP:
                self.assisting = True
                self.path.begin_assist()
            if budgeted:
                self.path.mask_alarm()
            self.b.nvm.write(item.addr, item.data)
            return
        if not self.reconciling and st.has_transition(self.state, st.EV_SAVED):
            if self._busy():
                # A change under debounce is finished on the bulk capacitor's energy too: the
                # watch may have no source that can afford its record (no battery, an empty
                # supercapacitor). _sample pumps again when the debounce settles.
                return
            # A power-up's reconciliation is finished on the bulk capacitor's energy first.
            self._enter_watch()
            return
        self._send_report()

    def _may_arm_watch(self):
        """In the power-fail window, with no reconciliation or debounce left to finish on the
        bulk capacitor's energy (_sample pumps again when a debounce settles)."""
        return (not self.reconciling and st.has_transition(self.state, st.EV_SAVED)
                and not self._busy())

    def _watch_could_write(self):
        """Would the watch's budget cover a page write now, or let one be tried?"""
        path = self.path
        return path.write_source(True) != SRC_NONE or path.attempt_source() != SRC_NONE

    def _enter_watch(self):
        self.state = st.next_state(self.state, st.EV_SAVED)
        # Another supply from here on: the watch's budget, without the window's mains-rate
        # sampling. Writes that failed in the window may program again.
        self.nvm_fails = 0
        self._arm_watch()

    def _encode(self, item):
        """The one page write for a queue item, or None if it is already committed."""
        j = self.journal
        kind = item.kind
        if kind == W_OPEN or kind == W_CLOSE:
            e = item.entry
            quality = item.quality if e.rtc_valid else UNSYNCED
            if e.channel == TERMINAL:
                if kind == W_OPEN:
                    return j.open_terminal(
                        CoverOpen(e.seq, quality, e.time_ms, 0, 0, e.import_units,
                                  e.export_units))
                return j.close_terminal(e.seq, quality, e.time_ms, e.import_units,
                                        e.export_units)
            if kind == W_OPEN:
                return j.open_cover(
                    CoverOpen(e.seq, quality, e.time_ms, 0, 0, e.import_units, e.export_units)
                )
            return j.close_cover(e.seq, quality, e.time_ms, e.import_units, e.export_units)
        if kind == W_OPEN_REC:
            if item.channel == TERMINAL:
                return j.open_terminal(item.record)
            return j.open_cover(item.record)
        if kind == W_CLOSE_REC:
            if item.channel == TERMINAL:
                return j.close_terminal(item.seq, item.quality, item.time_ms,
                                        item.import_units, item.export_units)
            return j.close_cover(
                item.seq, item.quality, item.time_ms, item.import_units, item.export_units
            )
        if kind == W_PD_START:
            self.pd_start_ms = item.time_ms
            return j.power_down_start(item.seq, item.time_ms, item.quality)
        if kind == W_PD_END:
            return j.power_down_end(item.seq, item.time_ms, item.quality)
        if kind == W_SEAL:
            return j.next_seal()
        if kind == W_FREEZE:
            rec = item.record
            if not rec.seq:
                rec.seq = j.next_freeze_seq()
            return j.daily_freeze(rec)
        if kind == W_REPORT:
            if item.channel == TERMINAL:
                if item.seq <= j.terminal_total - RING:
                    return None
                return j.terminal_report_status(item.seq, item.sends, item.flags, item.time_ms)
            if item.seq <= j.cover_total - RING:
                return None  # the record has left the ring: its status has nowhere to go
            return j.report_status(item.seq, item.sends, item.flags, item.time_ms)
        valid = item.rtc_valid
        imp, exp = self.b.metering.read()
        flags = 0
        if self.pd_seq:
            flags |= FLAG_IN_OUTAGE
        if self.watch == st.WATCH_ENDED:
            flags |= FLAG_WATCH_ENDED
        if valid:
            flags |= FLAG_RTC_VALID
        flags |= self._terminal_flags(True)
        # The state page may only claim what the journal holds: while changes wait in retained
        # RAM, the cover was last journalled as it was before the first of them.
        level, known_ms = self.frozen or (self.deb.stable, self.known_ms)
        if self.pending:
            known_ms = self.pending[0].time_ms
        for first in self.pending:
            if first.channel == COVER:
                level = 1 if first.kind == KIND_OPEN else 0
                break
        state = SavedState(
            0,
            self.base_import_mwh + imp,
            self.base_export_mwh + exp,
            level,
            known_ms,
            self.pd_start_ms if self.pd_seq else 0,
            flags,
            self.pd_seq,
        )
        return j.save_state(state)

    def _record_mac(self, data):
        """The journal's MAC of a record page: from the security module when the budget covers
        its current beside the write; else None (the page goes out late, sealed at restore)."""
        if not self.path.mac_affordable(self.state in st.BUDGETED_IN, self.write_on):
            return None
        return self.b.security.mac(data)

    def _queue_seal(self):
        """On mains, pages written on backup without their MAC get it first, in chain order."""
        if not self.journal.needs_seal():
            return
        if self.writing is not None and self.writing.kind == W_SEAL:
            return
        for q in self.queue:
            if q.kind == W_SEAL:
                return
        self.queue.insert(0, SealWrite())
