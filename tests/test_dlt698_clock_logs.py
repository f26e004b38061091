"""The clock logs on the DL/T 698.45 face: 3016 (time setting) and 303C (broadcast time) as
class-7 objects, with FF16 / FF3C (ours) beside them, decoded from the authority journal's NVM
pages. Both faces of one served meter tell the same clock changes (the PyPI ``dlt698`` client
reads 698, our DL/T 645 client reads 645); a change is never answered from a stale cache; a
reset or a whole-meter event clear leaves the clock logs as they were."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterseal.firmware import authlog
from meterseal.firmware.layout import NVM_SIZE
from meterseal.protocols.dlt698 import catalog as cat
from meterseal.protocols.dlt698.apdu import GetRecord
from meterseal.protocols.dlt698.axdr import NULL, DoubleLongUnsigned, Structure
from meterseal.protocols.dlt698.errors import Dar, MeterRefused
from meterseal.protocols.dlt698.events import (
    CLOCK_AFTER,
    CLOCK_BEFORE,
    END_TIME,
    RECORD_NUMBER,
    START_TIME,
    ClockChangeRow,
    QualityClockRow,
)
from meterseal.protocols.dlt698.refs import Oad, Omd, SelectAll, Selector1, Selector2, Selector9
from meterseal.protocols.dlt698.session import Dlt698Session
from meterseal.protocols.dlt698.tables import build_clock_tables
from meterseal.protocols.dlt698.values import CurrentValue, TimeStatus, date_time_s
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import ADDRESS, PASSWORD, SCENARIO, FakeClock
from tests.dlt698_helpers import memory_client, peer_client, serve698

OPERATOR = b"\x12\x34\x56\x78"
HOUR = 3_600_000
MIN = 60_000
TIME_SET = Oad(cat.OI_TIME_SET, 2)
BROADCAST = Oad(cat.OI_BROADCAST_TIME, 2)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture
def meter(scenario):
    return LiveMeter.from_scenario(scenario, clock=FakeClock())


@pytest.fixture
def client(meter):
    return memory_client(Dlt698Session(meter))


def rows(client, oad: Oad, rsd=None) -> list[ClockChangeRow]:  # type: ignore[no-untyped-def]
    result = client.get_record(GetRecord(oad, rsd or SelectAll(), ()))
    assert result.dar == 0, result
    return [ClockChangeRow.from_data(Structure(r)) for r in result.rows]


def floor_s(ms: int) -> int:
    return ms // 1000 * 1000


# ------------------------------------------------------------------------ one meter, in memory


def test_a_meter_whose_clock_never_moved_serves_empty_clock_logs(client):
    for oi in (cat.OI_TIME_SET, cat.OI_BROADCAST_TIME):
        assert rows(client, Oad(oi, 2)) == []
        assert client.get(Oad(oi, 4)).value == 0  # type: ignore[attr-defined]
        assert CurrentValue.from_data(client.get(Oad(oi, 7))) == CurrentValue(0, 0)
        assert TimeStatus.from_data(client.get(Oad(oi, 10))) == TimeStatus(None, None)


def test_an_authorised_set_and_a_broadcast_are_served_with_the_time_before_and_after(meter,
                                                                                     client):
    first = meter.clock()[0]
    meter.set_time(first - HOUR, OPERATOR)
    second = meter.clock()[0]
    assert meter.broadcast_time(second - MIN) == authlog.BC_ACCEPTED

    (time_set,) = rows(client, TIME_SET)
    assert (time_set.number, time_set.before_ms, time_set.after_ms) == (
        0, floor_s(first), floor_s(first - HOUR))
    (broadcast,) = rows(client, BROADCAST)
    assert (broadcast.before_ms, broadcast.after_ms) == (floor_s(second), floor_s(second - MIN))
    # the columns name themselves: the standard record unit, then 4000 before and after
    result = client.get_record(GetRecord(TIME_SET, SelectAll(), ()))
    assert result.columns == cat.TIME_SET.columns
    assert result.columns[-2:] == (CLOCK_BEFORE, CLOCK_AFTER)
    assert [o.oad for o in client.get(Oad(cat.OI_TIME_SET, 3)).items] == [  # type: ignore[attr-defined]
        CLOCK_BEFORE, CLOCK_AFTER]

    # ours beside them: the operator as DL/T 645 took it, the clock valid, the broadcast total
    (mine,) = (QualityClockRow.from_data(r) for r in client.get(
        Oad(cat.OI_MFR_TIME_SET, 2)).items)  # type: ignore[attr-defined]
    assert mine == QualityClockRow(1, OPERATOR, True, floor_s(first), floor_s(first - HOUR), 0)
    (bc,) = (QualityClockRow.from_data(r) for r in client.get(
        Oad(cat.OI_MFR_BROADCAST_TIME, 2)).items)  # type: ignore[attr-defined]
    assert bc.operator == bytes(4) and bc.seq == 1


def test_the_class_7_attributes_and_selectors_of_a_full_log(meter, client):
    """Twelve authorised sets: the latest ten are held, the count says twelve."""
    sets = []
    for i in range(12):
        before = meter.clock()[0]
        meter.set_time(before + (i + 1) * MIN, OPERATOR)
        sets.append((floor_s(before), floor_s(before + (i + 1) * MIN)))
    got = rows(client, TIME_SET)
    assert [(r.before_ms, r.after_ms) for r in got] == sets[::-1][:10]
    assert [r.number for r in got] == list(range(11, 1, -1))
    assert client.get(Oad(cat.OI_TIME_SET, 4)).value == 10  # type: ignore[attr-defined]
    assert client.get(Oad(cat.OI_TIME_SET, 5)).value == 10  # type: ignore[attr-defined]
    assert CurrentValue.from_data(client.get(Oad(cat.OI_TIME_SET, 7))) == CurrentValue(12, 0)
    assert TimeStatus.from_data(client.get(Oad(cat.OI_TIME_SET, 10))) == TimeStatus(*sets[-1])
    assert client.get(Oad(cat.OI_TIME_SET, 8)).value == cat.REPORT_NONE  # type: ignore[attr-defined]

    assert rows(client, TIME_SET, Selector9(1)) == got[:1]
    assert rows(client, TIME_SET, Selector9(4)) == got[3:4]
    assert rows(client, TIME_SET, Selector9(11)) == []
    assert rows(client, TIME_SET, Selector1(RECORD_NUMBER, DoubleLongUnsigned(5))) == [
        r for r in got if r.number == 5]
    lo, hi = got[6].before_ms, got[2].before_ms
    assert lo is not None and hi is not None
    by_time = Selector2(START_TIME, date_time_s(lo), date_time_s(hi), NULL)
    assert rows(client, TIME_SET, by_time) == got[3:7]
    # columns by RCSD, the way a concentrator asks for just the two times
    picked = client.get_record(GetRecord(TIME_SET, Selector9(1), (START_TIME, END_TIME)))
    assert picked.rows == ((date_time_s(sets[-1][0]), date_time_s(sets[-1][1])),)


def test_a_change_is_never_answered_from_the_cache(meter, client):
    query = GetRecord(TIME_SET, SelectAll(), ())
    assert client.get_record(query).rows == ()
    assert client.get_record(query).rows == ()  # the same bytes again: the session's cache
    count = Oad(cat.OI_TIME_SET, 7)
    assert CurrentValue.from_data(client.get(count)).count == 0
    meter.set_time(meter.clock()[0] - HOUR, OPERATOR)
    assert len(client.get_record(query).rows) == 1
    assert CurrentValue.from_data(client.get(count)).count == 1


def test_no_reset_or_clear_erases_a_clock_change(meter, client):
    meter.set_time(meter.clock()[0] - HOUR, OPERATOR)
    before = rows(client, TIME_SET)
    client.connect(PASSWORD)
    assert client.action(Omd(cat.OI_TIME_SET, 1)) == Dar.READ_WRITE_DENIED
    assert client.action(Omd(cat.OI_BROADCAST_TIME, 1)) == Dar.READ_WRITE_DENIED
    assert client.action(Omd(cat.OI_DEVICE, cat.DEVICE_METHOD_EVENT_INIT)) == Dar.SUCCESS
    assert rows(client, TIME_SET) == before
    assert CurrentValue.from_data(client.get(Oad(cat.OI_TIME_SET, 7))).count == 1
    # the clock logs have a record table; ours beside them have none
    with pytest.raises(MeterRefused) as refused:
        client.get_record(GetRecord(Oad(cat.OI_MFR_TIME_SET, 2), SelectAll(), ()))
    assert refused.value.dar == Dar.INTERFACE_CLASS_MISMATCH


def test_a_meter_built_from_the_nvm_dump_alone_serves_the_same_clock_logs(meter, client):
    """The face reads the clock logs from NVM bytes, as any reader of the chip would."""
    meter.set_time(meter.clock()[0] - HOUR, OPERATOR)
    assert meter.broadcast_time(meter.clock()[0] + MIN) == authlog.BC_ACCEPTED
    again = LiveMeter.from_image(
        meter.nvm_image(), address=ADDRESS, utc_offset_h=8.0, energy_units=meter.energy(),
        clock_local_ms=meter.clock()[0], clock=FakeClock(),
    )
    other = memory_client(Dlt698Session(again))
    for oad in (TIME_SET, BROADCAST):
        assert rows(other, oad) == rows(client, oad) != []
    for oi in (cat.OI_MFR_TIME_SET, cat.OI_MFR_BROADCAST_TIME, cat.OI_TIME_SET):
        assert other.get(Oad(oi, 2)) == client.get(Oad(oi, 2))


def test_a_clock_reading_no_date_time_can_carry_is_served_as_null():
    """A clock that had lost its time may have read anything: the row says nothing rather than
    a wrapped year, and the other time and the count stay served."""
    nvm = bytearray(b"\xff" * NVM_SIZE)
    rec = authlog.ClockChange(authlog.KIND_TIME_SET, 1, 7, (1 << 48) - 1, 825_836_400_000, 0)
    page = authlog.encode_page(rec)
    nvm[authlog.time_set_addr(1):authlog.time_set_addr(1) + len(page)] = page
    table = build_clock_tables(bytes(nvm))[cat.OI_TIME_SET]
    (row,) = table.rows
    assert row.before_ms is None and row.after_ms == 825_836_400_000
    assert row.columns()[START_TIME] is NULL and row.columns()[CLOCK_BEFORE] is NULL
    assert table.count == 1 and table.history[0].before_valid is False  # type: ignore[union-attr]
    # a torn copy of that page decodes to nothing, and nothing is served from it
    nvm[authlog.time_set_addr(1) + 3] ^= 0xFF
    assert build_clock_tables(bytes(nvm))[cat.OI_TIME_SET].rows == ()


changes = st.lists(
    st.tuples(
        st.integers(0, 0xFFFFFFFF),
        st.integers(0, 3_155_760_000_000 - 1),  # the clock before, ms in 2000..2099
        st.integers(0, 3_155_760_000_000 - 1),
        st.booleans(),
    ),
    max_size=14,
)


@settings(max_examples=60, deadline=None)
@given(changes, st.sampled_from([authlog.KIND_TIME_SET, authlog.KIND_BROADCAST]))
def test_any_sequence_of_clock_changes_reads_back_from_the_nvm(entries, kind):
    """Whatever the firmware's journal wrote, the 698 rows are its latest ten, newest first,
    with the times to the second and the count of all of them."""
    nvm = bytearray(b"\xff" * NVM_SIZE)
    journal = authlog.AuthJournal(lambda a, n: bytes(nvm[a:a + n]))
    journal.recover()
    for op, before, after, valid in entries:
        addr, data = journal.clock_change(kind, op, before, after, valid)
        nvm[addr:addr + len(data)] = data
        journal.committed(addr, data)
    oi = cat.OI_TIME_SET if kind == authlog.KIND_TIME_SET else cat.OI_BROADCAST_TIME
    table = build_clock_tables(bytes(nvm))[oi]
    latest = entries[::-1][:10]
    assert [(r.before_ms, r.after_ms) for r in table.rows] == [
        (floor_s(b), floor_s(a)) for _op, b, a, _v in latest]
    assert [(h.operator, h.before_valid) for h in table.history] == [  # type: ignore[union-attr]
        (op.to_bytes(4, "little"), v) for op, _b, _a, v in latest]
    assert table.count == len(entries)
    assert [r.number for r in table.rows] == [len(entries) - 1 - i for i in range(len(latest))]


# --------------------------------------------------------- a served meter, both faces compared


def _local_ms(octets7: list[int]) -> int:
    t = datetime(octets7[0] << 8 | octets7[1], *octets7[2:7])
    return int((t - datetime(2000, 1, 1)).total_seconds()) * 1000


def _peer_rows(client, oi: int, rows):  # type: ignore[no-untyped-def]
    from dlt698 import _native as n

    result = client.get_record(n.GetRecord(attribute=n.Oad(oi=oi, attribute=2, index=0),
                                           columns=[], rows=rows))
    assert not isinstance(result.result, int), f"DAR {result.result}"
    out = []
    for row in result.result:
        cells = {}
        for c, v in zip(result.columns, row, strict=True):
            kind = v.type.name
            cells[(c.oi, c.attribute)] = (
                None if kind == "null" else _local_ms(list(v.as_date_time_s())[:7])
                if kind == "date_time_s" else v.value
            )
        out.append(cells)
    return out


def _read645(c, di: int) -> bytes:  # type: ignore[no-untyped-def]
    from meterseal.protocols.dlt645.frame import address_from_string, read_request

    reply = c.request(read_request(address_from_string(ADDRESS), di))
    assert reply.control == 0x91, reply
    return bytes(reply.data[4:])


def test_both_faces_of_a_served_meter_tell_the_same_clock_changes():
    """After an authorised time set and an accepted broadcast (both over DL/T 645), the PyPI
    dlt698 client reads 3016 and 303C, and their counts and records agree with 03 30 04 xx and
    the broadcast log of our vendor block, row by row."""
    pytest.importorskip("dlt698")
    from dlt698 import _native as n

    from meterseal.firmware.bcd import count3_to_int
    from meterseal.protocols.dlt645.catalog import DI_TIME, MeterTime, StandardTimeSet
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.frame import (
        Frame,
        FunctionCode,
        address_from_string,
        di_to_bytes,
    )
    from meterseal.protocols.dlt645.session import broadcast_time_data

    me = address_from_string(ADDRESS)
    with serve698(dlt645=True) as served:
        peer = peer_client(served.ports["DL/T 698.45"])
        try:
            clock = peer.get(n.Oad(oi=0x4000, attribute=2, index=0)).require_data()
            now = _local_ms(list(clock.as_date_time_s())[:7])
            with Dlt645Client.tcp("127.0.0.1", served.ports["DL/T 645"]) as c:
                hhmmss = MeterTime((now - HOUR) % 86_400_000).to_bytes()
                write = di_to_bytes(DI_TIME) + b"\x02" + bytes.fromhex(PASSWORD) + OPERATOR
                assert c.request(Frame(me, FunctionCode.WRITE, write + hhmmss)).control == 0x94
                target = now - HOUR - MIN
                reply = c.request(Frame(me, FunctionCode.BROADCAST_TIME,
                                        broadcast_time_data(target)))
                assert reply.control == 0x88, reply
                set_count = count3_to_int(_read645(c, 0x03300400))
                set_645 = StandardTimeSet.from_bytes(_read645(c, 0x03300401))
                bc_count = count3_to_int(_read645(c, 0x04800800))
                bc_645 = StandardTimeSet.from_bytes(_read645(c, 0x04800801))
                assert StandardTimeSet.from_bytes(_read645(c, 0x03300402)).is_empty

            assert set_count == bc_count == 1
            for oi, rec in ((cat.OI_TIME_SET, set_645), (cat.OI_BROADCAST_TIME, bc_645)):
                (row,) = _peer_rows(peer, oi, n.SelectAll())
                assert row[(0x2022, 2)] == 0
                assert row[(0x201E, 2)] == row[(0x4000, 0x22)] == rec.before_ms
                assert row[(0x2020, 2)] == row[(0x4000, 0x82)] == rec.after_ms
                assert row[(0x2024, 2)] is None
                assert _peer_rows(peer, oi, n.Selector9(previous=1)) == [row]
                by_number = n.Selector1(attribute=n.Oad(oi=0x2022, attribute=2, index=0),
                                        value=n.Data.uint32(0))
                assert _peer_rows(peer, oi, by_number) == [row]
                stats = peer.get(n.Oad(oi=oi, attribute=7, index=0)).require_data()
                assert stats.value[0].value[1].value[0].value == 1  # the count, as 645's
                assert peer.get(n.Oad(oi=oi, attribute=4, index=0)).require_data().value == 1
            assert set_645.operator == OPERATOR and bc_645.operator == bytes(4)
            assert abs(set_645.after_ms - (now - HOUR)) <= 2000
            assert bc_645.before_ms is not None and bc_645.after_ms == floor_s(target)
            # the operator DL/T 645 shows is in ours beside 3016, byte for byte
            mine = peer.get(n.Oad(oi=cat.OI_MFR_TIME_SET, attribute=2, index=0)).require_data()
            assert bytes(mine.value[0].value[1].value) == set_645.operator
        finally:
            peer.close()
