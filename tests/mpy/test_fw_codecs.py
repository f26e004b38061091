"""BCD, record pages, standard bytes and the pending block: round trips and rejections
(MicroPython and CPython; the hypothesis versions live in tests/test_firmware_codecs.py)."""

from fw_powercut import Lcg

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
from meterseal.firmware.caltime import MS_LIMIT, ms_from_civil
from meterseal.firmware.crc import crc32, crc32_soft
from meterseal.firmware.pagecodec import decode_page, encode_page
from meterseal.firmware.pending import (
    CLOSE,
    MAX_ENTRIES,
    OPEN,
    RETAINED_SIZE,
    PendingEntry,
    decode_pending,
    encode_pending,
)
from meterseal.firmware.records import (
    BOUNDED,
    DEFERRED,
    EXACT,
    UNSYNCED,
    CoverClose,
    CoverOpen,
    EventClear,
    PowerDown,
    PowerDownEnd,
    SavedState,
)


def _raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_bcd_basics():
    assert to_bcd(0) == 0 and to_bcd(59) == 0x59 and to_bcd(1234) == 0x1234
    assert from_bcd(0x99) == 99 and from_bcd(0x1234) == 1234
    for bad in (0x0A, 0xA0, 0x1F, 0xFF, 0x12A4):
        assert _raises(from_bcd, bad), bad
    for n in range(0, 10000, 7):
        assert from_bcd(to_bcd(n)) == n


def test_wire_fields():
    ms = ms_from_civil(2026, 3, 1, 8, 7, 5)
    assert bcd_time6(ms) == bytes((0x05, 0x07, 0x08, 0x01, 0x03, 0x26))
    assert time6_to_ms(bcd_time6(ms)) == ms
    assert time6_to_ms(bytes(6)) is None
    assert _raises(time6_to_ms, bytes((0x0A, 0, 0, 1, 1, 0)))
    assert _raises(time6_to_ms, bytes((0, 0, 0, 0x32, 0x01, 0x26)))  # 32 January
    assert _raises(bcd_time6, MS_LIMIT)
    assert bcd_energy4(1234567) == bytes((0x67, 0x45, 0x23, 0x01))
    assert bcd_energy4(123456789) == bytes((0x89, 0x67, 0x45, 0x23))  # rolls over at 1e8
    assert energy4_to_units(bcd_energy4(99999999)) == 99999999
    assert bcd_count3(12) == bytes((0x12, 0, 0)) and count3_to_int(bcd_count3(1000001)) == 1
    assert _raises(energy4_to_units, bytes((0x0F, 0, 0, 0)))


def test_crc_fallback_matches():
    rnd = Lcg(5)
    for n in (0, 1, 7, 39, 64):
        data = bytes(rnd.below(256) for _ in range(n))
        assert crc32(data) == crc32_soft(data)
    assert crc32(b"123456789") == 0xCBF43926


def _rnd_time(rnd):
    return (rnd.below(1 << 30) * 3001 + rnd.below(1000)) % MS_LIMIT


def _rnd_u48(rnd):
    return rnd.below(1 << 24) * (1 << 24) + rnd.below(1 << 24)


def _rnd_records(rnd):
    q = rnd.below(4)
    nb = na = 0
    if q == BOUNDED:
        nb = _rnd_time(rnd)
        na = nb + rnd.below(MS_LIMIT - nb)
    o = CoverOpen(1 + rnd.below(1 << 30), q, _rnd_time(rnd), nb, na, _rnd_u48(rnd), _rnd_u48(rnd))
    c = CoverClose(o.seq, rnd.below(4), _rnd_time(rnd), _rnd_u48(rnd), _rnd_u48(rnd))
    p = PowerDown(1 + rnd.below(1 << 30), _rnd_time(rnd), rnd.below(4))
    e = PowerDownEnd(p.seq, _rnd_time(rnd), rnd.below(4))
    s = SavedState(
        rnd.below(1 << 30),
        _rnd_u48(rnd),
        _rnd_u48(rnd),
        rnd.below(2),
        _rnd_time(rnd),
        _rnd_time(rnd),
        rnd.below(256),
        rnd.below(1 << 30),
    )
    return [o, c, p, e, s]


def test_pages_round_trip_and_reject_corruption():
    rnd = Lcg(11)
    for _ in range(200):
        for rec in _rnd_records(rnd):
            page = encode_page(rec)
            assert len(page) <= 64
            assert decode_page(page) == rec
            assert decode_page(page + b"\xff" * 8) == rec
            i = rnd.below(len(page))
            bad = bytearray(page)
            bad[i] ^= 1 << rnd.below(8)
            assert decode_page(bytes(bad)) is None
            assert decode_page(page[:-1]) is None
    assert decode_page(b"") is None
    assert decode_page(b"\xff" * 64) is None
    assert decode_page(b"\x00" * 64) is None


def test_encode_rejects_bad_fields():
    assert _raises(encode_page, CoverOpen(0, EXACT, 0))
    assert _raises(encode_page, CoverOpen(1, 4, 0))
    assert _raises(encode_page, CoverOpen(1, EXACT, 0, 5, 6))  # bounds only for BOUNDED
    assert _raises(encode_page, CoverOpen(1, BOUNDED, 10, 7, 6))
    assert _raises(encode_page, CoverOpen(1, EXACT, MS_LIMIT))
    assert _raises(encode_page, CoverOpen(1, EXACT, 0, 0, 0, 1 << 48))
    assert _raises(encode_page, SavedState(cover_closed=2))
    assert _raises(encode_page, "not a record")


