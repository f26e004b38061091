"""The cover-open recorder: the firmware's event handlers, driven by the board or the simulator.

It owns the recording behaviour of DESIGN.md (power states, debounce, energy budget, pending
records, reconciliation) and reaches the board only through the ports of hal.py. It must not
know the simulator, the physics model or any protocol; it must run unchanged under MicroPython.

Rules it keeps:
- a record goes to retained RAM (pending, under a CRC) before its NVM write starts, and leaves it
  only once the write is committed, so a cut inside the write cannot lose it where retained RAM
  survives;
- on backup, a write starts if the budget covers it, or is tried where it is refused but its
  pulse leaves the MCU safe (power_path.attempt_source), the record staying pending until the
  write is acknowledged; a radio report only after its record is committed and only if the
  watch keeps its own reserve afterwards;
- the watch ends while its last write is still affordable, and the instant it ended is stored:
  that is the exact `not_before` of anything reconciled at the next power-up.

Its whole state, the power state and the secondary states beside it, is declared in states.py
with its rules; what a power state allows is read from there, never from a comparison here.

The Recorder keeps the event entry points (the handlers), the power-state steps of a restore,
the hold-up watch, the power-down judging and the daily freeze. The rest of what it does runs on
its state as mixins, one concern each: the meter cover's changes (cover.py), the terminal
cover's (terminal.py), the queue of page writes (writequeue.py), the active reports
(activereport.py).
"""

from meterseal.firmware import states as st
from meterseal.firmware.activereport import ActiveReport
from meterseal.firmware.config import WAKE_POLLING
from meterseal.firmware.cover import CoverWatch
from meterseal.firmware.debounce import Debouncer
from meterseal.firmware.freeze import missed_midnights, next_midnight
from meterseal.firmware.journal import Journal
from meterseal.firmware.pending import CLOSE as KIND_CLOSE
from meterseal.firmware.pending import COVER, decode_pending
from meterseal.firmware.power_path import SRC_MCU, PowerPath
from meterseal.firmware.records import (
    DEFERRED,
    EXACT,
    FLAG_IN_OUTAGE,
    MWH_PER_UNIT,
    UNSYNCED,
    DailyFreeze,
)
from meterseal.firmware.terminal import TerminalChannel, TerminalWatch, report_key
from meterseal.firmware.writequeue import WriteQueue
from meterseal.firmware.writes import (
    W_CLOSE,
    W_OPEN,
    W_OPEN_REC,
    W_PD_END,
    W_PD_START,
    FreezeWrite,
)

T_SAMPLE = 0  # mains-time sampling of the switch, periodic, fast-forwardable
T_POLL = 1  # hold-up polling wake, periodic, fast-forwardable
T_DEBOUNCE = 2  # hold-up debounce burst after an edge or a changed poll
T_REPORT = 3  # the gap before a report's next send
T_FREEZE = 4  # the next local midnight, on mains: the daily freeze
T_PD_JUDGE = 5  # the power-down debounce after a power-fail trip
T_SUPPLY = 6  # the supply time a power-down must follow, counted from mains' return
T_RAIL = 7  # the last instant after a power-fail trip a page write still ends on the DC rail


class Recorder(CoverWatch, TerminalWatch, WriteQueue, ActiveReport):
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
        self.write_on = SRC_MCU  # the source the write being encoded will run on
        if getattr(board, "security", None) is not None:
            self.journal.set_mac(self._record_mac)
        self.deb = Debouncer(1, cfg.debounce_samples)
        # The terminal cover's switch, where the board has one (terminal.py).
        port = getattr(board, "terminal", None)
        self.term = None if port is None else TerminalChannel(port, cfg.debounce_samples)
        self.queue = []  # Write, oldest first
        self.writing = None  # the Write in progress
        self.radio_busy = False
        self.reports = []  # seqs waiting for the radio
        # Reports of records a tried write committed on backup (writequeue._attempt_source):
        # where backup cannot afford them they wait for mains, as they would have with the
        # record waiting in retained RAM, instead of being marked not sent.
        self.owed = []
        self.tried = False  # the write in progress is one the budget refused, tried
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
        # After a power-fail trip the bulk capacitor still holds the DC rail up: a page write
        # that ends before the rail's design hold-up does costs the backup nothing, so the
        # watch's budget does not apply to it (writequeue._write_budgeted).
        self.rail_held = False

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
            # A change waiting there was seen, only not journalled: the state page claims the
            # level before it (known up to the change), and the header may have been saved
            # before the change's instant was taken. Left at the older level, a tamper latch
            # of the same opening would file it a second time.
            for e in ret[0]:
                if e.channel == COVER and e.time_ms >= self.known_ms:
                    stable = 1 if e.kind == KIND_CLOSE else 0
                    self.known_ms = e.time_ms
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
        if timer_id == T_RAIL:
            self.rail_held = False
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
        room_us = self.cfg.rail_holdup_us - int(self.cfg.nvm_write_s * 1000000)
        if room_us > 0:
            # The watch may be armed (the power-down saved) well before the rail falls: a
            # change it sees meanwhile is written on the bulk capacitor's energy, whatever the
            # backup could afford.
            self.rail_held = True
            b.timers.start(T_RAIL, room_us, 0, False)
        self.known_ms = self._known_until(now)
        self._queue_state(now, valid)
        self._pump()

    def on_power_good(self):
        if not st.acts(st.H_POWER_GOOD, self.state):
            return
        b = self.b
        self.state = st.next_state(self.state, st.EV_POWER_GOOD)
        self.nvm_fails = 0
        self.path.set_alarm(None)
        self._arm_wake(False)
        b.timers.stop(T_POLL)
        b.timers.stop(T_DEBOUNCE)
        b.timers.stop(T_RAIL)
        self.rail_held = False
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
        self.path.alarm_v = None  # the comparator disarms itself when it fires
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
        tried = self.tried
        self.tried = False
        self.path.unmask_alarm()
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
                key = report_key(entry.channel, entry.seq)
                self.reports.append(key)
                if tried:
                    self.owed.append(key)
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
        self.tried = False
        self.path.unmask_alarm()
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

    # ----------------------------------------------------------------- restore

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

    def _start_debounce_burst(self):
        b = self.b
        if self.state not in st.BUDGETED_IN or self.watch not in st.WATCHING:
            return
        self._arm_wake(False)
        self._sample()
        b.timers.start(T_DEBOUNCE, self.cfg.sample_period_us, self.cfg.sample_period_us, False)

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
        self.path.set_alarm(None)
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

    # ----------------------------------------------------------------- power-down judging

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

    # ----------------------------------------------------------------- registers and daily freeze

    def _registers(self):
        imp, exp = self.b.metering.read()
        return (
            (self.base_import_mwh + imp) // MWH_PER_UNIT,
            (self.base_export_mwh + exp) // MWH_PER_UNIT,
        )

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
