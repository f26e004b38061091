"""Property tests for the firmware codecs: caltime against datetime, BCD fields, record pages,
standard records and the pending block — decode(encode(x)) == x, and garbage never raises."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware.bcd import (
    bcd_count3,
    bcd_energy4,
    bcd_time6,
    count3_to_int,
    energy4_to_units,
    from_bcd,
    time6_to_ms,
    to_bcd,
)
from meterseal.firmware.caltime import MS_LIMIT, civil_from_ms, ms_from_civil
from meterseal.firmware.crc import crc32, crc32_soft
from meterseal.firmware.image import decode_image
from meterseal.firmware.pagecodec import decode_page, encode_page
from meterseal.firmware.pending import (
    MAX_ENTRIES,
    RETAINED_SIZE,
    PendingEntry,
    decode_pending,
    encode_pending,
)
from meterseal.firmware.records import (
    BOUNDED,
    QUALITY_NAMES,
    CoverClose,
    CoverOpen,
    EventClear,
    PowerDown,
    PowerDownEnd,
    SavedState,
)

EPOCH = datetime(2000, 1, 1)
ms_st = st.integers(0, MS_LIMIT - 1)
sec_st = ms_st.map(lambda ms: ms - ms % 1000)
u32 = st.integers(0, 2**32 - 1)
seq_st = st.integers(1, 2**32 - 1)
u48 = st.integers(0, 2**48 - 1)
quality = st.integers(0, 3)


def test_quality_names():
    assert QUALITY_NAMES == ("exact", "deferred", "bounded", "unsynced")


@given(ms_st)
def test_civil_matches_datetime(ms):
    dt = EPOCH + timedelta(milliseconds=ms)
    want = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.isoweekday() % 7)
    assert civil_from_ms(ms) == want
    assert ms_from_civil(*want[:6]) == ms - ms % 1000


@given(st.integers(0, 10**30))
def test_bcd_round_trip(n):
    assert from_bcd(to_bcd(n)) == n
    assert f"{to_bcd(n):x}" == str(n)


@given(st.integers(0, 2**64))
def test_from_bcd_rejects_any_bad_nibble(b):
    good = all(int(c, 16) <= 9 for c in f"{b:x}")
    if good:
        assert from_bcd(b) == int(f"{b:x}")
    else:
        with pytest.raises(ValueError):
            from_bcd(b)


@given(sec_st)
def test_time6_round_trip(ms):
    b = bcd_time6(ms)
    dt = EPOCH + timedelta(milliseconds=ms)
    assert b == bytes.fromhex(dt.strftime("%S%M%H%d%m%y"))
    assert time6_to_ms(b) == ms


@given(st.binary(min_size=6, max_size=6))
def test_time6_decode_is_valid_or_value_error(b):
    try:
        ms = time6_to_ms(b)
    except ValueError:
        return
    assert ms is None or bcd_time6(ms) == b


@given(st.integers(0, 2**48))
def test_energy_and_count_round_trip(n):
    assert energy4_to_units(bcd_energy4(n)) == n % 10**8
    assert count3_to_int(bcd_count3(n)) == n % 10**6
    assert bcd_energy4(n)[::-1].hex() == f"{n % 10**8:08d}"
    assert bcd_count3(n)[::-1].hex() == f"{n % 10**6:06d}"


@given(st.binary(max_size=80))
def test_crc_fallback(b):
    assert crc32(b) == crc32_soft(b)


@st.composite
def cover_open(draw):
    q = draw(quality)
    nb = na = 0
    if q == BOUNDED:
        nb = draw(ms_st)
        na = draw(st.integers(nb, MS_LIMIT - 1))
    return CoverOpen(draw(seq_st), q, draw(ms_st), nb, na, draw(u48), draw(u48))


cover_close = st.builds(CoverClose, seq_st, quality, ms_st, u48, u48)
pd_start = st.builds(PowerDown, seq_st, ms_st, quality)
pd_end = st.builds(PowerDownEnd, seq_st, ms_st, quality)
saved = st.builds(
    SavedState, u32, u48, u48, st.integers(0, 1), ms_st, ms_st, st.integers(0, 255), u32
)


@st.composite
def event_clear(draw):
    ct = draw(u32)
    pt = draw(u32)
    return EventClear(
        draw(seq_st), draw(ms_st), draw(quality), draw(u32), draw(u32),
        ct, draw(st.integers(0, ct)), pt, draw(st.integers(0, pt)),
    )


any_record = st.one_of(cover_open(), cover_close, pd_start, pd_end, saved, event_clear())


@given(any_record)
def test_page_round_trip(rec):
    page = encode_page(rec)
    assert len(page) <= 64
    assert decode_page(page) == rec


@given(any_record, st.data())
def test_page_any_single_corruption_is_rejected(rec, data):
    page = bytearray(encode_page(rec))
    i = data.draw(st.integers(0, len(page) - 1))
    page[i] ^= data.draw(st.integers(1, 255))
    assert decode_page(bytes(page)) is None


@given(st.binary(max_size=70))
def test_decode_page_never_raises(b):
    rec = decode_page(b)
    assert rec is None or decode_page(encode_page(rec)) == rec


@given(cover_open(), cover_close)
def test_cover_standard_bytes(o, c):
    c.seq = o.seq
    std = o.standard_bytes()
    assert len(std) == 60
    assert std[:6] == bcd_time6(o.opened_ms) and std[6:12] == bytes(6)
    assert energy4_to_units(std[12:16]) == o.import_before % 10**8
    assert energy4_to_units(std[16:20]) == o.export_before % 10**8
    assert std[20:] == bytes(40)
    closed = o.with_close(c)
    assert closed.close_half() == c and o.close_half() is None
    std2 = closed.standard_bytes()
    assert std2[:6] == std[:6] and std2[6:12] == bcd_time6(c.closed_ms)
    assert energy4_to_units(std2[36:40]) == c.import_after % 10**8
    assert energy4_to_units(std2[40:44]) == c.export_after % 10**8
    assert std2[20:36] == bytes(16) and std2[44:] == bytes(16)


@given(pd_start, pd_end)
def test_power_down_standard_bytes(p, e):
    e.seq = p.seq
    assert p.standard_bytes() == bcd_time6(p.start_ms) + bytes(6)
    done = p.with_end(e)
    assert done.end_half() == e
    assert done.standard_bytes() == bcd_time6(p.start_ms) + bcd_time6(e.end_ms)


@given(event_clear())
def test_event_clear_standard_bytes(k):
    std = k.standard_bytes()
    assert len(std) == 14
    assert std[:6] == bcd_time6(k.time_ms)
    assert std[6:10] == k.operator.to_bytes(4, "little") == k.operator_bytes()
    assert std[10:14] == k.di.to_bytes(4, "little")  # DI0 first, like every DI on the wire


def test_event_clear_rejects_a_baseline_above_its_total():
    with pytest.raises(ValueError):
        encode_page(EventClear(1, 0, 0, 0, 0xFFFFFFFF, 3, 4, 0, 0))
    with pytest.raises(ValueError):
        encode_page(EventClear(1, 0, 0, 0, 0xFFFFFFFF, 3, 3, 1, 2))


entry = st.builds(PendingEntry, st.integers(0, 1), u48, st.booleans(), u48, u48, seq_st)


@given(st.lists(entry, max_size=MAX_ENTRIES), u48, st.integers(0, 1), st.integers(0, 255))
def test_pending_round_trip(entries, watch, closed, flags):
    b = encode_pending(entries, watch, closed, flags)
    assert len(b) <= RETAINED_SIZE
    assert decode_pending(b) == (entries, watch, closed, flags)
    assert decode_pending(b + bytes(RETAINED_SIZE - len(b))) == (entries, watch, closed, flags)


@given(st.binary(max_size=RETAINED_SIZE))
def test_decode_pending_never_raises(b):
    decode_pending(b)


@given(st.lists(st.tuples(st.integers(0, 69), st.binary(min_size=1, max_size=64)), max_size=40))
def test_decode_image_never_raises_on_garbage_pages(pages):
    img = bytearray(b"\xff" * 32768)
    for page, data in pages:
        img[page * 64 : page * 64 + len(data)] = data
    im = decode_image(bytes(img))
    assert len(im.cover) <= 10 and len(im.power_down) <= 10