def test_standard_cover_record():
    t0 = ms_from_civil(2026, 3, 1, 8, 0, 0)
    o = CoverOpen(3, BOUNDED, t0, t0 - 3600000, t0, 1234567, 89)
    std = o.standard_bytes()
    assert len(std) == 60
    assert std[0:6] == bcd_time6(t0)
    assert std[6:12] == bytes(6)
    assert std[12:16] == bcd_energy4(1234567) and std[16:20] == bcd_energy4(89)
    assert std[20:60] == bytes(40)
    c = o.with_close(CoverClose(3, EXACT, t0 + 65000, 1234600, 90))
    std = c.standard_bytes()
    assert std[6:12] == bcd_time6(t0 + 65000)
    assert std[36:40] == bcd_energy4(1234600) and std[40:44] == bcd_energy4(90)
    assert std[44:60] == bytes(16)
    assert std[12:36] == o.standard_bytes()[12:36]


def test_standard_power_down_record():
    t0 = ms_from_civil(2030, 12, 31, 23, 59, 59)
    p = PowerDown(1, t0, UNSYNCED)
    assert p.standard_bytes() == bcd_time6(t0) + bytes(6)
    e = p.with_end(PowerDownEnd(1, t0 + 2000, EXACT))
    assert e.standard_bytes() == bcd_time6(t0) + bcd_time6(t0 + 2000)


def test_pending_round_trip_and_garbage():
    rnd = Lcg(17)
    for n in range(MAX_ENTRIES + 1):
        entries = []
        for _ in range(n):
            entries.append(
                PendingEntry(
                    (OPEN, CLOSE)[rnd.below(2)],
                    _rnd_time(rnd),
                    rnd.below(2) == 1,
                    _rnd_u48(rnd),
                    _rnd_u48(rnd),
                    1 + rnd.below(1 << 30),
                )
            )
        b = encode_pending(entries, _rnd_time(rnd), rnd.below(2), rnd.below(256))
        assert len(b) <= RETAINED_SIZE
        got = decode_pending(b)
        assert got is not None and got[0] == entries
        padded = b + bytes(RETAINED_SIZE - len(b))
        assert decode_pending(padded) == got
        for _ in range(5):
            bad = bytearray(padded)
            bad[rnd.below(len(b))] ^= 1 << rnd.below(8)
            assert decode_pending(bytes(bad)) is None
    assert _raises(encode_pending, [PendingEntry(OPEN, 0, True, 0, 0, 1)] * 11, 0, 1, 0)
    assert decode_pending(b"") is None
    assert decode_pending(bytes(RETAINED_SIZE)) is None
    assert decode_pending(b"\xff" * RETAINED_SIZE) is None


def test_event_clear_page_and_standard_bytes():
    t = ms_from_civil(2026, 3, 2, 9, 8, 7)
    rec = EventClear(3, t, EXACT, 0x78563412, 0x03300DFF, 12, 12, 4, 2)
    page = encode_page(rec)
    assert len(page) <= 64 and decode_page(page) == rec
    std = rec.standard_bytes()
    assert std == bytes((0x07, 0x08, 0x09, 0x02, 0x03, 0x26, 0x12, 0x34, 0x56, 0x78,
                         0xFF, 0x0D, 0x30, 0x03))
    bad = bytearray(page)
    bad[5] ^= 1
    assert decode_page(bytes(bad)) is None
    assert _raises(encode_page, EventClear(3, t, EXACT, 0, 0, 1, 2, 0, 0))


# One page of every kind, byte for byte as meters in the field hold them: every field has its own
# byte values, so a field moved, widened or reordered in the codec fails here.
_T1 = 0x0105040302A1
_T2 = 0x0106050403A2
_T3 = 0x0107060504A3
_E1 = 0x161514131211
_E2 = 0x262524232221
GOLDEN_PAGES = (
    (
        CoverOpen(0x04030201, BOUNDED, _T2, _T1, _T3, _E1, _E2),
        "c10102030402a20304050601a10203040501a30405060701111213141516212223242526203f9eaa",
    ),
    (
        CoverClose(0x04030201, UNSYNCED, _T2, 0x363534333231, 0x464544434241),
        "c20102030403a20304050601313233343536414243444546d6792156",
    ),
    (PowerDown(0x04030201, _T2, DEFERRED), "d10102030401a20304050601038187d9"),
    (PowerDownEnd(0x04030201, _T3, UNSYNCED), "d20102030403a3040506070112a51be3"),
    (
        SavedState(0x04030201, _E1, _E2, 1, _T2, _T1, 0x07, 0x08070605),
        "a50102030411121314151621222324252601a20304050601a1020304050107050607086adf644b",
    ),
    (
        EventClear(0x04030201, _T2, DEFERRED, 0x33323130, 0x000D3003, 0x40, 0x20, 0x50, 0x10),
        "e10102030401a203040506013031323303300d0040000000200000005000000010000000362fc765",
    ),
    (
        # a clear once the terminal cover has records, tag E2: every baseline and the terminal
        # total, not the cover's and power-down's totals (they read back as their baselines),
        # so that the page fits 64 bytes with its chain trailer
        EventClear(0x04030201, _T2, DEFERRED, 0x33323130, 0x000E3003, 0x20, 0x20, 0x10, 0x10,
                   0x07, 0x05),
        "e20102030401a203040506013031323303300e0020000000100000000700000005000000"
        "5b6fedfe",
    ),
)


def test_pages_are_byte_for_byte_the_field_format():
    for rec, hexpage in GOLDEN_PAGES:
        page = bytes.fromhex(hexpage)
        assert encode_page(rec) == page, type(rec).__name__
        assert decode_page(page) == rec
