"""The DL/T 698.45 meter session against the live meter a scenario leaves behind, without
sockets (our client over an in-memory link): every answer checked against what the twin
recorded for the same scenario (result_dict), the association rules, the guarded event clear,
link segments, follow reports, and the time quality that never passes for an exact time."""

from __future__ import annotations

from datetime import datetime

import pytest

from meterseal.protocols.dlt645.frame import Frame as Frame645
from meterseal.protocols.dlt645.frame import address_from_string, di_to_bytes
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.protocols.dlt698 import catalog as cat
from meterseal.protocols.dlt698.access import GetRequest, ReportResponse
from meterseal.protocols.dlt698.apdu import GetRecord
from meterseal.protocols.dlt698.axdr import NULL, Array, DoubleLongUnsigned, Structure
from meterseal.protocols.dlt698.axdr_time import DateTimeS, Ti
from meterseal.protocols.dlt698.errors import Dar, MeterRefused
from meterseal.protocols.dlt698.events import (
    AllTimeTotals,
    CoverOpenRow,
    EventClearRow,
    PowerDownRow,
    QualityCoverRow,
)
from meterseal.protocols.dlt698.frame import (
    AddressType,
    Frame,
    ServerAddress,
    decode,
    encode,
)
from meterseal.protocols.dlt698.refs import (
    Oad,
    Omd,
    Road,
    SelectAll,
    Selector1,
    Selector2,
    Selector3,
    Selector9,
)
from meterseal.protocols.dlt698.reports import ReportDesk, ReportSettings
from meterseal.protocols.dlt698.services import Association
from meterseal.protocols.dlt698.session import TRANSITIONS, Dlt698Session, Event, State
from meterseal.protocols.dlt698.values import (
    START_CONFIRMED,
    START_REPORTED,
    CurrentValue,
    TimeStatus,
    date_time_s,
)
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import ADDRESS, SCENARIO, FakeClock
from tests.dlt698_helpers import PASSWORD, SERVER, memory_client

COVER = Oad(cat.OI_COVER_OPEN, 2)


def local_ms(t: str) -> int:
    """An ISO time of the twin as the meter's local epoch ms, to the second."""
    dt = datetime.fromisoformat(t).replace(tzinfo=None)
    return int((dt - datetime(2000, 1, 1)).total_seconds()) * 1000


def units(kwh: float) -> int:
    return round(kwh * 100)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def twin(scenario):
    return result_dict(simulate(scenario, trace=False))


@pytest.fixture
def meter(scenario):
    return LiveMeter.from_scenario(scenario, clock=FakeClock())


@pytest.fixture
def session(meter):
    return Dlt698Session(meter, desk=ReportDesk(ReportSettings(allow_follow=False)))


@pytest.fixture
def client(session):
    return memory_client(session)


def rows(client, oi: int, cls, rsd=None, columns=()):  # type: ignore[no-untyped-def]
    result = client.get_record(GetRecord(Oad(oi, 2), rsd or SelectAll(), columns))
    return [cls.from_data(Structure(r)) for r in result.rows]


# ------------------------------------------------------------------------------- the records


def test_cover_open_rows_equal_the_twin(client, twin):
    recs = twin["records"]
    newest = sorted(recs["cover_open"], key=lambda r: -r["seq"])
    got = rows(client, cat.OI_COVER_OPEN, CoverOpenRow)
    assert len(got) == 10 and recs["cover_open_total"] == 13
    for row, want in zip(got, newest, strict=True):
        assert row.number == want["seq"] - 1  # the ordinal since the last clear, from 0
        assert row.start_ms == local_ms(want["opened_at"])
        if want["closed_at"] is None:
            assert row.end_ms is None and row.import_after is None
        else:
            assert row.end_ms == local_ms(want["closed_at"])
            assert row.import_after == units(want["energy_after_kwh"]["import_active"])
            assert row.export_after == units(want["energy_after_kwh"]["export_active"])
        assert row.import_before == units(want["energy_before_kwh"]["import_active"])
        assert row.export_before == units(want["energy_before_kwh"]["export_active"])
        # the firmware's module sent every one of these openings (run log: reports)
        assert row.report.bits == START_REPORTED and row.report.channel == Oad(0xF209, 2, 1)


