"""The active-report page and its rules under MicroPython too."""

from meterseal.firmware import reportword as rw
from meterseal.firmware.records import EXACT, PowerDown, PowerDownEnd


def test_page_round_trip_and_forgery():
    word = rw.ReportWord(9, rw.DEFAULT_MODE, 4, 2)
    page = rw.encode_page(word)
    assert rw.decode_page(page) == word
    assert rw.decode_page(page[:5] + bytes((page[5] ^ 1,)) + page[6:]) is None


def test_status_bits():
    first = PowerDown(1, 0, EXACT).with_end(PowerDownEnd(1, 1000, EXACT))
    soon = PowerDown(2, 2000, EXACT)
    word = rw.ReportWord(0, rw.DEFAULT_MODE, 3, 1)
    assert rw.status_bits(word, 4, [soon, first], 2) == 1 << rw.BIT_COVER_OPEN
    cleared = rw.after_reset(word, 1 << rw.BIT_COVER_OPEN, 4, 2)
    assert rw.status_bits(cleared, 4, [soon, first], 2) == 0
    assert rw.run_status7(True, False) == 0x100
