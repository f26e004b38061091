"""The daily freeze 5004 on the DL/T 698.45 face: its record table (2023 number, 2021 freeze time,
0010-02 and 0020-02 frozen then) equals the firmware's freezes, row selection by last-n and by
time range, column selection, the capture list (attribute 3); the independent PyPI `dlt698`
client reads it from a served meter; forged rows are refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.protocols.dlt698 import catalog as cat
from meterseal.protocols.dlt698.apdu import GetRecord
from meterseal.protocols.dlt698.axdr import NULL, Array, DoubleLongUnsigned, Structure
from meterseal.protocols.dlt698.errors import CodecError, Dar, MeterRefused
from meterseal.protocols.dlt698.freezes import (
    FREEZE_COLUMNS,
    FREEZE_NUMBER,
    FREEZE_TIME,
    FROZEN_EXPORT,
    FROZEN_IMPORT,
    DailyFreezeRow,
)
from meterseal.protocols.dlt698.refs import Oad, OadData, SelectAll, Selector2, Selector9
from meterseal.protocols.dlt698.reports import ReportDesk, ReportSettings
from meterseal.protocols.dlt698.session import Dlt698Session
from meterseal.protocols.dlt698.values import MS_LIMIT, U32, date_time_s
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import LoadStep, Outage, Scenario, load_scenario
from tests.dlt645_helpers import SCENARIO, FakeClock
from tests.dlt698_helpers import memory_client

H = 3_600_000_000
FREEZE = Oad(cat.OI_DAILY_FREEZE, 2)


@pytest.fixture(scope="module")
def meter() -> LiveMeter:
    """Five days at 1.5 kW import and 0.2 kW export, mains off across two midnights; the
    address of the helpers' server."""
    sc = Scenario(name="freezes", start=datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(
        hours=8))), duration_us=5 * 24 * H, outages=(Outage(27 * H, 54 * H),),
                  loads=(LoadStep(0, 1500.0, 200.0),),
                  overrides=(("meter.address", "202603010042"),))
    return LiveMeter.from_scenario(sc, clock=FakeClock())


@pytest.fixture
def client(meter: LiveMeter):  # type: ignore[no-untyped-def]
    return memory_client(Dlt698Session(meter, desk=ReportDesk(ReportSettings(
        allow_follow=False))))


def _rows(client, rsd=None, columns=()):  # type: ignore[no-untyped-def]
    return client.get_record(GetRecord(FREEZE, rsd or SelectAll(), columns)).rows


def test_the_record_table_is_the_firmwares_freezes(client, meter: LiveMeter) -> None:  # type: ignore[no-untyped-def]
    freezes = meter.image().freezes
    got = [DailyFreezeRow.from_data(Structure(r)) for r in _rows(client)]
    assert [(r.number, r.time_ms, r.import_units, r.export_units) for r in got] == [
        (f.seq - 1, f.time_ms, f.import_units, f.export_units) for f in freezes]
    assert len(got) == 5 and got[0].number == 4  # newest first, the first freeze numbered 0
    whole = client.get(Oad(cat.OI_DAILY_FREEZE, 2))
    assert [DailyFreezeRow.from_data(r) for r in whole.items] == got


def test_rows_by_last_n_and_by_time_range_columns_by_oad(client, meter: LiveMeter) -> None:  # type: ignore[no-untyped-def]
    everything = [DailyFreezeRow.from_data(Structure(r)) for r in _rows(client)]
    for n in (1, 3, 5):
        (row,) = _rows(client, Selector9(n))
        assert DailyFreezeRow.from_data(Structure(row)) == everything[n - 1]
    assert not _rows(client, Selector9(6))
    lo, hi = everything[3].time_ms, everything[1].time_ms  # [lo, hi): the 4th and 3rd latest
    ranged = _rows(client, Selector2(FREEZE_TIME, date_time_s(lo), date_time_s(hi), NULL))
    assert [DailyFreezeRow.from_data(Structure(r)) for r in ranged] == everything[2:4]
    cols = (FREEZE_TIME, FROZEN_IMPORT, Oad(0x2022, 2))  # a column 5004 has not: null
    (row,) = _rows(client, Selector9(1), cols)
    assert row == (date_time_s(everything[0].time_ms),
                   Array((DoubleLongUnsigned(everything[0].import_units),)), NULL)


