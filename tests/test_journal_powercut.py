"""I4/I5 for the journal, exhaustively: a workload that wraps both rings twice, with power cut
before, inside (every tear pattern: prefix k for every k, all-0xFF, all-0x00, random, mixed) and
after every single page write; after each cut the image is decoded and a fresh Journal
recovered, and the state must be the one before or after that write, with the totals equal to
the records committed. Then the firmware redoes the op and the workload continues.

Writes are counted by the emulated chip itself (Eeprom.writes_begun, and power_loss_at for the
one a cut lands in), as in littlefs' test runner; the shared harness (fw_powercut) also runs
under MicroPython, on a stub chip without that counter, so it keeps its own loop."""

import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "mpy"))

from fw_powercut import (
    CLEAR_COVER,
    EMPTY_VIEW,
    Model,
    check_chain,
    check_journal_matches,
    image_view,
    make_workload,
    perform,
    run_exhaustive,
    run_random_cuts,
    use_chain,
    with_seals,
    write_for,
)

from meterseal.firmware.image import decode_image
from meterseal.firmware.journal import Journal
from meterseal.firmware.layout import FREEZE_KEEP, FREEZE_SLOTS, PAGE_SIZE, SLOTS
from meterseal.firmware.records import EXACT, CoverOpen, SavedState
from meterseal.hardware.nvm import Eeprom, Tear, tear_patterns


def new_eeprom(image):
    return Eeprom(image=image)


def all_patterns(n):
    return tear_patterns(n, randoms=3, seed=n)


def test_workload_is_long_enough():
    ops = make_workload()
    assert sum(1 for op in ops if op[0] == "open") >= 2 * SLOTS + 1
    assert sum(1 for op in ops if op[0] == "pd_start") >= 2 * SLOTS + 1
    # some records stay open in the ring, some are closed with bounded time
    m = Model()
    for op in ops:
        m.apply(op)
    assert any(not c[7] for c in m.covers.values())
    # the terminal cover's ring wraps twice too, and some of its records carry a report status
    assert sum(1 for op in ops if op[0] == "t_open") >= 2 * SLOTS + 1
    assert any(op[0] == "t_report" for op in ops)


def writes_of(ops):
    """Page writes the workload makes, as the chip counts them."""
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    for op in ops:
        perform(j, ee, op)
    return ee.writes_begun


def test_i4_i5_every_write_every_tear_pattern():
    ops = make_workload()
    stats, model = run_exhaustive(ops, new_eeprom, all_patterns, full_continue=True, tail=2)
    writes = writes_of(ops)
    assert writes == len(ops)  # one page write per op
    assert stats.cuts >= writes * (2 + 17 + 8)  # before, after, >=17 prefixes, fills, randoms
    assert stats.before > 0 and stats.after > 0
    ct, covers, pt, pds, state, kt, clears, _cb, _pb, ft, freezes, tt, terms, _tr, tb = (
        model.view())
    assert 0 < tb < tt  # a clear of every log hid terminal records too
    assert tt == max(op[1] for op in ops if op[0] == "t_open") and len(terms) == 10
    assert ct == max(op[1] for op in ops if op[0] == "open")
    assert pt == max(op[1] for op in ops if op[0] == "pd_start")
    assert kt == max(op[1] for op in ops if op[0] == "clear") >= 12
    assert len(covers) == 10 and len(pds) == 10 and len(clears) == 10 and state is not None
    # The freeze ring (63 slots, 62 kept) has wrapped too.
    assert ft == max(op[1] for op in ops if op[0] == "freeze") > FREEZE_SLOTS
    assert len(freezes) == FREEZE_KEEP


def _tear_for(n, size):
    """A tear pattern chosen by the write number: a prefix, both fills, mixed bytes, and every
    byte programmed (power died as the cycle ended), in turn."""
    return (Tear("prefix", k=n % (size + 1)), Tear("fill", value=0xFF), Tear("fill", value=0x00),
            Tear("mixed", seed=n), Tear("prefix", k=size))[n % 5]


