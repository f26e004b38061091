"""caltime under MicroPython and CPython: known dates, and a round trip over the whole century."""

from fw_powercut import Lcg

from meterseal.firmware.caltime import (
    MS_LIMIT,
    civil_from_ms,
    days_from_civil,
    days_in_month,
    ms_from_civil,
)


def test_epoch_and_known_dates():
    assert ms_from_civil(2000, 1, 1, 0, 0, 0) == 0
    assert civil_from_ms(0) == (2000, 1, 1, 0, 0, 0, 6)  # a Saturday
    assert civil_from_ms(ms_from_civil(2000, 2, 29, 12, 0, 0)) == (2000, 2, 29, 12, 0, 0, 2)
    assert civil_from_ms(ms_from_civil(2026, 3, 1, 8, 0, 5)) == (2026, 3, 1, 8, 0, 5, 0)
    assert civil_from_ms(MS_LIMIT - 1) == (2099, 12, 31, 23, 59, 59, 4)
    assert days_from_civil(2100, 1, 1) * 86400000 == MS_LIMIT


def test_sub_second_is_dropped():
    ms = ms_from_civil(2031, 7, 4, 1, 2, 3)
    assert civil_from_ms(ms + 999) == civil_from_ms(ms)


def test_every_day_of_the_century_round_trips():
    expect_wd = 6
    for y in range(2000, 2100):
        for m in range(1, 13):
            for d in range(1, days_in_month(y, m) + 1):
                ms = ms_from_civil(y, m, d, 23, 59, 58)
                assert civil_from_ms(ms) == (y, m, d, 23, 59, 58, expect_wd), (y, m, d)
                expect_wd = (expect_wd + 1) % 7


def test_random_instants_round_trip():
    rnd = Lcg(3)
    for _ in range(2000):
        ms = (rnd.below(1 << 30) * 3000 + rnd.below(3000)) % MS_LIMIT
        y, mo, d, h, mi, s, _wd = civil_from_ms(ms)
        assert ms_from_civil(y, mo, d, h, mi, s) == ms - ms % 1000


def test_out_of_range_rejected():
    for bad in (
        (1999, 12, 31, 0, 0, 0),
        (2100, 1, 1, 0, 0, 0),
        (2001, 2, 29, 0, 0, 0),
        (2000, 13, 1, 0, 0, 0),
        (2000, 0, 1, 0, 0, 0),
        (2000, 1, 0, 0, 0, 0),
        (2000, 1, 1, 24, 0, 0),
        (2000, 1, 1, 0, 60, 0),
        (2000, 1, 1, 0, 0, 60),
    ):
        try:
            ms_from_civil(*bad)
        except ValueError:
            pass
        else:
            raise AssertionError(bad)
