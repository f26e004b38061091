"""Power-cut harness for the journal, shared by pytest (CPython) and tests/mpy/run.py (MicroPython).

Only meterseal.firmware and plain Python: the EEPROM is injected (hardware.nvm.Eeprom on CPython,
fw_eeprom.StubEeprom under MicroPython). The expected records come from an independent model of
the workload (dicts of tuples), never from the journal itself.
"""

from meterseal.firmware.caltime import ms_from_civil
from meterseal.firmware.chain import NO_MAC, SoftSecurity, decode_seal, mac_input, read_link
from meterseal.firmware.image import decode_image
from meterseal.firmware.journal import Journal
from meterseal.firmware.records import (
    BOUNDED,
    DEFERRED,
    EXACT,
    FLAG_IN_OUTAGE,
    FLAG_RTC_VALID,
    FLAG_WATCH_ENDED,
    UNSYNCED,
    CoverOpen,
    DailyFreeze,
    SavedState,
)

RING = 10
FREEZE_KEEP = 62
PAGE = 64
SEAL_BASE = 188

# The record chain, when a test turns it on (use_chain): the security port, and whether the op
# being written runs "on backup" (its MAC not affordable: written late, sealed by a "seal" op).
CHAIN = [None]
ON_BACKUP = [False]


def use_chain(on):
    CHAIN[0] = SoftSecurity(b"\x11" * 16) if on else None


def _mac(data):
    return None if ON_BACKUP[0] else CHAIN[0].mac(data)


def new_journal(read):
    return Journal(read, _mac if CHAIN[0] is not None else None)
FREEZE_SLOTS = 63
DAY_MS = 86400000


