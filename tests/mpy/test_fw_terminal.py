"""The real Recorder watching the terminal cover beside the meter cover, under MicroPython (and
CPython): one wake-up and debounce burst for both switches, each opening its own record."""

from fw_board import HandBoard, design_config

from meterseal.firmware import states as st
from meterseal.firmware.image import decode_image
from meterseal.firmware.pending import TERMINAL, decode_pending
from meterseal.firmware.recorder import T_DEBOUNCE, T_SAMPLE, Recorder
from meterseal.firmware.records import BOUNDED, DEFERRED, EXACT, FLAG_TERMINAL_OPEN


def _booted():
    hb = HandBoard(terminal=True)
    rec = Recorder(hb.board, design_config())
    rec.boot()
    hb.settle(rec)
    hb.tick(rec, T_SAMPLE, 10)
    assert rec.state == st.MAINS and hb.terminal_bias
    return hb, rec


def test_terminal_opening_on_mains_is_its_own_record():
    hb, rec = _booted()
    hb.terminal_level = 0
    t_open = hb.now_ms + 5
    hb.tick(rec, T_SAMPLE, 12)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 0 and img.terminal_cover_total == 1
    r = img.terminal_cover[0]
    assert r.quality == EXACT and r.opened_ms == t_open and not r.closed


def test_both_covers_in_one_outage_wake_together_and_record_apart():
    hb, rec = _booted()
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    assert rec.state == st.HOLDUP and hb.wake_armed and hb.terminal_wake_armed
    hb.now_ms += 3600000
    hb.terminal_level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    hb.now_ms += 60000
    hb.level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    hb.now_ms += 60000
    hb.level = 1
    hb.terminal_level = 1
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 1 and img.terminal_cover_total == 1
    assert img.cover[0].closed and img.terminal_cover[0].closed
    assert img.terminal_cover[0].opened_ms < img.cover[0].opened_ms


def test_below_the_write_floor_a_terminal_opening_waits_with_its_channel():
    hb, rec = _booted()
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    hb.backup_v = 2.052  # under the write floor, above the watch's end
    hb.now_ms += 3600000
    hb.terminal_level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    assert decode_image(hb.eeprom.image()).terminal_cover_total == 0
    entries, _known, _closed, flags = decode_pending(hb.retained)
    assert [e.channel for e in entries] == [TERMINAL] and flags & FLAG_TERMINAL_OPEN
    hb.mains = True
    hb.backup_v = 4.6
    rec.on_power_good()
    hb.settle(rec)
    img = decode_image(hb.eeprom.image())
    assert img.terminal_cover_total == 1 and img.terminal_cover[0].quality == DEFERRED


def test_terminal_opened_while_dead_is_reconciled_at_power_up():
    hb, rec = _booted()
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    known = hb.now_ms
    # the MCU dies; the terminal cover is opened; mains returns, RAM lost
    hb.retained = b""
    hb.now_ms += 7200000
    hb.terminal_level = 0
    hb.mains = True
    rec2 = Recorder(hb.board, design_config())
    rec2.boot()
    hb.settle(rec2)
    hb.tick(rec2, T_SAMPLE, 12)
    img = decode_image(hb.eeprom.image())
    assert img.terminal_cover_total == 1
    r = img.terminal_cover[0]
    assert r.quality == BOUNDED and r.not_before_ms <= known + 10 and r.not_after_ms >= known
    assert img.state.flags & FLAG_TERMINAL_OPEN