def test_the_class_7_attributes(client, twin, meter):
    recs = twin["records"]
    assert client.get(Oad(cat.OI_COVER_OPEN, 4)) == client.get(Oad(cat.OI_COVER_OPEN, 5))
    current = CurrentValue.from_data(client.get(Oad(cat.OI_COVER_OPEN, 7)))
    assert current.count == recs["cover_open_total"]
    closed = [r for r in recs["cover_open"] if r["closed_at"]]
    held = sorted(closed, key=lambda r: -r["seq"])[:9]  # the nine closed of the latest ten
    assert current.cumulative_s == sum(
        (local_ms(r["closed_at"]) - local_ms(r["opened_at"])) // 1000 for r in held
    )
    newest = max(recs["cover_open"], key=lambda r: r["seq"])
    status = TimeStatus.from_data(client.get(Oad(cat.OI_COVER_OPEN, 10)))
    assert status == TimeStatus(local_ms(newest["opened_at"]), None)  # still open
    associated = client.get(Oad(cat.OI_COVER_OPEN, 3))
    assert [o.oad for o in associated.items] == [Oad.of(v) for v in (
        0x00102201, 0x00202201, 0x00108201, 0x00208201)]
    assert client.get(Oad(cat.OI_COVER_OPEN, 8)).value == 1  # report the start
    assert client.get(Oad(cat.OI_COVER_OPEN, 9)).value is True
    assert client.get(Oad(cat.OI_COVER_OPEN, 11)).value == 0  # active report
    # an element of the record table: the 2nd latest row
    second = CoverOpenRow.from_data(client.get(Oad(cat.OI_COVER_OPEN, 2, 2)))
    assert second == rows(client, cat.OI_COVER_OPEN, CoverOpenRow)[1]
    with pytest.raises(MeterRefused) as refused:
        client.get(Oad(cat.OI_COVER_OPEN, 2, 11))
    assert refused.value.dar == Dar.OUT_OF_RANGE


def test_power_down_clock_address_energy(client, twin, meter):
    pds = sorted(twin["records"]["power_down"], key=lambda p: p["from"], reverse=True)
    got = rows(client, cat.OI_POWER_DOWN, PowerDownRow)
    assert [(r.start_ms, r.end_ms) for r in got] == [
        (local_ms(p["from"]), local_ms(p["to"]) if p["to"] else None) for p in pds
    ]
    assert client.get(Oad(cat.OI_DATE_TIME, 2)) == date_time_s(meter.clock()[0])
    assert client.get(Oad(cat.OI_ADDRESS, 2)).value == bytes.fromhex(ADDRESS)
    imp, exp = meter.energy()
    assert client.get(Oad(cat.OI_IMPORT_ENERGY, 2)) == Array((DoubleLongUnsigned(imp),))
    assert client.get(Oad(cat.OI_EXPORT_ENERGY, 2, 1)) == DoubleLongUnsigned(exp)
    for oad, dar in ((Oad(0x9999, 2), Dar.OBJECT_UNDEFINED), (Oad(0x301B, 30), 4)):
        with pytest.raises(MeterRefused) as refused:
            client.get(oad)
        assert refused.value.dar == dar