class Lcg:
    """A tiny deterministic PRNG (MicroPython's random differs by port)."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 12345) & 0xFFFFFFFF

    def below(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


# --- the workload: realistic outage cycles -------------------------------------------------


CLEAR_ALL = 0xFFFFFFFF
CLEAR_COVER = 0x03300DFF
CLEAR_PD = 0x031100FF


def make_workload(min_records=24, seed=1):
    """Ops until both rings wrapped twice (>= min_records cover and power-down records), with an
    event clear every other cycle (so the clear ring wraps too).

    ("open", seq, quality, opened_ms, not_before, not_after, imp, exp)
    ("close", seq, quality, closed_ms, imp, exp)
    ("pd_start", seq, start_ms, quality) / ("pd_end", seq, end_ms, quality)
    ("save", import_mwh, export_mwh, cover_closed, known_ms, power_down_ms, flags, pd_seq)
    ("clear", seq, time_ms, quality, operator, di, clears_cover, clears_power_down,
     clears_terminal)
    ("freeze", seq, quality, time_ms, imp, exp)
    ("t_open", seq, ...) / ("t_close", seq, ...) as open / close, in the terminal cover's pages
    ("t_report", seq, sends, flags, time_ms): a terminal-cover record's report status

    Daily freezes come a few a cycle (more after an outage, as made up at restore) until their
    ring of 63 has wrapped too, when min_records asks for a full workload.
    """
    rnd = Lcg(seed)
    ops = []
    t = ms_from_civil(2026, 1, 1, 0, 0, 0)
    imp = 1234567
    exp = 890
    cseq = 0
    pseq = 0
    kseq = 0
    fseq = 0
    tseq = 0
    cycle = 0
    want_freezes = FREEZE_SLOTS + 3 if min_records >= 24 else min_records
    while cseq < min_records or pseq < min_records or fseq < want_freezes:
        cycle += 1
        fseq += 1
        ops.append(("freeze", fseq, EXACT, (t // DAY_MS + fseq) * DAY_MS, imp, exp))
        if cycle % 2 == 0:
            # an event clear on mains: of the cover log, the power-down log, or all of them
            kseq += 1
            t += 1000 + rnd.below(60000)
            di = (CLEAR_COVER, CLEAR_PD, CLEAR_ALL)[rnd.below(3)]
            op_code = 0x12345678 + kseq
            ops.append(
                ("clear", kseq, t, UNSYNCED if rnd.below(9) == 0 else EXACT, op_code, di,
                 di != CLEAR_PD, di != CLEAR_COVER, di == CLEAR_ALL)
            )
        # mains: energy grows; sometimes the cover is opened and closed under mains
        t += 60000 + rnd.below(7200000)
        imp += rnd.below(5000)
        exp += rnd.below(30)
        if rnd.below(3) == 0:
            cseq += 1
            ops.append(("open", cseq, EXACT, t, 0, 0, imp, exp))
            t += 1000 + rnd.below(600000)
            imp += rnd.below(50)
            ops.append(("close", cseq, EXACT, t, imp, exp))
        # the terminal cover opened and closed on mains every cycle (its ring wraps with the
        # cover's), its report status every third; times from the cycle's, so the draws above
        # and below stay those of the workload without it
        tseq += 1
        ops.append(("t_open", tseq, EXACT, t + 300, 0, 0, imp, exp))
        ops.append(("t_close", tseq, EXACT, t + 900, imp, exp))
        if cycle % 3 == 0:
            ops.append(("t_report", tseq, 3, 0, t + 950))
        if cycle % 9 == 4:
            # an opening whose closing the meter never learns of (it stays open in the ring)
            cseq += 1
            t += 5000
            ops.append(("open", cseq, EXACT, t, 0, 0, imp, exp))
        # outage
        pseq += 1
        t += 1000 + rnd.below(100000)
        down = t
        pd_q = UNSYNCED if rnd.below(7) == 0 else EXACT
        ops.append(("pd_start", pseq, down, pd_q))
        ops.append(
            ("save", imp * 10, exp * 10, 1, down, down, FLAG_IN_OUTAGE | FLAG_RTC_VALID, pseq)
        )
        what = rnd.below(4)
        t += 1000 + rnd.below(3600000)
        if what == 0:  # seen and written on backup, open and close
            cseq += 1
            ops.append(("open", cseq, DEFERRED, t, 0, 0, imp, exp))
            t += 1000 + rnd.below(600000)
            ops.append(("close", cseq, DEFERRED, t, imp, exp))
        elif what == 1:  # seen on backup; the closing happened while dormant
            cseq += 1
            ops.append(("open", cseq, EXACT, t, 0, 0, imp, exp))
        flags = FLAG_IN_OUTAGE | FLAG_WATCH_ENDED | FLAG_RTC_VALID
        watch_end = t + 1000
        ops.append(
            ("save", imp * 10, exp * 10, 1 if what != 1 else 0, watch_end, down, flags, pseq)
        )
        t += 60000 + rnd.below(36000000)
        restore = t
        ops.append(("pd_end", pseq, restore, EXACT))
        for _ in range(rnd.below(3)):
            fseq += 1
            ops.append(("freeze", fseq, DEFERRED, (t // DAY_MS + fseq) * DAY_MS, imp, exp))
        if what == 1:
            ops.append(("close", cseq, BOUNDED, restore, imp, exp))
        elif what == 2:  # opened while dormant, found open at restore, closed later on mains
            cseq += 1
            ops.append(("open", cseq, BOUNDED, restore, watch_end, restore, imp, exp))
            t += 2000 + rnd.below(60000)
            ops.append(("close", cseq, EXACT, t, imp, exp))
        ops.append(("save", imp * 10, exp * 10, 1, t, down, FLAG_RTC_VALID, 0))
    return ops


# --- the independent model -----------------------------------------------------------------


class Model:
    def __init__(self):
        self.covers = {}
        self.pds = {}
        self.clears = {}
        self.freezes = {}
        self.terminals = {}
        self.t_reports = {}
        self.state = None
        self.gen = 0

    def copy(self):
        m = Model()
        for k in self.terminals:
            m.terminals[k] = list(self.terminals[k])
        for k in self.t_reports:
            m.t_reports[k] = self.t_reports[k]
        for k in self.freezes:
            m.freezes[k] = self.freezes[k]
        for k in self.covers:
            m.covers[k] = list(self.covers[k])
        for k in self.pds:
            m.pds[k] = list(self.pds[k])
        for k in self.clears:
            m.clears[k] = self.clears[k]
        m.state = self.state
        m.gen = self.gen
        return m

    def bases(self):
        if not self.clears:
            return 0, 0, 0
        top = self.clears[max(self.clears)]
        return top[6], top[8], top[10]

    def apply(self, op):
        kind = op[0]
        if kind == "open":
            rec = list(op[1:8])
            rec.extend((False, 0, 0, 0, 0))
            self.covers[op[1]] = rec
        elif kind == "close":
            c = self.covers[op[1]]
            c[7] = True
            c[8] = op[2]
            c[9] = op[3]
            c[10] = op[4]
            c[11] = op[5]
        elif kind == "pd_start":
            self.pds[op[1]] = [op[1], op[2], op[3], 0, 0, False]
        elif kind == "pd_end":
            p = self.pds[op[1]]
            p[3] = op[2]
            p[4] = op[3]
            p[5] = True
        elif kind == "save":
            self.gen += 1
            st = list(op)
            st[0] = self.gen
            self.state = tuple(st)
        elif kind == "clear":
            ct = max(self.covers) if self.covers else 0
            pt = max(self.pds) if self.pds else 0
            tt = max(self.terminals) if self.terminals else 0
            cb, pb, tb = self.bases()
            cb = ct if op[6] else cb
            pb = pt if op[7] else pb
            if tt:  # the terminal-era page keeps bases, not the other logs' totals
                ct, pt = cb, pb
            self.clears[op[1]] = (
                op[1], op[2], op[3], op[4], op[5],
                ct, cb, pt, pb, tt, tt if op[8] else tb,
            )
        elif kind == "freeze":
            self.freezes[op[1]] = tuple(op[1:6])
        elif kind == "seal":
            pass  # a seal changes no record, only whether one verifies
        elif kind == "t_open":
            rec = list(op[1:8])
            rec.extend((False, 0, 0, 0, 0))
            self.terminals[op[1]] = rec
        elif kind == "t_close":
            c = self.terminals[op[1]]
            c[7] = True
            c[8] = op[2]
            c[9] = op[3]
            c[10] = op[4]
            c[11] = op[5]
        elif kind == "t_report":
            self.t_reports[op[1]] = tuple(op[1:5])
        else:
            raise ValueError(kind)

    def view(self):
        ct = max(self.covers) if self.covers else 0
        pt = max(self.pds) if self.pds else 0
        kt = max(self.clears) if self.clears else 0
        cl = [tuple(self.covers[s]) for s in range(ct, max(0, ct - RING), -1) if s in self.covers]
        pl = [tuple(self.pds[s]) for s in range(pt, max(0, pt - RING), -1) if s in self.pds]
        kl = [self.clears[s] for s in range(kt, max(0, kt - RING), -1) if s in self.clears]
        cb, pb, tb = self.bases()
        ft = max(self.freezes) if self.freezes else 0
        fl = [self.freezes[s] for s in range(ft, max(0, ft - FREEZE_KEEP), -1)
              if s in self.freezes]
        tt = max(self.terminals) if self.terminals else 0
        tl = [tuple(self.terminals[s]) for s in range(tt, max(0, tt - RING), -1)
              if s in self.terminals]
        tr = {s: self.t_reports[s] for s in range(tt, max(0, tt - RING), -1)
              if s in self.t_reports}
        return (ct, cl, pt, pl, self.state, kt, kl, cb, pb, ft, fl, tt, tl, tr, tb)


EMPTY_VIEW = (0, [], 0, [], None, 0, [], 0, 0, 0, [], 0, [], {}, 0)


def image_view(img):
    return (
        img.cover_total,
        [r.as_tuple() for r in img.cover],
        img.power_down_total,
        [r.as_tuple() for r in img.power_down],
        None if img.state is None else img.state.as_tuple(),
        img.clear_total,
        [r.as_tuple() for r in img.clears],
        img.cover_base,
        img.power_down_base,
        img.freeze_total,
        [r.as_tuple() for r in img.freezes],
        img.terminal_cover_total,
        [r.as_tuple() for r in img.terminal_cover],
        {s: r.as_tuple() for s, r in img.terminal_reports.items()},
        img.terminal_cover_base,
    )


# --- the firmware stand-in that drives the journal ----------------------------------------


def write_for(journal, op):
    """The one page write the journal asks for this op, or None (already committed)."""
    kind = op[0]
    # Every third closing is "seen on backup" with no energy for its MAC: written late.
    ON_BACKUP[0] = kind == "close" and op[1] % 3 == 0
    if kind == "seal":
        return journal.next_seal()
    if kind == "open":
        return journal.open_cover(CoverOpen(op[1], op[2], op[3], op[4], op[5], op[6], op[7]))
    if kind == "close":
        return journal.close_cover(op[1], op[2], op[3], op[4], op[5])
    if kind == "pd_start":
        return journal.power_down_start(op[1], op[2], op[3])
    if kind == "pd_end":
        return journal.power_down_end(op[1], op[2], op[3])
    if kind == "clear":
        return journal.event_clear(op[1], op[2], op[3], op[4], op[5], op[6], op[7], op[8])
    if kind == "freeze":
        return journal.daily_freeze(DailyFreeze(op[1], op[2], op[3], op[4], op[5]))
    if kind == "t_open":
        return journal.open_terminal(CoverOpen(op[1], op[2], op[3], op[4], op[5], op[6], op[7]))
    if kind == "t_close":
        return journal.close_terminal(op[1], op[2], op[3], op[4], op[5])
    if kind == "t_report":
        return journal.terminal_report_status(op[1], op[2], op[3], op[4])
    st = SavedState(0, op[1], op[2], op[3], op[4], op[5], op[6], op[7])
    return journal.save_state(st)


def perform(journal, eeprom, op):
    w = write_for(journal, op)
    if w is None:
        return False
    addr, data = w
    eeprom.begin_write(addr, data)
    eeprom.finish_write()
    journal.committed(addr, data)
    return True


def check_journal_matches(journal, eeprom, model):
    """The journal's RAM view, a fresh decode of the chip and the model agree."""
    want = model.view()
    got_ram = image_view(journal.image())
    assert got_ram == want, ("journal RAM view differs from model", got_ram, want)
    got_nvm = image_view(decode_image(eeprom.image()))
    assert got_nvm == want, ("NVM image differs from model", got_nvm, want)