def _life_with_power_loss_at(ops, n):
    """Run the workload on a chip that loses power inside write n; after the loss, recover,
    redo the op and go on to the end. Returns the state the torn write left ("before" or
    "after"), or None when the workload has fewer than n writes."""
    ee = Eeprom(power_loss_at=n)
    j = Journal(ee.read)
    j.recover()
    model = Model()
    side = None
    for i, op in enumerate(ops):
        addr, data = write_for(j, op)
        ee.begin_write(addr, data)
        if not ee.loses_power():
            ee.finish_write()
            j.committed(addr, data)
            model.apply(op)
            continue
        ee.tear_write(_tear_for(n, len(data)))
        after = model.copy()
        after.apply(op)
        got = image_view(decode_image(ee.image()))
        assert got in (model.view(), after.view()), ("torn write decoded to a third state", n, i)
        j = Journal(ee.read)
        j.recover()
        side = "after" if got == after.view() else "before"
        if side == "after":
            model = after
        else:
            assert perform(j, ee, op), ("redo of an uncommitted op wrote nothing", n, i)
            model.apply(op)
    check_journal_matches(j, ee, model)
    return side


def test_power_lost_inside_each_write_in_turn():
    """littlefs' reentrant loop: write 1, 2, 3, ... is the one power is lost in, until a run
    ends without reaching the chosen write: then every write of the workload has been cut."""
    ops = make_workload(min_records=12, seed=3)
    sides = []
    while (side := _life_with_power_loss_at(ops, len(sides) + 1)) is not None:
        sides.append(side)
    assert len(sides) == writes_of(ops)
    assert "before" in sides and "after" in sides


@pytest.mark.parametrize("seed", range(6))
def test_repeated_cuts_in_one_life(seed):
    ops = make_workload(min_records=24, seed=seed + 100)

    def pattern(s, n):
        return random.Random(s).choice(
            [Tear("prefix", k=s % (n + 1)), Tear("fill", value=0xFF), Tear("mixed", seed=s)]
        )

    assert run_random_cuts(ops, new_eeprom, pattern, seed=seed, cuts=60) == 60


def test_torn_write_never_shows_in_ram_until_committed():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    addr, data = j.open_cover(CoverOpen(1, EXACT, 1000, 0, 0, 5, 6))
    assert j.cover_total == 0 and j.next_cover_seq() == 2
    ee.begin_write(addr, data)
    ee.finish_write()
    assert j.cover_total == 0  # written but not yet reported
    j.committed(addr, data)
    assert j.cover_total == 1 and j.cover(1).import_before == 5


def test_redo_of_committed_ops_writes_nothing():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    ops = make_workload(min_records=3)
    for op in ops:
        perform(j, ee, op)
    for op in ops:
        if op[0] != "save":
            assert write_for(j, op) is None, op


def test_journal_refuses_holes_and_out_of_ring_closes():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    with pytest.raises(ValueError):
        j.open_cover(CoverOpen(2, EXACT, 0))
    with pytest.raises(ValueError):
        j.close_cover(1, EXACT, 0, 0, 0)
    with pytest.raises(ValueError):
        j.power_down_end(1, 0, EXACT)
    for seq in range(1, 13):
        perform(j, ee, ("open", seq, EXACT, seq * 1000, 0, 0, 0, 0))
    with pytest.raises(ValueError):
        j.close_cover(2, EXACT, 0, 0, 0)  # left the ring
    assert j.close_cover(3, EXACT, 99000, 1, 1) is not None
    with pytest.raises(RuntimeError):
        Journal(ee.read).open_cover(CoverOpen(13, EXACT, 0))


def test_state_alternates_and_survives_a_torn_save():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    addrs = []
    for i in range(4):
        st = SavedState(import_mwh=i)
        addr, data = j.save_state(st)
        assert st.gen == i + 1
        addrs.append(addr)
        ee.write(addr, data)
        j.committed(addr, data)
    assert addrs == [0, PAGE_SIZE, 0, PAGE_SIZE]
    addr, data = j.save_state(SavedState(import_mwh=99))
    ee.begin_write(addr, data)
    ee.tear_write(Tear("fill", value=0x00))
    j2 = Journal(ee.read)
    j2.recover()
    assert j2.state.gen == 4 and j2.state.import_mwh == 3
    addr2, data2 = j2.save_state(SavedState(import_mwh=99))
    assert addr2 == addr  # the torn copy is rewritten; the latest good one is left alone
    ee.write(addr2, data2)
    j2.committed(addr2, data2)
    assert decode_image(ee.image()).state.gen == 5


