"""Daily freezes on the DL/T 645 face: `05 06 00 nn` the freeze time, `05 06 01 nn` / `05 06 02 nn`
the forward and reverse active energy frozen then (total and four tariffs), ours `04 80 06 nn`
and the block `04 80 06 FF` with seq and time quality — as a meter that lived through days and
an outage answers them, byte for byte from the firmware's freezes; bad bytes refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware.records import QUALITY_NAMES, DailyFreeze
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.catalog import (
    ExtendedFreeze,
    ExtendedFreezeBlock,
    FreezeEnergy,
    FreezeTime,
    decode_as,
)
from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.frame import ErrorCode, Frame, FunctionCode, decode, read_request
from meterseal.protocols.dlt645.maker import DI_MFR_LOG_TOTALS, LogTotals, MakerFace
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.protocols.dlt645.values import MS_LIMIT, REGISTER_LIMIT, civil
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import LoadStep, Outage, Scenario
from tests.dlt645_helpers import FakeClock

H = 3_600_000_000
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def meter() -> LiveMeter:
    """Five days at 1.5 kW import and 0.2 kW export, mains off across two midnights."""
    sc = Scenario(name="freezes", start=START, duration_us=5 * 24 * H,
                  outages=(Outage(27 * H, 54 * H),),
                  loads=(LoadStep(0, 1500.0, 200.0),))
    return LiveMeter.from_scenario(sc, clock=FakeClock())


def _read(meter: LiveMeter, di: int) -> bytes:
    reply = decode(Dlt645Session(meter).handle(read_request(meter.address, di))[0])
    assert not reply.is_abnormal, f"{di:08X}"
    return reply.data[4:]


def test_each_freeze_is_served_as_its_time_and_energies(meter: LiveMeter) -> None:
    freezes = meter.image().freezes
    assert len(freezes) == 5
    assert {QUALITY_NAMES[f.quality] for f in freezes} == {"exact", "deferred"}
    for n, f in enumerate(freezes, start=1):
        when = FreezeTime.from_bytes(_read(meter, 0x05060000 + n)).time_ms
        assert when == f.time_ms and civil(when).time() == datetime.min.time()  # midnight
        imp = FreezeEnergy.from_bytes(_read(meter, 0x05060100 + n))
        exp = FreezeEnergy.from_bytes(_read(meter, 0x05060200 + n))
        assert (imp.total_0p01kwh, exp.total_0p01kwh) == (f.import_units, f.export_units)
        assert imp.tariffs_0p01kwh == exp.tariffs_0p01kwh == (0, 0, 0, 0)  # single rate
        ext = ExtendedFreeze.from_bytes(_read(meter, 0x04800600 + n))
        assert (ext.seq, ext.quality, ext.time_ms, ext.import_0p01kwh, ext.export_0p01kwh) == (
            f.seq, QUALITY_NAMES[f.quality], f.time_ms, f.import_units, f.export_units)
    newest = freezes[0]
    assert FreezeEnergy.from_bytes(_read(meter, 0x05060101)).kwh == newest.import_units / 100
    # the midnights of the outage were made up at the restore, with the outage's energy
    deferred = [f for f in freezes if QUALITY_NAMES[f.quality] == "deferred"]
    assert len(deferred) == 2 and deferred[0].import_units == deferred[1].import_units


def test_freezes_not_taken_yet_are_zeros_and_beyond_62_no_such_data(meter: LiveMeter) -> None:
    assert FreezeTime.from_bytes(_read(meter, 0x05060006)).is_empty
    assert _read(meter, 0x05060106) == bytes(20)
    assert ExtendedFreeze.from_bytes(_read(meter, 0x0480063E)).is_empty
    for di in (0x0506003F, 0x05060000, 0x05060300, 0x0480063F):
        reply = decode(Dlt645Session(meter).handle(read_request(meter.address, di))[0])
        assert reply.is_abnormal and reply.data == bytes((ErrorCode.NO_SUCH_DATA,)), f"{di:08X}"


def test_the_block_is_all_62_in_follow_up_frames(meter: LiveMeter) -> None:
    session = Dlt645Session(meter)
    first = decode(session.handle(read_request(meter.address, 0x048006FF))[0])
    assert first.has_follow_up
    data = bytearray(first.data[4:])
    seq = 0
    while True:
        seq += 1
        req = read_request(meter.address, 0x048006FF)
        follow = Frame(req.address, FunctionCode.READ_FOLLOW_UP, req.data + bytes((seq,)))
        reply = decode(session.handle(follow)[0])
        data += reply.data[4:-1]
        if not reply.has_follow_up:
            break
    block = decode_as(ExtendedFreezeBlock, 0x048006FF, bytes(data))
    assert seq == 5 and len(data) == 62 * 18
    assert [f.seq for f in block.freezes[:5]] == [5, 4, 3, 2, 1]
    assert all(f.is_empty for f in block.freezes[5:])


def test_the_totals_answer_says_the_newest_freeze(meter: LiveMeter) -> None:
    ours = MakerFace(Dlt645Session(meter), meter.address)
    reply = decode(ours.handle(read_request(meter.address, DI_MFR_LOG_TOTALS))[0])
    totals = LogTotals.from_bytes(reply.data[4:])
    assert totals.freeze.time_ms == meter.image().freezes[0].time_ms
    assert LogTotals.from_bytes(totals.to_bytes()) == totals


def test_another_maker_serves_the_standard_freezes_not_ours(meter: LiveMeter) -> None:
    acme = MakerFace(Dlt645Session(meter), meter.address, "ACME")
    std = decode(acme.handle(read_request(meter.address, 0x05060001))[0])
    assert not std.is_abnormal
    for di in (0x04800601, 0x048006FF):
        assert decode(acme.handle(read_request(meter.address, di))[0]).is_abnormal


# A seq that rolls to 0 in the 8-digit field (a multiple of 10^8: 273,973 years of daily
# freezes) would read as the empty slot; the codec refuses it rather than serve it, and no meter
# lives that long, so the property is drawn without those.
@given(st.integers(1, 2**32 - 1).filter(lambda n: n % REGISTER_LIMIT), st.integers(0, 3),
       st.integers(0, MS_LIMIT // 86_400_000 - 1), st.integers(0, 2**48 - 1),
       st.integers(0, 2**48 - 1))
def test_values_from_firmware_freezes(seq: int, q: int, day: int, imp: int, exp: int) -> None:
    rec = DailyFreeze(seq, q, day * 86_400_000, imp, exp)
    ext = ExtendedFreeze.from_record(rec)
    assert ext.seq == seq % REGISTER_LIMIT and ext.quality == QUALITY_NAMES[q]
    assert (ext.import_0p01kwh, ext.export_0p01kwh) == (imp % REGISTER_LIMIT,
                                                        exp % REGISTER_LIMIT)
    assert FreezeTime.from_record(rec).time_ms == ext.time_ms == rec.time_ms
    assert ExtendedFreeze.from_bytes(ext.to_bytes()) == ext


@pytest.mark.parametrize(("cls", "raw", "words"), [
    (FreezeTime, b"\x00\x00\x31\x04\x26", "is not a time"),  # 2026-04-31
    (FreezeTime, b"\x60\x00\x01\x01\x26", "is not a time"),  # minute 60
    (FreezeTime, b"\x00\x0a\x01\x01\x26", "is not BCD"),
    (FreezeEnergy, bytes(19) + b"\xa0", "is not BCD"),
    (ExtendedFreeze, b"\x01" + bytes(3) + b"\x07" + b"\x00\x00\x01\x01\x26" + bytes(8),
     "0x07 is not a time-quality code"),
    (ExtendedFreeze, bytes(4) + b"\x01" + bytes(13), "empty slot"),
    (ExtendedFreeze, b"\x01" + bytes(17), "a freeze has a time"),
    (ExtendedFreezeBlock, bytes(62 * 18 - 1), "has 1116 bytes, got 1115"),
])
def test_bad_bytes_are_refused_with_the_reason(cls: type, raw: bytes, words: str) -> None:
    with pytest.raises(CatalogError, match=words):
        cls.from_bytes(raw)


def test_values_refuse_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        FreezeTime(30_000)
    with pytest.raises(ValueError, match="4 energies"):
        FreezeEnergy(1, (1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty slot"):
        ExtendedFreeze(0, "exact")
    with pytest.raises(ValueError, match="62 extended freezes"):
        ExtendedFreezeBlock((ExtendedFreeze(),) * 61)
    assert cat.FREEZE_TIME.di(62) == 0x0506003E and cat.MFR_FREEZE.di(1) == 0x04800601