class Stats:
    def __init__(self):
        self.cuts = 0
        self.before = 0
        self.after = 0
        self.ops = 0


def _counts(view):
    return view[0], view[2], view[5], view[11]


def _check_cut(eeprom, before, after, mode, where):
    """I4 and I5 after one cut: returns 'before' or 'after' (the state the NVM decodes to)."""
    got = image_view(decode_image(eeprom.image()))
    j = new_journal(eeprom.read)
    j.recover()
    assert image_view(j.image()) == got, ("recovered journal differs from decode", where)
    bv = before.view()
    av = after.view()
    if mode == "before":
        assert got == bv, ("cut before the write changed the NVM", where, got, bv)
    elif mode == "after":
        assert got == av, ("cut after the write lost it", where, got, av)
    else:
        assert got == bv or got == av, ("torn write decoded to a third state", where, got, bv, av)
    check_chain(eeprom.image(), where)
    # I4: totals equal the committed records and never go backwards
    bt = _counts(bv)
    gt = _counts(got)
    assert gt[0] >= bt[0] and gt[1] >= bt[1] and gt[2] >= bt[2] and gt[3] >= bt[3], (
        "a total went backwards", where)
    assert j.cover_total == gt[0] and j.power_down_total == gt[1] and j.clear_total == gt[2]
    assert j.terminal_total == gt[3]
    # a clear hides records from the standard view, never from the all-time one
    assert got[7] <= got[0] and got[8] <= got[2], ("a baseline above its total", where)
    assert got[14] <= got[11], ("the terminal baseline above its total", where)
    return j, ("before" if got == bv else "after")


