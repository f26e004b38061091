"""The cover-open recorder: the firmware's event handlers, driven by the board or the simulator.

It owns the recording behaviour of DESIGN.md (power states, debounce, energy budget, pending
records, reconciliation) and reaches the board only through the ports of hal.py. It must not
know the simulator, the physics model or any protocol; it must run unchanged under MicroPython.

Rules it keeps:
- a record goes to retained RAM (pending, under a CRC) before its NVM write starts, and leaves it
  only once the write is committed, so a cut inside the write cannot lose it where retained RAM
  survives;
- on backup, a write starts only if the budget covers it; a radio report only after its record is
  committed and only if the watch keeps its own reserve afterwards;
- the watch ends while its last write is still affordable, and the instant it ended is stored:
  that is the exact `not_before` of anything reconciled at the next power-up.

Its whole state, the power state and the secondary states beside it, is declared in states.py
with its rules; what a power state allows is read from there, never from a comparison here.
"""

from meterseal.firmware import states as st
from meterseal.firmware.config import WAKE_POLLING
from meterseal.firmware.debounce import Debouncer
from meterseal.firmware.freeze import missed_midnights, next_midnight
from meterseal.firmware.journal import Journal
from meterseal.firmware.layout import RING
from meterseal.firmware.pending import CLOSE as KIND_CLOSE
from meterseal.firmware.pending import (
    COVER,
    MAX_ENTRIES,
    TERMINAL,
    PendingEntry,
    decode_pending,
    encode_pending,
)
from meterseal.firmware.pending import OPEN as KIND_OPEN
from meterseal.firmware.power_path import SRC_NONE, SRC_SUPERCAP, PowerPath
from meterseal.firmware.records import (
    DEFERRED,
    EXACT,
    FLAG_IN_OUTAGE,
    FLAG_RTC_VALID,
    FLAG_WATCH_ENDED,
    MWH_PER_UNIT,
    REPORT_CUT_SHORT,
    REPORT_NOT_SENT,
    REPORT_ON_BACKUP,
    UNSYNCED,
    CoverOpen,
    DailyFreeze,
    SavedState,
)
from meterseal.firmware.report import (
    REPORT_COVER_OPEN,
    REPORT_TERMINAL_COVER_OPEN,
    encode_report,
)
from meterseal.firmware.terminal import TerminalChannel, TerminalWatch, report_key
from meterseal.firmware.writes import (
    W_CLOSE,
    W_CLOSE_REC,
    W_FREEZE,
    W_OPEN,
    W_OPEN_REC,
    W_PD_END,
    W_PD_START,
    W_REPORT,
    W_STATE,
    EntryWrite,
    FreezeWrite,
    PowerDownWrite,
    ReportWrite,
    StateWrite,
    carries,
    reconciled_write,
)

T_SAMPLE = 0  # mains-time sampling of the switch, periodic, fast-forwardable
T_POLL = 1  # hold-up polling wake, periodic, fast-forwardable
T_DEBOUNCE = 2  # hold-up debounce burst after an edge or a changed poll
T_REPORT = 3  # the gap before a report's next send
T_FREEZE = 4  # the next local midnight, on mains: the daily freeze
T_PD_JUDGE = 5  # the power-down debounce after a power-fail trip
T_SUPPLY = 6  # the supply time a power-down must follow, counted from mains' return

# Page writes that fail in a row (the NVM's supply sagged below its minimum) before the firmware
# stops trying until the power state changes: the budget misjudged this supply, and retrying at
# once would only spend what is left on writes that cannot program.
MAX_NVM_FAILS = 3