def test_row_selectors(client, twin):
    everything = rows(client, cat.OI_COVER_OPEN, CoverOpenRow)
    for n in (1, 2, 10):
        assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow, Selector9(n)) == [everything[n - 1]]
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow, Selector9(11)) == []
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow, Selector9(0)) == []
    number = Oad(0x2022, 2)
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow,
                Selector1(number, DoubleLongUnsigned(5))) == [r for r in everything
                                                               if r.number == 5]
    start = Oad(0x201E, 2)
    lo, hi = everything[6].start_ms, everything[2].start_ms
    picked = rows(client, cat.OI_COVER_OPEN, CoverOpenRow,
                  Selector2(start, date_time_s(lo), date_time_s(hi), NULL))
    assert picked == everything[3:7]  # [lo, hi), newest first
    both = rows(client, cat.OI_COVER_OPEN, CoverOpenRow, Selector3((
        Selector2(start, date_time_s(lo), date_time_s(lo + 1000), Ti(0, 1)),
        Selector2(start, date_time_s(hi), date_time_s(hi + 1000), NULL),
    )))
    assert both == [everything[2], everything[6]]
    # a mismatched type selects nothing rather than guessing
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow,
                Selector2(start, DoubleLongUnsigned(0), DoubleLongUnsigned(9), NULL)) == []


def test_column_selection(client):
    cols = (Oad(0x201E, 2), Oad(0x2022, 2), Oad(0x4000, 2), Road(Oad(0x5004, 2), ()))
    result = client.get_record(GetRecord(COVER, Selector9(1), cols))
    assert result.columns == cols
    (row,) = result.rows
    full = rows(client, cat.OI_COVER_OPEN, CoverOpenRow, Selector9(1))[0]
    assert row == (date_time_s(full.start_ms), DoubleLongUnsigned(full.number), NULL, NULL)


def test_record_queries_on_what_has_no_table(client):
    for oad, dar in ((Oad(cat.OI_DATE_TIME, 2), Dar.INTERFACE_CLASS_MISMATCH),
                     (Oad(0x9999, 2), Dar.OBJECT_UNDEFINED),
                     (Oad(cat.OI_COVER_OPEN, 4), Dar.OBJECT_UNDEFINED)):
        with pytest.raises(MeterRefused) as refused:
            client.get_record(GetRecord(oad, SelectAll()))
        assert refused.value.dar == dar


# ------------------------------------------------------------------------------ time quality


@pytest.mark.parametrize(
    "case", ["after-exhaustion", "dead-battery-unsynced", "cold-coin-cell-deferred"]
)
def test_time_quality_never_passes_for_an_exact_time(case):
    from meterseal.verify.matrix import case_by_key

    sc = case_by_key(case).scenario
    want = result_dict(simulate(sc, trace=False))["records"]["cover_open"]
    meter = LiveMeter.from_scenario(sc, clock=FakeClock())
    client = memory_client(Dlt698Session(meter), server=ServerAddress(meter.address))
    history = [QualityCoverRow.from_data(v) for v in client.get(Oad(cat.OI_MFR_COVER_OPEN,
                                                                    2)).items]
    standard = rows(client, cat.OI_COVER_OPEN, CoverOpenRow)
    by_seq = {w["seq"]: w for w in want}
    assert {h.seq for h in history} == set(by_seq)
    for h, row in zip(history, standard, strict=True):
        w = by_seq[h.seq]
        assert h.quality == w["time_quality"]
        # the standard column holds the meter's best statement, never a made-up earlier time
        assert row.start_ms == h.start_ms == local_ms(w["opened_at"])
        if w["time_quality"] == "bounded":
            assert h.not_before_ms <= local_ms(w["not_before"])
            assert h.not_after_ms >= local_ms(w["not_after"])
        else:
            assert h.not_before_ms is None and h.not_after_ms is None
    assert any(w["time_quality"] != "exact" for w in want), case


def test_the_manufacturer_objects_need_our_maker_code(client):
    answer = client.connect()
    assert answer.maker == cat.MAKER == "MSEL"
    totals = AllTimeTotals.from_data(client.get(Oad(cat.OI_MFR_COVER_OPEN, 3)))
    assert totals == AllTimeTotals(13, 0)
    assert AllTimeTotals.from_data(client.get(Oad(cat.OI_MFR_POWER_DOWN, 3))).total == 5