def test_the_capture_list_and_the_attributes_it_has_not(client) -> None:  # type: ignore[no-untyped-def]
    capture = client.get(Oad(cat.OI_DAILY_FREEZE, 3))
    entries = [tuple(e.items) for e in capture.items]
    assert [(p.value, o.oad, d.value) for p, o, d in entries] == [
        (1, FROZEN_IMPORT, 62), (1, FROZEN_EXPORT, 62)]
    assert isinstance(entries[0][1], OadData)
    with pytest.raises(MeterRefused) as err:
        client.get(Oad(cat.OI_DAILY_FREEZE, 9))
    assert err.value.dar == Dar.OBJECT_UNDEFINED
    with pytest.raises(MeterRefused) as err:  # records are attribute 2's only
        client.get_record(GetRecord(Oad(cat.OI_DAILY_FREEZE, 3), SelectAll(), ()))
    assert err.value.dar == Dar.OBJECT_UNDEFINED


@given(st.integers(0, U32 - 1), st.integers(0, MS_LIMIT // 1000 - 1), st.integers(0, U32 - 1),
       st.integers(0, U32 - 1))
def test_a_row_round_trips(number: int, seconds: int, imp: int, exp: int) -> None:
    row = DailyFreezeRow(number, seconds * 1000, imp, exp)
    assert DailyFreezeRow.from_bytes(row.to_bytes()) == row
    assert tuple(row.columns()) == FREEZE_COLUMNS and FREEZE_COLUMNS[0] == FREEZE_NUMBER


def test_forged_rows_are_refused() -> None:
    good = DailyFreezeRow(3, 86_400_000, 100, 0).to_data()
    assert isinstance(good, Structure)
    short = Structure(good.items[:3])
    with pytest.raises(CodecError):
        DailyFreezeRow.from_bytes(short.to_bytes())
    swapped = Structure((good.items[1], good.items[0], *good.items[2:]))
    with pytest.raises(CodecError):
        DailyFreezeRow.from_bytes(swapped.to_bytes())
    with pytest.raises(ValueError, match="32 bits"):
        DailyFreezeRow(U32, 0, 0, 0)


def test_the_peer_reads_the_daily_freezes_of_a_served_meter() -> None:
    dlt698 = pytest.importorskip("dlt698")
    from dlt698 import _native as n

    from tests.dlt698_helpers import peer_client, serve698

    meter = LiveMeter.from_scenario(load_scenario(SCENARIO), clock=FakeClock())
    freezes = meter.image().freezes
    assert len(freezes) == 2 and dlt698 is not None
    with serve698() as served:
        client = peer_client(served.ports["DL/T 698.45"])
        try:
            result = client.get_record(n.GetRecord(
                attribute=n.Oad(oi=0x5004, attribute=2, index=0), columns=[],
                rows=n.SelectAll()))
        finally:
            client.close()
    assert not isinstance(result.result, int), f"DAR {result.result}"
    assert [(c.oi, c.attribute) for c in result.columns] == [(0x2023, 2), (0x2021, 2),
                                                             (0x0010, 2), (0x0020, 2)]
    got = [[v for v in row] for row in result.result]
    assert [row[0].value for row in got] == [f.seq - 1 for f in freezes]
    for row, f in zip(got, freezes, strict=True):
        t = datetime(2000, 1, 1) + timedelta(milliseconds=f.time_ms)
        assert list(row[1].as_date_time_s())[:7] == [t.year >> 8, t.year & 0xFF, t.month,
                                                     t.day, t.hour, t.minute, t.second]
        assert [v.value for v in row[2].value] == [f.import_units]
