"""The real Recorder on a hand-driven board: on mains, through a power failure, on backup."""

from fw_board import HandBoard, design_config

from meterseal.firmware import states as st
from meterseal.firmware.image import decode_image
from meterseal.firmware.recorder import T_DEBOUNCE, T_PD_JUDGE, T_SAMPLE, T_SUPPLY, Recorder
from meterseal.firmware.records import DEFERRED, EXACT


def secondary_rules_hold(rec):
    """The rules of states.py's secondary states: where each may be away from rest."""
    s = rec.state
    if rec.watch != st.WATCH_FULL:
        assert s in (st.HOLDUP, st.DORMANT), st.STATE_NAMES[s]
    if rec.reconciling:
        assert s in (st.RESTORE, st.POWER_FAIL, st.MAINS), st.STATE_NAMES[s]
    if rec.frozen is not None:
        assert s in (st.HOLDUP, st.DORMANT), st.STATE_NAMES[s]
    if rec.shutdown_after_write:
        assert s in (st.HOLDUP, st.DORMANT) and rec.watch == st.WATCH_ENDED
    return True


def _booted():
    hb = HandBoard()
    rec = Recorder(hb.board, design_config())
    hb.check = secondary_rules_hold
    rec.boot()
    hb.settle(rec)
    hb.tick(rec, T_SAMPLE, 10)
    assert rec.state == st.MAINS
    return hb, rec


def test_opening_on_mains_is_exact_with_energy():
    hb, rec = _booted()
    hb.import_mwh = 1234567  # 1.23 kWh since boot
    hb.level = 0
    t_open = hb.now_ms + 5
    hb.tick(rec, T_SAMPLE, 12)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 1
    r = img.cover[0]
    assert r.quality == EXACT and r.opened_ms == t_open and not r.closed
    assert r.import_before == 123
    assert len(hb.frames) == 1  # the active report, after the record


def test_bounce_shorter_than_debounce_is_not_an_opening():
    hb, rec = _booted()
    for _ in range(3):
        hb.level = 0
        hb.tick(rec, T_SAMPLE, 4)
        hb.level = 1
        hb.tick(rec, T_SAMPLE, 1)
    hb.tick(rec, T_SAMPLE, 20)
    assert decode_image(hb.eeprom.image()).cover_total == 0


def test_every_opening_in_one_outage_counts_and_low_budget_defers():
    hb, rec = _booted()
    hb.tick(rec, T_SUPPLY, 1, ms=3000)  # 3 s of supply: a power-down now counts
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    hb.tick(rec, T_PD_JUDGE, 1, ms=1000)  # it lasted the power-down debounce
    assert rec.state == st.HOLDUP and hb.wake_armed
    for _ in range(3):
        hb.now_ms += 3600000
        hb.level = 0
        rec.on_cover_edge()
        hb.tick(rec, T_DEBOUNCE, 10)
        hb.now_ms += 600000
        hb.level = 1
        rec.on_cover_edge()
        hb.tick(rec, T_DEBOUNCE, 10)
    assert decode_image(hb.eeprom.image()).cover_total == 3
    # Below the write floor the next opening stays pending in retained RAM ...
    hb.backup_v = 2.052  # under the write floor (2.0566 V), above the watch's end
    hb.now_ms += 3600000
    t_open = hb.now_ms
    hb.level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    assert decode_image(hb.eeprom.image()).cover_total == 3
    # ... and is written as deferred, with its own time, when mains returns.
    hb.mains = True
    hb.backup_v = 4.6
    rec.on_power_good()
    hb.settle(rec)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 4
    assert img.cover[0].quality == DEFERRED and img.cover[0].opened_ms == t_open
    assert img.power_down_total == 1 and img.power_down[0].ended


def test_full_retained_ram_freezes_what_it_knew_and_reconciles_at_restore():
    from meterseal.firmware.pending import MAX_ENTRIES
    from meterseal.firmware.records import BOUNDED

    hb, rec = _booted()
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    hb.backup_v = 2.052  # below the write floor: everything stays pending
    pairs = MAX_ENTRIES // 2 + 2
    for _ in range(pairs):
        hb.now_ms += 600000
        hb.level = 0
        rec.on_cover_edge()
        hb.tick(rec, T_DEBOUNCE, 10)
        hb.now_ms += 600000
        hb.level = 1
        rec.on_cover_edge()
        hb.tick(rec, T_DEBOUNCE, 10)
    # the last opening stays open: it must come out as a bounded record at restore
    hb.now_ms += 600000
    hb.level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    assert len(rec.pending) == MAX_ENTRIES
    hb.mains = True
    hb.backup_v = 4.6
    rec.on_power_good()
    hb.settle(rec)
    hb.tick(rec, T_SAMPLE, 12)
    assert rec.state == st.MAINS
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == MAX_ENTRIES // 2 + 1
    newest = img.cover[0]
    assert newest.quality == BOUNDED and not newest.closed
    assert all(r.quality == DEFERRED and r.closed for r in img.cover[1:])


def test_config_names_every_value():
    from meterseal.firmware.config import FirmwareConfig

    cfg = design_config()
    assert cfg.debounce_us == 45000
    values = {name: getattr(cfg, name) for name in FirmwareConfig.__slots__}
    assert FirmwareConfig(**values).debounce_us == 45000
    for bad in ("debounce_sample", "sample_period_us"):
        kw = dict(values)
        if bad in kw:
            del kw[bad]  # a missing value
        else:
            kw[bad] = 9  # a misspelt one
        try:
            FirmwareConfig(**kw)
        except TypeError:
            continue
        raise AssertionError("accepted " + bad)