def run_exhaustive(ops, new_eeprom, patterns, full_continue=True, tail=2, stats=None):
    """For every op: cut before its write, inside it with every pattern, and after it; check I4/I5;
    recover, redo the op and continue (to the end for the before/after cuts when full_continue,
    else `tail` ops; `tail` ops after every tear)."""
    if stats is None:
        stats = Stats()
    ee = new_eeprom(None)
    j = new_journal(ee.read)
    j.recover()
    model = Model()
    for i in range(len(ops)):
        op = ops[i]
        snap = ee.image()
        before = model.copy()
        after = model.copy()
        after.apply(op)
        w = write_for(j, op)
        assert w is not None, ("workload op produced no write", i, op)
        addr, data = w
        modes = [("before", None)]
        for p in patterns(len(data)):
            modes.append(("tear", p))
        modes.append(("after", None))
        for mode, pat in modes:
            e2 = new_eeprom(snap)
            e2.begin_write(addr, data)
            if mode == "before":
                e2.abort_write()
            elif mode == "after":
                e2.finish_write()
            else:
                e2.tear_write(pat)
            stats.cuts += 1
            where = (i, op, mode, pat)
            j2, side = _check_cut(e2, before, after, mode, where)
            if side == "before":
                stats.before += 1
                m2 = before.copy()
            else:
                stats.after += 1
                m2 = after.copy()
            # the firmware redoes the op: a committed one must ask for no write
            did = perform(j2, e2, op)
            if side == "after" and op[0] != "save":
                assert not did, ("redo rewrote a committed page", where)
            if did:
                m2.apply(op)
            elif op[0] == "seal":
                # A seal changes no view: a tear that wrote it whole leaves nothing to redo.
                assert check_chain(e2.image(), where)[1] == 0, ("a late page left unsealed", where)
            elif side == "before":
                raise AssertionError(("redo of an uncommitted op wrote nothing", where))
            check_journal_matches(j2, e2, m2)
            last = len(ops) if (full_continue and mode != "tear") else min(len(ops), i + 1 + tail)
            for k in range(i + 1, last):
                assert perform(j2, e2, ops[k])
                m2.apply(ops[k])
                stats.ops += 1
            check_journal_matches(j2, e2, m2)
        # the uninterrupted run goes on
        ee.begin_write(addr, data)
        ee.finish_write()
        j.committed(addr, data)
        model = after
        check_journal_matches(j, ee, model)
        stats.ops += 1
    return stats, model


