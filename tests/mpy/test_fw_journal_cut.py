"""The journal's power-cut test under MicroPython: every write of a workload that wraps every
ring twice, cut before it, inside it (a reduced tear set) and after it; recover, check I4/I5,
redo and continue."""

from fw_eeprom import new_eeprom, random_pattern, reduced_patterns
from fw_powercut import make_workload, run_exhaustive, run_random_cuts

from meterseal.firmware.journal import Journal


def test_workload_wraps_both_rings_twice():
    ops = make_workload()
    opens = [op for op in ops if op[0] == "open"]
    pds = [op for op in ops if op[0] == "pd_start"]
    assert len(opens) >= 23 and len(pds) >= 23
    kinds = {op[0] for op in ops}
    assert kinds == {"open", "close", "pd_start", "pd_end", "save", "clear", "freeze",
                     "t_open", "t_close", "t_report"}
    terminal = [op for op in ops if op[0] == "t_open"]
    assert len(terminal) >= 23  # the terminal cover's ring wraps twice too
    clears = [op for op in ops if op[0] == "clear"]
    assert len(clears) >= 12  # the event-clear ring (11 slots) wraps
    freezes = [op for op in ops if op[0] == "freeze"]
    assert len(freezes) >= 64  # the daily-freeze ring (63 slots) wraps


def test_every_write_cut_before_inside_after():
    ops = make_workload()
    stats, model = run_exhaustive(ops, new_eeprom, reduced_patterns, full_continue=False, tail=1)
    assert stats.cuts >= len(ops) * 5
    assert stats.before > 0 and stats.after > 0
    assert model.view()[0] >= 23


def test_repeated_random_cuts():
    ops = make_workload(min_records=12, seed=2)
    assert run_random_cuts(ops, new_eeprom, random_pattern, seed=9, cuts=25) == 25


def test_fresh_chip_is_empty():
    j = Journal(new_eeprom(None).read)
    j.recover()
    assert j.cover_total == 0 and j.power_down_total == 0 and j.state is None
    assert j.next_cover_seq() == 1 and j.next_power_down_seq() == 1
    assert j.clear_total == 0 and j.next_clear_seq() == 1 and j.baselines() == (0, 0)
    assert j.freeze_total == 0 and j.next_freeze_seq() == 1 and j.last_freeze() is None