# ------------------------------------------------------------------------------- association


def test_the_association_table():
    assert TRANSITIONS == {
        Event.CONNECT_PUBLIC: State.PUBLIC,
        Event.CONNECT_PASSWORD: State.AUTHORISED,
        Event.CONNECT_REFUSED: State.PRESET,
        Event.RELEASE: State.PRESET,
    }


def test_connect_release_and_password(session, client, meter):
    assert session.state == State.PRESET
    client.connect()
    assert session.state == State.PUBLIC
    client.release()
    assert session.state == State.PRESET
    with pytest.raises(MeterRefused, match="wrong password") as refused:
        client.connect("000000")
    assert refused.value.dar == 1 and session.state == State.PRESET
    client.connect(PASSWORD)
    assert session.state == State.AUTHORISED
    assert meter.lockout().failures == 1


def test_a_wrong_password_locks_out_for_the_day_shared_with_dlt645(session, client, meter):
    for _ in range(meter.max_password_tries_per_day):
        with pytest.raises(MeterRefused):
            client.connect("999999")
    with pytest.raises(MeterRefused):
        client.connect(PASSWORD)  # locked: even the right one
    assert session.state == State.PRESET


def test_reset_needs_authority(session, client, meter):
    reset = Omd(cat.OI_COVER_OPEN, 1)
    assert client.action(reset) == Dar.PASSWORD_OR_UNAUTHORISED
    client.connect()
    assert client.action(reset) == Dar.PASSWORD_OR_UNAUTHORISED
    client.connect(PASSWORD)
    assert meter.programming_key_pressed()
    assert client.action(Omd(0x9999, 1)) == Dar.OBJECT_UNDEFINED
    assert client.action(reset) == Dar.SUCCESS
    assert meter.image().clear_total == 1


def test_an_authorised_reset_leaves_a_clear_record_and_hides_nothing(client, meter):
    client.connect(PASSWORD)
    before = client.get(Oad(cat.OI_MFR_COVER_OPEN, 2))
    assert client.action(Omd(cat.OI_DEVICE, 5)) == Dar.SUCCESS  # every event log
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow) == []
    assert CurrentValue.from_data(client.get(Oad(cat.OI_COVER_OPEN, 7))).count == 0
    (clear,) = rows(client, cat.OI_EVENT_CLEAR, EventClearRow)
    assert clear.cleared == (Omd(cat.OI_DEVICE, 5),) and clear.number == 0
    after = [QualityCoverRow.from_data(v) for v in client.get(
        Oad(cat.OI_MFR_COVER_OPEN, 2)).items]
    assert len(after) == len(before.items) == 10 and all(r.cleared for r in after)
    assert AllTimeTotals.from_data(client.get(Oad(cat.OI_MFR_COVER_OPEN, 3))) == AllTimeTotals(
        13, 13)
    # the DL/T 645 face sees the same clear: one event-clear record, DI FFFFFFFF
    dlt645 = Dlt645Session(meter)
    me = address_from_string(ADDRESS)
    reply = dlt645.answer(Frame645(me, 0x11, di_to_bytes(0x03300301)))
    assert reply is not None and reply.data[-4:] == di_to_bytes(0xFFFFFFFF)


def test_a_dlt645_clear_shows_in_3015_as_the_cover_reset(meter, client):
    dlt645 = Dlt645Session(meter)
    me = address_from_string(ADDRESS)
    clear = Frame645(me, 0x1B, bytes.fromhex("02123456") + b"\x07\x00\x00\x00"
                     + di_to_bytes(0x03300DFF))
    assert dlt645.answer(clear).control == 0x9B
    (row,) = rows(client, cat.OI_EVENT_CLEAR, EventClearRow)
    assert row.cleared == (Omd(cat.OI_COVER_OPEN, 1),)