def run_random_cuts(ops, new_eeprom, random_pattern, seed, cuts):
    """Repeated cuts in one life: run the workload, cutting at random ops (also during redo);
    after each, recover and go on. Returns the number of cuts made."""
    rnd = Lcg(seed)
    ee = new_eeprom(None)
    j = new_journal(ee.read)
    j.recover()
    model = Model()
    i = 0
    made = 0
    while i < len(ops):
        op = ops[i]
        w = write_for(j, op)
        if w is None:
            # committed by the write cut "after" last time: skip (saves always write)
            i += 1
            continue
        addr, data = w
        ee.begin_write(addr, data)
        if made < cuts and rnd.below(2) == 0:
            before = model.copy()
            after = model.copy()
            after.apply(op)
            how = rnd.below(3)
            mode = ("before", "tear", "after")[how]
            if how == 0:
                ee.abort_write()
            elif how == 1:
                ee.tear_write(random_pattern(rnd.below(1 << 30), len(data)))
            else:
                ee.finish_write()
            made += 1
            j, side = _check_cut(ee, before, after, mode, (i, op, mode, made))
            model = after if side == "after" else before
            if side == "after":
                i += 1
            continue
        ee.finish_write()
        j.committed(addr, data)
        model.apply(op)
        i += 1
    check_journal_matches(j, ee, model)
    return made


def with_seals(ops):
    """The workload with a seal op after each closing written late (the restore that seals)."""
    out = []
    for op in ops:
        out.append(op)
        if op[0] == "close" and op[1] % 3 == 0:
            out.append(("seal",))
    return out


def check_chain(image, where=None):
    """Every chained page of the image verifies under the key, and the chain links where both
    ends are held: what a reader with the key checks. Returns (sealed, late) page counts."""
    if CHAIN[0] is None:
        return 0, 0
    links = {}
    for page in range(2, 188):
        link = read_link(page, image[page * PAGE:(page + 1) * PAGE])
        if link is not None:
            links[link.chain_seq] = link
    macs = {}
    late = 0
    for seq in links:
        link = links[seq]
        prev, mac = link.prev_mac, link.mac
        if link.late():
            a = (SEAL_BASE + link.page - 2) * PAGE
            seal = decode_seal(image[a:a + PAGE])
            if seal is None or seal[1] != seq:
                late += 1
                continue
            prev, mac = seal[2], seal[3]
        assert CHAIN[0].mac(mac_input(link.page, link.head, prev)) == mac, ("bad MAC", seq, where)
        if seq == 1:
            assert prev == NO_MAC, ("first link", where)
        macs[seq] = (prev, mac)
    for seq in macs:
        if seq - 1 in macs:
            assert macs[seq][0] == macs[seq - 1][1], ("chain broken", seq, where)
    return len(macs), late
