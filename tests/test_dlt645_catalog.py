"""The DL/T 645 data catalogue: every value class round-trips both ways (value -> bytes -> value,
and valid bytes -> value -> the same bytes, the bytes built here field by field from the layouts
in docs/dlt645.md), bad bytes are refused with a CatalogError that says why, values built from
firmware records give the bytes the firmware's own codec gives, the DI table covers exactly what
the session serves, and the head-end loads nothing of the firmware."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware.records import (
    BOUNDED,
    QUALITY_NAMES,
    CoverClose,
    CoverOpen,
    EventClear,
    PowerDown,
    PowerDownEnd,
)
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.answers import HANDLERS
from meterseal.protocols.dlt645.catalog import (
    RING,
    TABLE,
    DataItem,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedFreeze,
    ExtendedFreezeBlock,
    ExtendedPowerDown,
    FreezeEnergy,
    FreezeTime,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
    VersionString,
    decode_as,
    lookup,
)
from meterseal.protocols.dlt645.chainvalues import ChainHead, ChainPage
from meterseal.protocols.dlt645.errors import CatalogError, Dlt645Error
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.protocols.dlt645.values import (
    COUNT_LIMIT,
    MS_LIMIT,
    MS_PER_DAY,
    QUALITY_CODES,
    REGISTER_LIMIT,
    Address,
    AllTimeTotals,
    Count,
    Energy,
    EnergySnapshot,
    MeterDate,
    MeterTime,
)
from meterseal.protocols.dlt645.words import CoverOpenTime, ReportMode, ReportStatus, RunStatus7
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import ROOT, SCENARIO, FakeClock

QUALITIES = tuple(QUALITY_CODES)

# --------------------------------------------------------------------------- value strategies

seconds = st.integers(0, MS_LIMIT // 1000 - 1).map(lambda s: s * 1000)
times = st.none() | seconds
units = st.integers(0, REGISTER_LIMIT - 1)
snapshots = st.builds(EnergySnapshot, units, units, st.tuples(units, units, units, units))
bcd = st.integers(0, 99).map(lambda n: (n // 10) << 4 | n % 10)


@st.composite
def extended_covers(draw: st.DrawFn) -> ExtendedCoverOpen:
    if draw(st.integers(0, 9)) == 0:
        return ExtendedCoverOpen()
    quality = draw(st.sampled_from(QUALITIES))
    closed = draw(st.booleans())
    nb = na = None
    if quality == "bounded":
        nb = draw(seconds)
        na = draw(st.integers(nb // 1000, MS_LIMIT // 1000 - 1)) * 1000
    record = StandardCoverOpen(
        draw(seconds), draw(seconds) if closed else None, draw(snapshots), draw(snapshots)
    )
    return ExtendedCoverOpen(
        draw(st.integers(1, REGISTER_LIMIT - 1)), draw(st.booleans()), quality,
        draw(st.sampled_from(QUALITIES)) if closed else None, nb, na, record,
    )


@st.composite
def extended_power_downs(draw: st.DrawFn) -> ExtendedPowerDown:
    if draw(st.integers(0, 9)) == 0:
        return ExtendedPowerDown()
    ended = draw(st.booleans())
    return ExtendedPowerDown(
        draw(st.integers(1, REGISTER_LIMIT - 1)), draw(st.booleans()),
        draw(st.sampled_from(QUALITIES)), draw(st.sampled_from(QUALITIES)) if ended else None,
        StandardPowerDown(draw(seconds), draw(seconds) if ended else None),
    )


minutes = st.integers(0, MS_LIMIT // 60_000 - 1).map(lambda m: m * 60_000)


@st.composite
def extended_freezes(draw: st.DrawFn) -> ExtendedFreeze:
    if draw(st.integers(0, 9)) == 0:
        return ExtendedFreeze()
    return ExtendedFreeze(draw(st.integers(1, REGISTER_LIMIT - 1)), draw(st.sampled_from(
        QUALITIES)), draw(minutes), draw(units), draw(units))


VALUES = {
    Count: st.builds(Count, st.integers(0, COUNT_LIMIT - 1)),
    Energy: st.builds(Energy, units),
    EnergySnapshot: snapshots,
    MeterDate: st.builds(
        MeterDate, st.integers(0, MS_LIMIT // MS_PER_DAY - 1).map(lambda d: d * MS_PER_DAY),
        st.integers(0, 6),
    ),
    MeterTime: st.integers(0, 86_399).map(lambda s: MeterTime(s * 1000)),
    Address: st.lists(bcd, min_size=6, max_size=6).map(lambda b: Address(bytes(b))),
    AllTimeTotals: st.builds(AllTimeTotals, units, units),
    StandardCoverOpen: st.builds(StandardCoverOpen, times, times, snapshots, snapshots),
    StandardPowerDown: st.builds(StandardPowerDown, times, times),
    StandardEventClear: st.builds(
        StandardEventClear, times, st.binary(min_size=4, max_size=4), st.integers(0, 2**32 - 1)
    ),
    ExtendedCoverOpen: extended_covers(),
    ExtendedPowerDown: extended_power_downs(),
    ExtendedCoverBlock: st.lists(extended_covers(), min_size=RING, max_size=RING).map(
        lambda rs: ExtendedCoverBlock(tuple(rs))
    ),
    StandardTimeSet: st.builds(StandardTimeSet, st.binary(min_size=4, max_size=4), times, times),
    VersionString: st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                           max_size=32).map(VersionString),
    FreezeTime: st.builds(FreezeTime, st.none() | minutes),
    FreezeEnergy: st.builds(FreezeEnergy, units, st.tuples(units, units, units, units)),
    ExtendedFreeze: extended_freezes(),
    ReportMode: st.builds(ReportMode, st.integers(0, (1 << 64) - 1)),
    ReportStatus: st.builds(ReportStatus, st.integers(0, (1 << 96) - 1)),
    RunStatus7: st.builds(RunStatus7, st.integers(0, 0xFFFF)),
    CoverOpenTime: st.builds(CoverOpenTime, st.integers(0, COUNT_LIMIT - 1),
                             st.integers(0, COUNT_LIMIT - 1)),
    ExtendedFreezeBlock: st.lists(extended_freezes(), min_size=cat.FREEZES,
                                  max_size=cat.FREEZES).map(lambda fs: ExtendedFreezeBlock(
                                      tuple(fs))),
    ChainHead: st.builds(ChainHead, st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
                         st.binary(min_size=8, max_size=8), st.integers(0, 0xFFFF)),
    ChainPage: st.just(ChainPage()) | st.builds(
        ChainPage, st.integers(1, 0xFFFF), st.binary(min_size=64, max_size=64),
        st.just(b"") | st.binary(min_size=27, max_size=27).filter(any)),
}


@pytest.mark.parametrize("cls", list(VALUES), ids=lambda c: c.__name__)
@given(data=st.data())
def test_value_to_bytes_and_back(cls, data):
    value = data.draw(VALUES[cls])
    raw = value.to_bytes()
    assert isinstance(raw, bytes) and len(raw) == cls.LENGTH
    assert cls.from_bytes(raw) == value


# ------------------------------------------------------------ valid bytes, built field by field


def bcd_bytes(n: int, width: int) -> bytes:
    """n as ``width`` BCD bytes, low byte first, written out from its decimal digits."""
    digits = f"{n:0{2 * width}d}"
    return bytes(int(digits[2 * i : 2 * i + 2], 16) for i in range(width))[::-1]


def time6(t: datetime) -> bytes:
    """YYMMDDhhmmss as sent: ss mm hh DD MM YY."""
    return b"".join(bcd_bytes(v, 1) for v in
                    (t.second, t.minute, t.hour, t.day, t.month, t.year - 2000))


civil = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0)
)
raw_some_time6 = civil.map(time6)
raw_time6 = st.just(bytes(6)) | raw_some_time6
raw_energy = units.map(lambda n: bcd_bytes(n, 4))
raw_snapshot = st.lists(raw_energy, min_size=6, max_size=6).map(b"".join)
raw_cover = st.tuples(raw_time6, raw_time6, raw_snapshot, raw_snapshot).map(b"".join)
raw_power_down = st.tuples(raw_time6, raw_time6).map(b"".join)
quality_code = st.integers(0, 3)


@st.composite
def raw_extended_cover(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return bytes(79)
    q = draw(quality_code)
    closed = draw(st.booleans())
    flags = draw(st.integers(0, 1)) | (2 if closed else 0)
    if q == 2:
        bounds = b"".join(time6(t) for t in sorted((draw(civil), draw(civil))))
    else:
        bounds = bytes(12)
    start = draw(raw_some_time6)
    end = draw(raw_some_time6) if closed else bytes(6)
    return (
        bcd_bytes(draw(st.integers(1, REGISTER_LIMIT - 1)), 4)
        + bytes((flags, q, draw(quality_code) if closed else 0xFF)) + bounds
        + start + end + draw(raw_snapshot) + draw(raw_snapshot)
    )


@st.composite
def raw_extended_power_down(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return bytes(19)
    ended = draw(st.booleans())
    return (
        bcd_bytes(draw(st.integers(1, REGISTER_LIMIT - 1)), 4)
        + bytes((draw(st.integers(0, 1)) | (2 if ended else 0), draw(quality_code),
                 draw(quality_code) if ended else 0xFF))
        + draw(raw_some_time6) + (draw(raw_some_time6) if ended else bytes(6))
    )


raw_some_time5 = civil.map(lambda t: time6(t)[1:])  # YYMMDDhhmm as sent: mm hh DD MM YY


@st.composite
def raw_extended_freeze(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return bytes(18)
    return (bcd_bytes(draw(st.integers(1, REGISTER_LIMIT - 1)), 4) + bytes((draw(quality_code),))
            + draw(raw_some_time5) + draw(raw_energy) + draw(raw_energy))


bcd_count = st.integers(0, COUNT_LIMIT - 1).map(lambda n: bcd_bytes(n, 3))

RAW = {
    Count: st.integers(0, COUNT_LIMIT - 1).map(lambda n: bcd_bytes(n, 3)),
    Energy: raw_energy,
    EnergySnapshot: raw_snapshot,
    MeterDate: st.tuples(st.integers(0, 6), civil).map(
        lambda wt: bytes((wt[0],)) + time6(wt[1])[3:]  # WW DD MM YY
    ),
    MeterTime: civil.map(lambda t: time6(t)[:3]),
    Address: st.lists(bcd, min_size=6, max_size=6).map(bytes),
    AllTimeTotals: st.tuples(raw_energy, raw_energy).map(b"".join),
    StandardCoverOpen: raw_cover,
    StandardPowerDown: raw_power_down,
    StandardEventClear: st.tuples(raw_time6, st.binary(min_size=8, max_size=8)).map(b"".join),
    ExtendedCoverOpen: raw_extended_cover(),
    ExtendedPowerDown: raw_extended_power_down(),
    ExtendedCoverBlock: st.lists(raw_extended_cover(), min_size=RING, max_size=RING).map(
        b"".join
    ),
    StandardTimeSet: st.tuples(st.binary(min_size=4, max_size=4), raw_time6, raw_time6).map(
        b"".join
    ),
    VersionString: st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                           max_size=32).map(lambda t: t.encode().ljust(32, b"\0")[::-1]),
    FreezeTime: st.just(bytes(5)) | raw_some_time5,
    FreezeEnergy: st.lists(raw_energy, min_size=5, max_size=5).map(b"".join),
    ExtendedFreeze: raw_extended_freeze(),
    ReportMode: st.binary(min_size=8, max_size=8),
    ReportStatus: st.binary(min_size=12, max_size=12),
    RunStatus7: st.binary(min_size=2, max_size=2),
    CoverOpenTime: st.tuples(bcd_count, bcd_count).map(b"".join),
    ExtendedFreezeBlock: st.lists(raw_extended_freeze(), min_size=cat.FREEZES,
                                  max_size=cat.FREEZES).map(b"".join),
    ChainHead: st.binary(min_size=16, max_size=16),
    ChainPage: st.just(bytes(93)) | st.tuples(
        st.integers(1, 0xFFFF).map(lambda p: p.to_bytes(2, "little")),
        st.binary(min_size=64, max_size=64),
        st.just(bytes(27)) | st.binary(min_size=27, max_size=27).filter(any)).map(b"".join),
}


def test_every_value_class_has_both_round_trips():
    assert set(VALUES) == set(RAW) == {item.value for item in TABLE} | {EnergySnapshot}


@pytest.mark.parametrize("cls", list(RAW), ids=lambda c: c.__name__)
@given(data=st.data())
def test_valid_bytes_to_value_and_back(cls, data):
    raw = data.draw(RAW[cls])
    assert len(raw) == cls.LENGTH
    assert cls.from_bytes(raw).to_bytes() == raw


# ------------------------------------------------------------------------------ decode errors


@pytest.mark.parametrize("cls", list(VALUES), ids=lambda c: c.__name__)
def test_a_wrong_length_is_refused(cls):
    for n in (0, cls.LENGTH - 1, cls.LENGTH + 1):
        with pytest.raises(CatalogError, match=f"has {cls.LENGTH} bytes, got {n}"):
            cls.from_bytes(bytes(n))


def test_catalog_error_is_a_value_error_of_the_package():
    assert issubclass(CatalogError, ValueError) and issubclass(CatalogError, Dlt645Error)


@pytest.mark.parametrize(
    ("cls", "raw"),
    [
        (Count, b"\x1a\x00\x00"),
        (Energy, b"\x00\x00\x00\xf0"),
        (AllTimeTotals, bytes(7) + b"\x0b"),
        (Address, b"\x42\x00\x01\x03\x26\xaa"),
        (MeterTime, b"\x00\x5a\x00"),
        (StandardCoverOpen, bytes(12) + b"\x0a" + bytes(47)),
        (StandardEventClear, b"\x00\x00\x00\x01\x01\x2f" + bytes(8)),
        (ExtendedCoverOpen, b"\x0c" + bytes(78)),
    ],
)
def test_bad_bcd_is_refused(cls, raw):
    with pytest.raises(CatalogError, match="is not BCD"):
        cls.from_bytes(raw)


@pytest.mark.parametrize(
    "time6",
    [
        b"\x00\x00\x00\x30\x02\x26",  # 2026-02-30
        b"\x00\x00\x00\x29\x02\x25",  # 2025-02-29: not a leap year
        b"\x00\x00\x00\x31\x04\x26",  # 2026-04-31
        b"\x00\x00\x00\x01\x13\x26",  # month 13
        b"\x00\x00\x00\x00\x01\x26",  # day 0
        b"\x00\x00\x24\x01\x01\x26",  # 24 h
        b"\x00\x60\x00\x01\x01\x26",  # minute 60
        b"\x15\x14\x13\x00\x00\x00",  # a time of day on no date
    ],
)
def test_impossible_dates_are_refused(time6):
    with pytest.raises(CatalogError, match="is not a time"):
        StandardPowerDown.from_bytes(time6 + bytes(6))
    with pytest.raises(CatalogError, match="start time"):
        StandardCoverOpen.from_bytes(time6 + bytes(54))


def test_impossible_dates_and_times_of_day_are_refused():
    with pytest.raises(CatalogError, match="is not a time"):
        MeterDate.from_bytes(b"\x00\x31\x04\x26")  # 2026-04-31
    with pytest.raises(CatalogError, match="weekday 7"):
        MeterDate.from_bytes(b"\x07\x01\x03\x26")
    with pytest.raises(CatalogError, match="24:00:00 is not one"):
        MeterTime.from_bytes(b"\x00\x00\x24")


def extended(change: dict[int, int] | None = None) -> bytes:
    """A valid extended cover-open record (closed, exact), with some bytes changed."""
    rec = ExtendedCoverOpen(
        7, False, "exact", "deferred", None, None,
        StandardCoverOpen(86_400_000, 90_000_000, EnergySnapshot(1234), EnergySnapshot(1240)),
    )
    raw = bytearray(rec.to_bytes())
    for index, byte in (change or {}).items():
        raw[index] = byte
    return bytes(raw)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({5: 4}, "time quality: 0x04 is not a time-quality code"),
        ({4: 0x06}, "flags: 0x06 sets bits this catalogue does not define"),
        ({6: 0xFF}, "the closed flag and the closing time quality disagree"),
        ({4: 0x00}, "the closed flag and the closing time quality disagree"),
        ({7: 0x01, 10: 0x01, 11: 0x01}, "only a bounded record carries bounds"),  # 2000-01-01
        ({5: 2}, "a bounded record carries both bounds"),
    ],
)
def test_inconsistent_extended_records_are_refused(change, words):
    assert ExtendedCoverOpen.from_bytes(extended()).closed
    with pytest.raises(CatalogError, match=words):
        ExtendedCoverOpen.from_bytes(extended(change))


def test_an_empty_slot_is_all_zeros():
    assert ExtendedCoverOpen.from_bytes(bytes(79)).is_empty
    assert ExtendedPowerDown.from_bytes(bytes(19)).is_empty
    with pytest.raises(CatalogError, match="empty slot"):
        ExtendedCoverOpen.from_bytes(bytes(5) + b"\x02" + bytes(73))
    with pytest.raises(CatalogError, match="empty slot"):
        ExtendedPowerDown.from_bytes(bytes(18) + b"\x01")
    with pytest.raises(ValueError, match="empty slot"):
        ExtendedCoverOpen(hidden=True)


def test_values_refuse_what_the_wire_cannot_carry():
    with pytest.raises(ValueError, match="whole seconds"):
        StandardPowerDown(1_500)
    with pytest.raises(ValueError, match=r"0\.\.999999"):
        Count(COUNT_LIMIT)
    with pytest.raises(ValueError, match="integer"):
        Energy(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one of exact"):
        ExtendedPowerDown(1, False, "late", None, StandardPowerDown(0))  # type: ignore[arg-type]


def test_a_decode_error_names_the_di_and_where():
    bad = extended() * 3 + extended({5: 9}) + bytes(79 * 6)
    with pytest.raises(CatalogError) as err:
        decode_as(ExtendedCoverBlock, 0x04800DFF, bad)
    message = str(err.value)
    assert message.startswith("04800DFF (mfr_cover_open_block): ")
    assert "record 4" in message and "0x09 is not a time-quality code" in message
    assert "\n" not in message
    with pytest.raises(CatalogError, match=r"03300D01 \(cover_open_record\): .*60 bytes, got 72"):
        decode_as(StandardCoverOpen, 0x03300D01, bytes(72))
    with pytest.raises(LookupError):
        decode_as(Count, 0x03300D01, bytes(3))


# ------------------------------------------------------------------- from the firmware records

seq_st = st.integers(1, REGISTER_LIMIT - 1)
ms_st = st.integers(0, MS_LIMIT - 1)
u48 = st.integers(0, 2**48 - 1)
fw_quality = st.integers(0, 3)


@st.composite
def firmware_covers(draw: st.DrawFn) -> CoverOpen:
    q = draw(fw_quality)
    nb = na = 0
    if q == BOUNDED:
        nb = draw(st.integers(0, MS_LIMIT - 1001))
        na = draw(st.integers(nb, MS_LIMIT - 1001))  # room to round up to the next second
    rec = CoverOpen(draw(seq_st), q, draw(ms_st), nb, na, draw(u48), draw(u48))
    if draw(st.booleans()):
        rec = rec.with_close(CoverClose(rec.seq, draw(fw_quality), draw(ms_st), draw(u48),
                                        draw(u48)))
    return rec


@st.composite
def firmware_power_downs(draw: st.DrawFn) -> PowerDown:
    rec = PowerDown(draw(seq_st), draw(ms_st), draw(fw_quality))
    if draw(st.booleans()):
        rec = rec.with_end(PowerDownEnd(rec.seq, draw(ms_st), draw(fw_quality)))
    return rec


@given(firmware_covers(), st.integers(0, REGISTER_LIMIT - 1))
def test_cover_values_from_firmware_records(rec, baseline):
    std = StandardCoverOpen.from_record(rec)
    assert std.to_bytes() == rec.standard_bytes()  # the firmware codec's own 60 bytes
    ext = ExtendedCoverOpen.from_record(rec, baseline)
    assert ext.record == std and ext.seq == rec.seq and ext.hidden == (rec.seq <= baseline)
    assert ext.quality == QUALITY_NAMES[rec.quality]
    assert ext.close_quality == (QUALITY_NAMES[rec.close_quality] if rec.closed else None)
    if rec.quality == BOUNDED:  # to whole seconds, widened, never narrowed
        assert rec.not_before_ms - 1000 < ext.not_before_ms <= rec.not_before_ms
        assert rec.not_after_ms <= ext.not_after_ms < rec.not_after_ms + 1000
    else:
        assert ext.not_before_ms is None and ext.not_after_ms is None
    assert ExtendedCoverOpen.from_bytes(ext.to_bytes()) == ext


@given(firmware_power_downs(), st.integers(0, REGISTER_LIMIT - 1))
def test_power_down_values_from_firmware_records(rec, baseline):
    std = StandardPowerDown.from_record(rec)
    assert std.to_bytes() == rec.standard_bytes()
    ext = ExtendedPowerDown.from_record(rec, baseline)
    assert ext.record == std and ext.start_quality == QUALITY_NAMES[rec.start_quality]
    assert ext.ended == rec.ended and ext.hidden == (rec.seq <= baseline)
    assert ExtendedPowerDown.from_bytes(ext.to_bytes()) == ext


@given(seq_st, ms_st, fw_quality, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_event_clear_values_from_firmware_records(seq, ms, q, operator, di):
    rec = EventClear(seq, ms, q, operator, di)
    assert StandardEventClear.from_record(rec).to_bytes() == rec.standard_bytes()


def test_every_firmware_time_quality_has_a_wire_code():
    assert set(QUALITY_NAMES) == set(QUALITY_CODES)
    assert sorted(QUALITY_CODES.values()) == list(range(len(QUALITY_CODES)))


# --------------------------------------------------------------------------------- DI table


def test_the_table_is_exactly_what_the_session_serves():
    assert set(HANDLERS) == {di for item in TABLE for di in item.dis()}


@pytest.fixture(scope="module")
def session():
    return Dlt645Session(LiveMeter.from_scenario(load_scenario(SCENARIO), clock=FakeClock()))


def test_every_served_di_has_the_tables_length_and_decodes(session):
    for di in HANDLERS:
        item = lookup(di)
        assert item is not None, f"{di:08X}"
        raw = session.value(di)
        assert raw is not None and len(raw) == item.length == item.value.LENGTH, item.name
        assert item.value.from_bytes(raw).to_bytes() == raw


def test_table_rows():
    assert lookup(0x03300D00) is cat.COVER_OPEN_COUNT
    assert lookup(0x03300D0A) is cat.COVER_OPEN_RECORD and lookup(0x03300D0B) is None
    assert cat.MFR_COVER_OPEN_RECORD.di(10) == 0x04800D0A
    assert [cat.MFR_COVER_OPEN_BLOCK.length, cat.MFR_COVER_OPEN_RECORD.length,
            cat.MFR_POWER_DOWN_RECORD.length, cat.COVER_OPEN_RECORD.length,
            cat.POWER_DOWN_RECORD.length, cat.EVENT_CLEAR_RECORD.length] == [790, 79, 19, 60,
                                                                              12, 14]
    with pytest.raises(ValueError, match=r"1\.\.10"):
        cat.COVER_OPEN_RECORD.di(11)
    assert len({item.name for item in TABLE}) == len(TABLE)
    # ours are exactly the 04 80 block, but for the rows Table A.5 defines there (01..03),
    # which are the standard's
    a5 = {0x04800001, 0x04800002, 0x04800003}
    for item in TABLE:
        assert item.vendor == (item.first >> 16 == 0x0480 and item.first not in a5), item.name
        assert not (item.vendor and set(item.dis()) & a5)


def test_overlapping_rows_are_refused():
    twice = (cat.COVER_OPEN_RECORD, DataItem("again", 0x03300D0A, Count))
    with pytest.raises(ValueError, match="03300D0A is both cover_open_record and again"):
        cat._index(twice)


# ---------------------------------------------------------------- head-end: catalogue, no firmware

FORBIDDEN = ("meterseal.firmware", "meterseal.sim", "meterseal.verify")


def test_the_head_end_module_imports_nothing_of_the_firmware():
    tree = ast.parse((ROOT / "src/meterseal/headend/reader.py").read_text())
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert names and not [n for n in names if n.startswith(FORBIDDEN)]


def test_importing_the_head_end_loads_nothing_of_the_firmware():
    code = (
        "import sys, meterseal.headend.reader\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"


def test_a_refused_answer_is_one_read_error_line():
    from meterseal.headend.reader import Reader, ReadError
    from meterseal.protocols.dlt645.client import Dlt645Client
    from tests.test_dlt645_transport import running_server

    class SeventyTwo(Dlt645Session):
        """Like the PyPI dlt645 simulator: 72-byte cover records, no manufacturer DIs."""

        def value(self, di):
            if di >> 16 == 0x0480:
                return None
            return bytes(72) if di == 0x03300D01 else super().value(di)

    meter = LiveMeter.from_scenario(load_scenario(SCENARIO), clock=FakeClock())
    with running_server(lambda: SeventyTwo(meter)) as server, \
            Dlt645Client.tcp("127.0.0.1", server.port) as client:
        with pytest.raises(ReadError) as err:
            Reader(client).read()
    message = str(err.value)
    assert "\n" not in message
    assert "03300D01 (cover_open_record)" in message and "60 bytes, got 72" in message