class Recorder(TerminalWatch):
    def __init__(self, board, cfg):
        self.b = board
        self.cfg = cfg
        self.path = PowerPath(cfg, board.supply)
        self.budget = self.path.budget
        self.assisting = False  # the supercapacitor is switched in for the write in progress
        self.sends_left = 0  # sends still due of the report in progress
        self.report = None  # [seq, sends planned, sends done, flags] of the report in progress
        self.state = st.DORMANT
        self.journal = Journal(board.nvm.read)
        self.deb = Debouncer(1, cfg.debounce_samples)
        # The terminal cover's switch, where the board has one (terminal.py).
        port = getattr(board, "terminal", None)
        self.term = None if port is None else TerminalChannel(port, cfg.debounce_samples)
        self.queue = []  # Write, oldest first
        self.writing = None  # the Write in progress
        self.radio_busy = False
        self.reports = []  # seqs waiting for the radio
        self.pending = []  # PendingEntry, mirrored in retained RAM
        self.base_import_mwh = 0
        self.base_export_mwh = 0
        self.open_seq = 0  # the cover-open record not yet closed
        self.next_cover_seq = 1
        self.pd_seq = 0
        self.known_ms = 0  # last instant the stable cover state was known
        # The secondary states; their meaning and rules are in states.py.
        self.watch = st.WATCH_FULL
        self.reconciling = False
        # When retained RAM fills, it keeps what was known then, so power-up reconciles from
        # there: a bounded record, not a false one.
        self.frozen = None  # or (cover level, known_ms)
        self.shutdown_after_write = False
        self.retained_ok = False  # sampled when the watch is armed: retained RAM outlives the MCU
        self.pd_start_ms = 0
        self.nvm_fails = 0  # page writes failed in a row
        self.freeze_due_ms = 0  # the midnight the freeze timer waits for (0: not armed)
        self.frozen_to_ms = -1  # the newest midnight frozen or queued (-1: none yet)
        # Power-down judging: counted on timers, not on the RTC, which a clock setting moves.
        self.supplied = False  # mains has been there for PD_MIN_SUPPLY_US since it came
        self.pd_judging = None  # (fail ms, valid) of a power-fail trip being debounced

    # ----------------------------------------------------------------- handlers (board calls)

    def boot(self):
        b = self.b
        mains = b.supply.mains()
        self.state = st.next_state(self.state, st.EV_BOOT_MAINS if mains else st.EV_BOOT_BACKUP)
        self.journal.recover()
        now, valid = b.clock.read()
        last = self.journal.last_freeze()
        self.frozen_to_ms = -1 if last is None else last.time_ms
        self.freeze_due_ms = 0
        saved = self.journal.state
        self.next_cover_seq = self.journal.next_cover_seq()
        if saved is None:
            # A new meter: the cover left the factory closed, the registers at zero. When it was
            # last known closed, the meter cannot say (this may not be its first power-up: an
            # earlier one may have died before saving anything), so a change found before the
            # first reconciliation is bounded from the codec's first instant, not from now.
            stable, self.known_ms = 1, 0
        else:
            self.base_import_mwh = saved.import_mwh
            self.base_export_mwh = saved.export_mwh
            stable, self.known_ms = saved.cover_closed, saved.known_ms
            self.pd_start_ms = saved.power_down_ms
            self.pd_seq = saved.pd_seq if saved.flags & FLAG_IN_OUTAGE else 0
        newest = self.journal.covers()
        self.open_seq = newest[0].seq if newest and not newest[0].closed else 0
        if newest:
            # Every change of the cover is journalled before anything else is saved, so the
            # newest record says what the meter last knew, even if the state page is older.
            top = newest[0]
            rec_level = 1 if top.closed else 0
            rec_ms = top.closed_ms if top.closed else top.opened_ms
            if saved is None or saved.cover_closed != rec_level:
                stable, self.known_ms = rec_level, rec_ms
            else:
                self.known_ms = max(self.known_ms, rec_ms)
        ret = decode_pending(b.retained.read())
        ret_flags = None  # retained RAM's header flags, when it is newer than the NVM
        if ret is not None:
            ret_known_ms, ret_closed = ret[1], ret[2]
            if ret_known_ms >= self.known_ms:
                stable, self.known_ms = ret_closed, ret_known_ms
                ret_flags = ret[3]
        self._terminal_boot(saved, ret_flags)
        if ret is not None:
            for e in ret[0]:
                self._adopt_pending(e)
        latched = b.cover.take_latch()
        if latched is not None and stable == 1:
            # The battery-domain tamper input saw the cover leave while the MCU was off. That is
            # now the newest thing the meter knows: the debouncer and retained RAM's header must
            # say "open" before the record is filed, or a cut inside its write leaves a header
            # that reconciles the next power-up against "closed".
            stable = 0
            self.known_ms = latched
            self.deb = Debouncer(stable, self.cfg.debounce_samples)
            self._seen_open(latched, valid, DEFERRED)
        if saved is None:
            self._queue_state(now, valid)
        self.deb = Debouncer(stable, self.cfg.debounce_samples)
        self.reconciling = True
        self._set_bias(True)
        b.timers.start(T_SAMPLE, self.cfg.sample_period_us, self.cfg.sample_period_us, True)
        if mains:
            self._count_supply()
        self._pump()

    def on_timer(self, timer_id):
        """Returns True when nothing is in progress (the board may skip idle ticks)."""
        if not st.acts(st.H_TIMER, self.state):
            return True
        if timer_id == T_DEBOUNCE:
            self._sample()
            if not self._busy():
                self.b.timers.stop(T_DEBOUNCE)
                if self.cfg.wake_mode != WAKE_POLLING:
                    self._arm_wake(True)
            return False
        if timer_id == T_POLL:
            if self._moved():
                self._start_debounce_burst()
                return False
            return True
        if timer_id == T_REPORT:
            self._send_again()
            return False
        if timer_id == T_FREEZE:
            self._freeze_due()
            return True
        if timer_id == T_SUPPLY:
            self.supplied = True
            return True
        if timer_id == T_PD_JUDGE:
            self._power_down_judged()
            return False
        if timer_id == T_SAMPLE:
            self._sample()
            if self.reconciling and not self._busy():
                self._reconciled()
            return not self._busy() and not self.reconciling
        return True

    def on_cover_edge(self):
        if st.acts(st.H_COVER_EDGE, self.state):
            self._start_debounce_burst()

    def on_power_fail(self):
        if not st.acts(st.H_POWER_FAIL, self.state):
            return  # already on the way down, or booted on backup and watching
        b = self.b
        self.state = st.next_state(self.state, st.EV_POWER_FAIL)
        self.nvm_fails = 0  # another supply now: writes may program again
        b.timers.stop(T_FREEZE)
        self.freeze_due_ms = 0
        now, valid = b.clock.read()
        # Keep sampling on the bulk capacitor's energy: the window can hold an opening.
        b.timers.stop(T_SUPPLY)
        if self.supplied:
            self.pd_judging = (now, valid)
            b.timers.start(T_PD_JUDGE, self.cfg.PD_DEBOUNCE_US, 0, False)
        self.supplied = False
        self.known_ms = self._known_until(now)
        self._queue_state(now, valid)
        self._pump()

    def on_power_good(self):
        if not st.acts(st.H_POWER_GOOD, self.state):
            return
        b = self.b
        self.state = st.next_state(self.state, st.EV_POWER_GOOD)
        self.nvm_fails = 0
        b.supply.set_alarm(None)
        self._arm_wake(False)
        b.timers.stop(T_POLL)
        b.timers.stop(T_DEBOUNCE)
        self.watch = st.next_watch(self.watch, st.WEV_MAINS)
        self.shutdown_after_write = False  # mains is back before the watch's last write ended
        if self.pd_judging is not None:
            # A flicker shorter than the power-down debounce: no power-down.
            b.timers.stop(T_PD_JUDGE)
            self.pd_judging = None
        self._count_supply()
        self.path.rest()
        self.assisting = False
        now, valid = b.clock.read()
        for e in self.pending:
            if not self._queued_entry(e):
                self._queue_entry(e, DEFERRED)
        if self.pd_seq:
            self._queue_power_down(W_PD_END, now, valid)
            self.pd_seq = 0
        # The first sample at once: a debounce under way across the outage must not wait a
        # period more, or its first agreeing sample (the stamp) comes up to two periods late.
        b.timers.start(T_SAMPLE, 0, self.cfg.sample_period_us, True)
        if self.frozen is not None:
            # Changes after retained RAM filled were seen but not kept: reconcile from the
            # last state that was kept, as after a power-up.
            level, self.known_ms = self.frozen
            self.frozen = None
            self.deb = Debouncer(level, self.cfg.debounce_samples)
            self._terminal_thaw()
            self.reconciling = True
            self._pump()
            return
        # The MCU watched throughout: nothing to reconcile beyond what the debouncer holds.
        self.state = st.next_state(self.state, st.EV_RECONCILED)
        self._queue_state(now, valid)
        self._freezes_on_mains(now, valid)
        self._pump()

    def on_supply_alarm(self):
        if not st.acts(st.H_SUPPLY_ALARM, self.state):
            return
        if self.watch == st.WATCH_BATTERY and self._battery_handover():
            return
        self.retained_ok = self.cfg.has_battery_domain and self.b.retained.battery_backed()
        alarm = st.WEV_ALARM_KEPT if self.retained_ok else st.WEV_ALARM_LOST
        self.watch = st.next_watch(self.watch, alarm)
        if self.watch == st.WATCH_PENDING and self.path.pending_alarm():
            # Writes are no longer affordable; retained RAM will carry records from here on.
            return
        if self.watch == st.WATCH_PENDING:
            self.watch = st.next_watch(self.watch, alarm)  # already at the pending floor
        self._end_watch()

    def on_nvm_done(self):
        item = self.writing
        self.writing = None
        if item is None:
            return
        kind = item.kind
        self.nvm_fails = 0
        if self.assisting:
            self.assisting = False
            self.path.end_assist()
        self.journal.committed(item.addr, item.data)
        if kind == W_OPEN_REC and self.cfg.radio_present:
            self.reports.append(report_key(item.channel, item.record.seq))
            self.b.eventout.set(1)  # the status word's cover bit is set: tell the module
        if kind in (W_OPEN, W_CLOSE):
            entry = item.entry
            if entry in self.pending:
                self.pending.remove(entry)
                self._save_retained()
            if kind == W_OPEN and self.cfg.radio_present:
                self.reports.append(report_key(entry.channel, entry.seq))
                self.b.eventout.set(1)
        if self.shutdown_after_write and self.writing is None and not self.queue:
            self._shutdown()
            return
        self._pump()
        if self.shutdown_after_write and self.writing is None:
            self._shutdown()  # what is left cannot be afforded: the watch's last act is done

    def on_nvm_failed(self):
        """The NVM did not program the page (its supply fell below the chip's minimum during the
        write): the journal is read back as it really is and the write is tried again, when the
        budget allows."""
        item = self.writing
        self.writing = None
        if item is None:
            return
        if self.assisting:
            self.assisting = False
            self.path.end_assist()
        self.journal.recover()
        self.queue.insert(0, item)
        self.nvm_fails += 1
        self._pump()
        if self.shutdown_after_write and self.writing is None:
            self._shutdown()  # the watch's last write cannot be afforded again: it has ended

    def on_radio_done(self):
        self.radio_busy = False
        if self.report is not None:
            self.report[2] += 1
            if not self.sends_left:
                self._report_done()
        if self.sends_left and st.acts(st.H_TIMER, self.state):
            # Field practice: the same report again, a gap later, until its sends are done.
            self.b.timers.start(T_REPORT, self.cfg.radio_gap_us, 0, False)
            return
        self._pump()

    # ----------------------------------------------------------------- cover

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

    def _start_debounce_burst(self):
        b = self.b
        if self.state not in st.BUDGETED_IN or self.watch not in st.WATCHING:
            return
        self._arm_wake(False)
        self._sample()
        b.timers.start(T_DEBOUNCE, self.cfg.sample_period_us, self.cfg.sample_period_us, False)

    def _registers(self):
        imp, exp = self.b.metering.read()
        return (
            (self.base_import_mwh + imp) // MWH_PER_UNIT,
            (self.base_export_mwh + exp) // MWH_PER_UNIT,
        )

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
        if self.state in st.BUDGETED_IN and not self._write_affordable():
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

    def _reconciled(self):
        self.reconciling = False
        if not st.has_transition(self.state, st.EV_RECONCILED):
            # Mains fell again while restoring: the power-fail path has taken over and waited
            # for this before arming the watch.
            self._pump()
            return
        b = self.b
        now, valid = b.clock.read()
        if b.supply.mains():
            if self.pd_seq:
                self._queue_power_down(W_PD_END, now, valid)
                self.pd_seq = 0
            self._unreported_on_restore(now)
            self.state = st.next_state(self.state, st.EV_RECONCILED)
            self.known_ms = now
            self._queue_state(now, valid)
            self._freezes_on_mains(now, valid)
            self._pump()
        else:
            self.state = st.next_state(self.state, st.EV_NO_MAINS)
            self._arm_watch()

    # ----------------------------------------------------------------- hold-up watch

    def _arm_watch(self):
        b = self.b
        cfg = self.cfg
        b.timers.stop(T_SAMPLE)
        self.retained_ok = cfg.has_battery_domain and b.retained.battery_backed()
        if self.path.battery_usable():
            self.watch = st.next_watch(self.watch, st.WEV_ARM_BATTERY)
            self.path.arm_on_battery()
        else:
            self.watch = st.next_watch(self.watch, st.WEV_ARM)
            self.path.arm_on_supercap(self.retained_ok)
        if cfg.wake_mode == WAKE_POLLING:
            b.timers.start(T_POLL, cfg.poll_period_us, cfg.poll_period_us, True)
        else:
            self._arm_wake(True)
        if self._moved():
            self._start_debounce_burst()

    def _battery_handover(self):
        """The battery reached its undervoltage level: the supercapacitor takes the watch over
        if it can; else the battery goes on to its last write's level; else, where retained RAM
        outlives the MCU, to its last wake with the records pending. False when none can (the
        watch ends)."""
        path = self.path
        self.retained_ok = self.cfg.has_battery_domain and self.b.retained.battery_backed()
        if path.supercap_can_watch(self.retained_ok):
            self.watch = st.next_watch(self.watch, st.WEV_TO_SUPERCAP)
            path.arm_on_supercap(self.retained_ok)
            self.nvm_fails = 0
            return True
        if path.battery_to_its_end():
            self.watch = st.next_watch(self.watch, st.WEV_BATTERY_LOW)
            return True
        if self.retained_ok and path.pending_alarm():
            # No write is affordable any more, but retained RAM outlives the MCU: watch on
            # with the records waiting there, to the battery's last wake.
            self.watch = st.next_watch(self.watch, st.WEV_ALARM_KEPT)
            return True
        return False

    def _known_until(self, now):
        """The last instant the stable cover state is known to have held: now, unless a change
        is being debounced (then when it began), or a power-up has not yet reconciled (then
        what the meter knew before it was off)."""
        if self.reconciling:
            return self.known_ms
        return self._known_at(now)

    def _end_watch(self):
        b = self.b
        now, valid = b.clock.read()
        b.supply.set_alarm(None)
        self._arm_wake(False)
        b.timers.stop(T_POLL)
        b.timers.stop(T_DEBOUNCE)
        self.known_ms = self._known_until(now)
        self._save_retained()
        if self.retained_ok and self.writing is None:
            self._shutdown()
            return
        if self.retained_ok:
            # A page write under way ends first: powering off would tear it, and a reconciled
            # record it carries waits in no retained entry (retained RAM already says "open").
            self.shutdown_after_write = True
            return
        # Retained RAM dies with the MCU: what waits there goes to the NVM now if it can.
        for e in self.pending:
            if not self._queued_entry(e):
                self._queue_entry(e, DEFERRED)
        self._queue_state(now, valid)
        self.shutdown_after_write = True
        if self.writing is None:
            self._pump()
            if self.writing is None:
                self._shutdown()

    def _shutdown(self):
        self.state = st.next_state(self.state, st.EV_WATCH_END)
        self._set_bias(False)
        self.b.power.shutdown()

    # ----------------------------------------------------------------- writes and reports

    def _write_affordable(self):
        if self.nvm_fails >= MAX_NVM_FAILS:
            return False
        return self.path.write_source(self.state in st.BUDGETED_IN) != SRC_NONE

    def _count_supply(self):
        self.supplied = False
        self.b.timers.start(T_SUPPLY, self.cfg.PD_MIN_SUPPLY_US, 0, False)

    def _power_down_judged(self):
        """The power-fail condition lasted the debounce: a power-down, dated from the trip."""
        if self.pd_judging is None or self.b.supply.mains():
            return
        fail_ms, fail_valid = self.pd_judging
        self.pd_judging = None
        now, valid = self.b.clock.read()
        self.pd_seq = self.journal.power_down_total + 1
        self._queue_power_down(W_PD_START, fail_ms, fail_valid)
        self._queue_state(now, valid)  # the state page says so: a restore will end it
        self._pump()

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
        budgeted = self.state in st.BUDGETED_IN
        while self.queue:
            item = self.queue.pop(0)
            source = self.path.write_source(budgeted)
            if self.nvm_fails >= MAX_NVM_FAILS:
                source = SRC_NONE  # this supply cannot program the NVM: wait for another
            if source == SRC_NONE:
                # Nothing is dropped: a reconciled record lives only here. What waits is written
                # when energy returns, so what was seen is no longer written at once.
                self.queue.insert(0, item)
                for q in self.queue:
                    if q.kind == W_OPEN or q.kind == W_CLOSE:
                        if q.quality == EXACT:
                            q.quality = DEFERRED
                return
            write = self._encode(item)
            if write is None:
                continue
            item.addr, item.data = write
            self.writing = item
            if source == SRC_SUPERCAP:
                self.assisting = True
                self.path.begin_assist()
            self.b.nvm.write(item.addr, item.data)
            return
        if not self.reconciling and st.has_transition(self.state, st.EV_SAVED):
            if self._busy():
                # A change under debounce is finished on the bulk capacitor's energy too: the
                # watch may have no source that can afford its record (no battery, an empty
                # supercapacitor). _sample pumps again when the debounce settles.
                return
            # A power-up's reconciliation is finished on the bulk capacitor's energy first.
            self.state = st.next_state(self.state, st.EV_SAVED)
            self._arm_watch()
            return
        self._send_report()

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

    def _send_report(self):
        if (not self.reports or self.radio_busy or self.sends_left
                or self.state not in st.REPORTS_IN):
            return
        if not self._report_affordable():
            # Not affordable: the records are safe, their reports are dropped — and say so.
            now, _valid = self.b.clock.read()
            for seq in self.reports:
                self._queue_report_status(seq, 0, REPORT_NOT_SENT, now)
            self.reports = []
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

    # ----------------------------------------------------------------- daily freeze

    def _freezes_on_mains(self, now, valid):
        """On mains again: make up the midnights missed since the newest freeze (only with a
        clock that can be trusted: the registers did not move while the meter was off), then
        wait for the next one."""
        if valid and self.frozen_to_ms >= 0:
            for midnight in missed_midnights(self.frozen_to_ms, now):
                self._queue_freeze(midnight, DEFERRED)
        self._arm_freeze(now)

    def _arm_freeze(self, now):
        self.freeze_due_ms = next_midnight(now)
        self.b.timers.start(T_FREEZE, (self.freeze_due_ms - now) * 1000, 0, False)

    def _freeze_due(self):
        if self.state not in st.FREEZES_IN or not self.freeze_due_ms:
            return
        now, valid = self.b.clock.read()
        due = self.freeze_due_ms
        if now < due:
            # The timer runs on the MCU's clock, the midnight is the RTC's: wait out the rest.
            self.b.timers.start(T_FREEZE, (due - now) * 1000, 0, False)
            return
        self._queue_freeze(due, EXACT if valid else UNSYNCED)
        self._arm_freeze(now)
        self._pump()

    def _queue_freeze(self, midnight_ms, quality):
        if midnight_ms <= self.frozen_to_ms:
            return  # already frozen or queued (the clock was set back)
        imp, exp = self._registers()
        self.frozen_to_ms = midnight_ms
        self.queue.append(FreezeWrite(DailyFreeze(0, quality, midnight_ms, imp, exp)))

    def _save_retained(self):
        flags = FLAG_WATCH_ENDED if self.watch == st.WATCH_ENDED else 0
        flags |= self._terminal_flags(False)
        level, known_ms = self.frozen or (self.deb.stable, self.known_ms)
        self.b.retained.write(encode_pending(self.pending, known_ms, level, flags))