def test_a_flicker_and_a_power_down_right_after_a_power_up_leave_no_record():
    hb, rec = _booted()
    hb.mains = False
    rec.on_power_fail()  # within 3 s of the boot: not judged at all
    hb.settle(rec)
    assert T_PD_JUDGE not in hb.timers
    hb.mains = True
    rec.on_power_good()
    hb.settle(rec)
    hb.tick(rec, T_SUPPLY, 1, ms=3000)
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    assert T_PD_JUDGE in hb.timers
    hb.mains = True
    rec.on_power_good()  # back before the debounce ended: a flicker
    hb.settle(rec)
    assert T_PD_JUDGE not in hb.timers
    assert decode_image(hb.eeprom.image()).power_down_total == 0


def test_a_record_that_cannot_afford_its_mac_on_backup_is_sealed_at_restore():
    from fw_powercut import CHAIN, check_chain, use_chain

    from meterseal.firmware.chain import read_link
    from meterseal.firmware.layout import PAGE_SIZE, cover_open_addr

    use_chain(True)
    try:
        hb = HandBoard()
        hb.board.security = CHAIN[0]
        cfg = design_config()
        cfg.mac_a = 0.005
        cfg.mac_s = 0.01
        rec = Recorder(hb.board, cfg)
        rec.boot()
        hb.settle(rec)
        hb.tick(rec, T_SAMPLE, 10)
        hb.mains = False
        rec.on_power_fail()
        hb.settle(rec)
        b = rec.budget
        # Above the write floor, below it plus the MAC's cost: written now, without its MAC.
        hb.backup_v = b.write_floor_v + b.mac_need_v / 2
        hb.now_ms += 3600000
        hb.level = 0
        rec.on_cover_edge()
        hb.tick(rec, T_DEBOUNCE, 10)
        img = hb.eeprom.image()
        a = cover_open_addr(1)
        assert decode_image(img).cover_total == 1
        assert read_link(a // PAGE_SIZE, img[a:a + PAGE_SIZE]).late()
        assert check_chain(img)[1] >= 1  # awaiting its seal
        hb.mains = True
        hb.backup_v = 4.6
        rec.on_power_good()
        hb.settle(rec)
        sealed, late = check_chain(hb.eeprom.image())
        assert late == 0 and sealed >= 2  # the opening and its report status
    finally:
        use_chain(False)


def _on_backup_at(backup_v, nvm_min_v, check=False):
    """Booted, a power failure, then the supply read at backup_v (its alarm handled)."""
    hb = HandBoard()
    cfg = design_config()
    cfg.nvm_min_v = nvm_min_v
    rec = Recorder(hb.board, cfg)
    if check:
        hb.check = secondary_rules_hold
    rec.boot()
    hb.settle(rec)
    hb.tick(rec, T_SAMPLE, 10)
    hb.mains = False
    rec.on_power_fail()
    hb.settle(rec)
    hb.backup_v = backup_v
    rec.on_supply_alarm()
    return hb, rec


def _watching_under_the_nvm_minimum():
    """On backup with an EEPROM that programs only at 2.5 V or more: the budget's write floor
    is 2.5566 V; the supercapacitor at 2.54 V is under it, yet a write adds 6 mV of ESR drop
    (the MCU's own current is in the reading already) and would leave the chip 2.534 V."""
    # under the write floor: watching on, records wait in retained RAM
    hb, rec = _on_backup_at(2.54, nvm_min_v=2.5, check=True)
    assert rec.watch == st.WATCH_PENDING and not hb.off
    assert hb.alarm_v < 2.1  # the supply's last wake
    hb.now_ms += 3600000
    hb.level = 0
    rec.on_cover_edge()
    for _ in range(10):  # the debounce, each write the recorder starts left under way
        hb.now_ms += 5
        rec.on_timer(T_DEBOUNCE)
    return hb, rec


def test_a_record_the_budget_refuses_is_tried_where_the_mcu_is_safe():
    hb, rec = _watching_under_the_nvm_minimum()
    assert rec.budget.write_floor_v > hb.backup_v
    assert hb.eeprom.pending is not None  # tried, not only kept pending
    hb.settle(rec)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 1 and img.cover[0].quality == EXACT
    assert not rec.pending


def test_a_tried_write_that_fails_keeps_its_record_pending():
    from meterseal.firmware.writequeue import MAX_NVM_FAILS

    hb, rec = _watching_under_the_nvm_minimum()
    for _ in range(MAX_NVM_FAILS):
        assert hb.eeprom.pending is not None
        hb.eeprom.tear_write(("random", 7))  # the chip's supply sagged under its minimum
        rec.on_nvm_failed()
    assert hb.eeprom.pending is None  # tried no more on this supply
    assert len(rec.pending) == 1 and decode_image(hb.eeprom.image()).cover_total == 0
    assert not hb.off  # the watch goes on
    hb.mains = True
    hb.backup_v = 4.6
    rec.on_power_good()
    hb.settle(rec)
    img = decode_image(hb.eeprom.image())
    assert img.cover_total == 1 and img.cover[0].quality == DEFERRED


def test_no_write_is_tried_where_its_pulse_could_take_the_mcu_under_its_margin():
    # 2.046 V under the write: inside the 50 mV margin over brown-out
    hb, rec = _on_backup_at(2.052, nvm_min_v=1.0)
    hb.now_ms += 3600000
    hb.level = 0
    rec.on_cover_edge()
    hb.tick(rec, T_DEBOUNCE, 10)
    assert hb.eeprom.pending is None and len(rec.pending) == 1
