"""The EVENTOUT line (issue 13, item 3): the firmware raises it through its HAL port when a
cover-open record commits (the status word's bit is set), the communication module reads the
status word and forwards it (the report's bursts), and the line falls once that is done; an
unpowered MCU drives no line. The module types decide what the backup pays for."""

from __future__ import annotations

import pytest

from meterseal.firmware import hal
from meterseal.verify.matrix import _sc
from meterseal.verify.result import simulate

COVER = [("1h 30min", "1h 40min"), ("3h 30min", "3h 31min")]


def _run(module: str):
    sc = _sc(f"an opening on backup, module {module}", "4h", [("1h", "2h")], COVER,
             profile="single-phase", radio__module=module)
    out = simulate(sc, trace=False)
    assert out.judgment.passed, out.judgment.problems
    return out


@pytest.mark.parametrize("module", ["rf-micropower", "hplc-own-storage"])
def test_the_line_rises_when_the_record_commits_and_falls_once_the_module_has_forwarded_it(
        module):
    out = _run(module)
    log, commits = out.log, out.judgment.commit_us
    rises = [t for t, level in log.eventout if level == 1]
    falls = [t for t, level in log.eventout if level == 0]
    assert rises == [commits[1], commits[2]]  # the record first, the line second
    for seq, fall in zip((1, 2), falls, strict=True):
        sends = [t for t, _kind, s, _on in log.reports if s == seq]
        assert sends and fall == max(sends)
    assert next(on for _t, _k, s, on in log.reports if s == 1) == "backup"


def test_without_a_module_nothing_drives_the_line():
    assert _run("none").log.eventout == []


def test_a_board_without_the_line_wired_ignores_it():
    board = hal.Board(*([None] * 9))
    assert isinstance(board.eventout, hal.NoEventOut)
    assert board.eventout.set(1) is None
    with pytest.raises(NotImplementedError):
        hal.EventOutPort().set(1)
