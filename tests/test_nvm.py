"""The emulated EEPROM: page rule, erased state, tear patterns, endurance counters, the write
count that power-loss tests steer by."""

import random

import pytest

from meterseal.hardware.nvm import Eeprom, Tear, tear_patterns


def test_erased_and_sizes():
    e = Eeprom()
    assert e.size == 32768 and e.page_size == 64
    assert e.read(0, 64) == b"\xff" * 64
    assert e.image() == b"\xff" * 32768
    with pytest.raises(ValueError):
        e.read(32760, 16)


def test_write_within_a_page_only():
    e = Eeprom()
    e.write(64, b"\x01" * 64)
    e.write(130, b"abc")
    assert e.read(64, 64) == b"\x01" * 64 and e.read(130, 3) == b"abc"
    for addr, n in ((60, 5), (127, 2), (32767, 2)):
        with pytest.raises(ValueError):
            e.begin_write(addr, b"x" * n)
    with pytest.raises(ValueError):
        e.begin_write(0, b"")


def test_one_write_at_a_time():
    e = Eeprom()
    e.begin_write(0, b"a")
    assert e.write_in_progress
    with pytest.raises(RuntimeError):
        e.begin_write(64, b"b")
    e.abort_write()
    assert e.read(0, 1) == b"\xff" and not e.write_in_progress
    with pytest.raises(RuntimeError):
        e.finish_write()


def test_tear_patterns_touch_only_the_written_bytes():
    old = bytes(range(64))
    new = bytes(range(100, 140))
    for t in tear_patterns(len(new)):
        e = Eeprom()
        e.write(128, old)
        e.begin_write(130, new)
        left = e.tear_write(t)
        assert e.read(128, 2) == old[:2] and e.read(170, 22) == old[42:]
        assert e.read(130, 40) == left
        if t.kind == "prefix":
            assert left == new[: t.k] + old[2 + t.k : 42]
        if t.kind == "fill":
            assert left == bytes([t.value]) * 40
    assert len(tear_patterns(40, randoms=3)) == 41 + 2 + 6


def test_tear_is_reproducible_and_accepts_rng():
    def torn(arg):
        e = Eeprom()
        e.begin_write(0, b"\x00" * 32)
        return e.tear_write(arg)

    assert torn(Tear("mixed", seed=3)) == torn(Tear("mixed", seed=3))
    assert torn(7) == torn(7)
    assert len(torn(random.Random(1))) == 32
    with pytest.raises(ValueError):
        torn(Tear("bogus"))


def test_write_counters():
    e = Eeprom()
    for _ in range(3):
        e.write(0, b"a")
    e.begin_write(64, b"b")
    e.tear_write(Tear("fill", value=0))
    e.begin_write(128, b"c")
    e.abort_write()
    assert e.write_count(0) == 3 and e.write_count(1) == 1 and e.write_count(2) == 0
    assert e.max_write_count == 3 and sum(e.write_counts) == 4


def test_load_image():
    img = bytes(random.Random(2).getrandbits(8) for _ in range(32768))
    assert Eeprom(image=img).image() == img
    with pytest.raises(ValueError):
        Eeprom(image=b"short")


def test_the_chip_counts_writes_and_loses_power_inside_the_chosen_one():
    ee = Eeprom(power_loss_at=2)
    ee.begin_write(0, b"a")
    assert ee.writes_begun == 1 and not ee.loses_power()
    ee.finish_write()
    ee.begin_write(64, b"b")
    assert ee.writes_begun == 2 and ee.loses_power()
    ee.tear_write()
    assert not ee.loses_power()  # nothing in progress
    ee.write(128, b"c")
    assert ee.writes_begun == 3 and not ee.loses_power()
    with pytest.raises(ValueError):
        Eeprom(power_loss_at=0)