def test_pipelined_writes_keep_before_or_after():
    # Two saves and two opens handed out before the first completes (the firmware's queue).
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    model = Model()
    for op in make_workload(min_records=2)[:6]:
        perform(j, ee, op)
        model.apply(op)
    s1 = SavedState(import_mwh=1)
    s2 = SavedState(import_mwh=2)
    w1 = j.save_state(s1)
    w2 = j.save_state(s2)
    assert w1[0] != w2[0]
    ee.write(*w1)
    j.committed(*w1)
    ee.begin_write(*w2)
    ee.tear_write(Tear("fill", value=0xFF))
    got = decode_image(ee.image()).state
    assert got.import_mwh == 1  # the state before the torn write, not an older one


def test_decoder_never_raises_on_garbage():
    rnd = random.Random(1)
    for _ in range(200):
        img = bytes(rnd.getrandbits(8) for _ in range(4096)) + b"\xff" * (32768 - 4096)
        decode_image(img)
    assert image_view(decode_image(b"")) == EMPTY_VIEW
    assert image_view(decode_image(b"\x00" * 32768)) == EMPTY_VIEW
    assert image_view(decode_image(None)) == EMPTY_VIEW


def test_valid_pages_in_the_wrong_place_are_ignored():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    addr, data = j.open_cover(CoverOpen(1, EXACT, 1000))
    ee.write(addr + PAGE_SIZE * 2, data)  # slot 2 holding seq 1
    ee.write(0, data)  # the state page holding a cover page
    assert image_view(decode_image(ee.image())) == EMPTY_VIEW
    with pytest.raises(ValueError):
        j.committed(addr + PAGE_SIZE * 2, data)


def test_journal_ram_view_matches_image_throughout():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    model = Model()
    for op in make_workload():
        perform(j, ee, op)
        model.apply(op)
        check_journal_matches(j, ee, model)


def test_a_clear_hides_from_the_standard_view_and_keeps_everything():
    ee = Eeprom()
    j = Journal(ee.read)
    j.recover()
    for seq in range(1, 13):
        perform(j, ee, ("open", seq, EXACT, seq * 1000, 0, 0, seq, 0))
    before = decode_image(ee.image())
    perform(j, ee, ("clear", 1, 50000, EXACT, 0x01020304, CLEAR_COVER, True, False, False))
    img = decode_image(ee.image())
    # I4: the all-time total and the latest 10 records are exactly what they were
    assert img.cover_total == 12 and [r.as_tuple() for r in img.cover] == [
        r.as_tuple() for r in before.cover
    ]
    assert img.cover_base == 12 and img.cover_count() == 0 and img.standard_cover() == []
    rec = img.clears[0]
    assert (rec.seq, rec.cover_total, rec.cover_base, rec.pd_base) == (1, 12, 12, 0)
    assert rec.standard_bytes()[6:] == bytes((4, 3, 2, 1, 0xFF, 0x0D, 0x30, 0x03))
    perform(j, ee, ("open", 13, EXACT, 60000, 0, 0, 13, 0))
    img = decode_image(ee.image())
    assert img.cover_count() == 1 and [r.seq for r in img.standard_cover()] == [13]
    assert img.cover_total == 13


@pytest.fixture
def chained():
    use_chain(True)
    yield
    use_chain(False)


def test_chain_survives_a_cut_at_every_write_every_tear_pattern(chained):
    """The record chain, with late pages and their seals, cut before, inside (every pattern)
    and after every write: after each cut every chained page verifies and links (check_chain
    runs inside each cut's check), and the end state verifies completely."""
    ops = with_seals(make_workload(min_records=12, seed=5))
    assert any(op[0] == "seal" for op in ops)
    _stats, _model = run_exhaustive(ops, new_eeprom, all_patterns, full_continue=False, tail=3)
    ee = Eeprom()
    j = new_journal_chained(ee)
    for op in ops:
        perform(j, ee, op)
    sealed, late = check_chain(ee.image())
    assert late == 0 and sealed > 40


@pytest.mark.parametrize("seed", range(3))
def test_chain_survives_repeated_cuts_in_one_life(chained, seed):
    ops = with_seals(make_workload(min_records=24, seed=seed + 200))

    def pattern(s, n):
        return random.Random(s).choice([Tear("prefix", k=s % (n + 1)), Tear("mixed", seed=s)])

    assert run_random_cuts(ops, new_eeprom, pattern, seed=seed, cuts=40) == 40


def new_journal_chained(ee):
    from fw_powercut import new_journal

    j = new_journal(ee.read)
    j.recover()
    return j