# ------------------------------------------------------------------------- frames and links


def test_addressing(session):
    get = GetRequest(1, (Oad(cat.OI_ADDRESS, 2),)).to_bytes()

    def ask(sa: ServerAddress, control: int = 0x43) -> list[bytes]:
        return session.handle(Frame(control, sa, 0x10, get))

    assert len(ask(SERVER)) == 1
    assert len(ask(ServerAddress(b"\xaa" * 6, AddressType.WILDCARD))) == 1
    reply = decode(ask(ServerAddress(b"\xaa" * 6))[0])
    assert reply.server == SERVER and reply.control == 0xC3 and reply.client == 0x10
    assert ask(ServerAddress.of("202603010043")) == []
    assert ask(ServerAddress(b"\xaa", AddressType.BROADCAST)) == []  # acted on, not answered
    assert ask(SERVER, control=0xC3) == []  # a server's frame (an echo)
    assert ask(SERVER, control=0x41) == []  # link management, not a request
    assert ask(SERVER)[0].startswith(b"\xfe" * 4)


def test_a_long_answer_goes_in_segments(session, meter):
    client = memory_client(session)
    client.connect(association=Association(receive_frame=96, send_frame=96))
    assert session._client_frame == 96
    sent = []
    link = client.link
    write = link.write
    link.write = lambda data: (sent.append(data), write(data))[1]  # type: ignore[method-assign]
    everything = rows(client, cat.OI_COVER_OPEN, CoverOpenRow)
    assert len(everything) == 10
    acks = [decode(raw) for raw in sent if decode(raw).segmented]
    assert len(acks) > 5  # the client acknowledged each segment but the last
    whole = memory_client(Dlt698Session(meter))
    assert rows(whole, cat.OI_COVER_OPEN, CoverOpenRow) == everything


def test_a_request_in_segments_is_acknowledged_and_answered(session):
    from meterseal.protocols.dlt698.frame import SEGMENT_BIT, Segment, SegmentType, split_apdu

    apdu = GetRequest(7, tuple(Oad(cat.OI_ADDRESS, 2) for _ in range(30)), True).to_bytes()
    pieces = split_apdu(apdu, 20)
    replies = []
    for seg in pieces:
        out = session.handle(Frame(0x43 | SEGMENT_BIT, SERVER, 0x10, seg.to_bytes()))
        replies.append([decode(r) for r in out])
    for seg, out in zip(pieces[:-1], replies[:-1], strict=True):
        (ack,) = out
        assert ack.segment() == Segment(seg.sequence, SegmentType.ACK)
    (answer,) = replies[-1]
    assert answer.data[:3] == bytes((0x85, 2, 7)) and answer.data[3] == 30
    # a piece out of turn drops the transfer: no answer, no wedge
    assert session.handle(Frame(0x43 | SEGMENT_BIT, SERVER, 0x10, pieces[2].to_bytes())) == []


def test_garbage_apdus_get_an_error_response(session):
    for apdu, error in ((b"\x05\x01", 1), (b"\x05\x09\x01\x00", 1), (b"\x09\x01\x00", 2),
                        (b"\x10\x00", 2)):
        (raw,) = session.handle(Frame(0x43, SERVER, 0x10, apdu))
        reply = decode(raw)
        assert reply.data[0] == 0xEE and reply.data[2] == error
    assert session.handle(Frame(0x43, SERVER, 0x10, b"")) == []


def test_set_is_refused_and_get_next_has_nothing_to_continue(client):
    from meterseal.protocols.dlt698.access import GetNextRequest, SetRequest

    answer = client.request(SetRequest(client.next_piid(), Oad(cat.OI_DATE_TIME, 2),
                                       DateTimeS(2026, 1, 1, 0, 0, 0)))
    assert answer.dar == Dar.READ_WRITE_DENIED
    answer = client.request(GetNextRequest(client.next_piid(), 1))
    assert answer.dar == Dar.NOT_IN_SEGMENT_TRANSFER


def test_repeated_reads_come_from_the_cache_and_follow_the_image(client, meter):
    first = rows(client, cat.OI_COVER_OPEN, CoverOpenRow)
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow) == first
    client.connect(PASSWORD)
    assert client.action(Omd(cat.OI_COVER_OPEN, 1)) == 0
    assert rows(client, cat.OI_COVER_OPEN, CoverOpenRow) == []


# ------------------------------------------------------------------------------------ reports


def test_unreported_rows_ride_once_as_follow_reports_until_confirmed(meter):
    desk = ReportDesk()
    a = memory_client(Dlt698Session(meter, desk=desk))
    b = memory_client(Dlt698Session(meter, desk=desk))
    for _ in range(3):
        a.get(Oad(cat.OI_DATE_TIME, 2))
    # cover openings were reported by the firmware's module: only the power-downs ride
    followed = [r for r in a.follow_reports]
    assert {r.oad.oi for r in followed} == {cat.OI_POWER_DOWN}
    assert sum(len(r.rows) for r in followed) == 5
    b.get(Oad(cat.OI_DATE_TIME, 2))
    assert b.follow_reports == []  # once, on any link
    a.confirm_reports((Oad(cat.OI_POWER_DOWN, 2),))
    got = rows(a, cat.OI_POWER_DOWN, PowerDownRow)
    assert all(r.report.bits & START_CONFIRMED for r in got)


def test_pushed_rows_are_marked_and_confirmed(meter):
    desk = ReportDesk()
    desk.link_up(True)
    session = Dlt698Session(meter, desk=desk)
    frames = session.push_reports()
    (raw,) = frames
    note = decode(raw)
    assert note.control == 0x83  # from the server, started by it
    assert note.data[:2] == b"\x88\x02"
    piid = note.data[2]
    assert session.reports_waiting() == 4
    assert session.push_reports() != frames  # the next four
    reply = ReportResponse(piid, (COVER,)).to_bytes()
    assert session.handle(Frame(0x03, SERVER, 0x10, reply)) == []
    client = memory_client(Dlt698Session(meter, desk=desk))
    bits = [r.report.bits for r in rows(client, cat.OI_COVER_OPEN, CoverOpenRow)]
    assert bits.count(START_REPORTED | START_CONFIRMED) == 4


def test_the_device_object_states_the_report_switches(client):
    assert client.get(Oad(cat.OI_DEVICE, 7)).value is False  # fixture: follow reports off
    assert client.get(Oad(cat.OI_DEVICE, 8)).value is True
    channels = client.get(Oad(cat.OI_DEVICE, 10))
    assert [c.oad for c in channels.items] == [Oad(0xF209, 2, 1)]


def test_frames_encode_with_the_meter_address(session):
    (raw,) = session.handle(Frame(0x43, SERVER, 0x10,
                                  GetRequest(1, (Oad(cat.OI_ADDRESS, 2),)).to_bytes()))
    assert raw == encode(decode(raw), 4)


def test_a_malformed_record_query_is_never_served_from_the_cache(session):
    bad = bytes.fromhex("0503073 01b0200ff00".replace(" ", ""))  # selector FF: unreadable
    for piid in (7, 8):
        apdu = bad[:2] + bytes((piid,)) + bad[3:]
        (raw,) = session.handle(Frame(0x43, SERVER, 0x10, apdu))
        assert decode(raw).data[:2] == bytes((0xEE, piid))


def test_the_answer_keeps_the_request_priority(session):
    apdu = GetRequest(0x85, (Oad(cat.OI_ADDRESS, 2),)).to_bytes()  # priority bit, service 5
    (raw,) = session.handle(Frame(0x43, SERVER, 0x10, apdu))
    assert decode(raw).data[:3] == bytes((0x85, 1, 0x85))
