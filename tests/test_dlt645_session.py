"""The DL/T 645 meter session against the live meter a scenario leaves behind, without sockets:
every answer is checked against what the twin recorded for the same scenario (result_dict)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from meterseal.firmware.authlog import LOCKOUT_PAGE_A
from meterseal.firmware.bcd import count3_to_int, energy4_to_units, time6_to_ms
from meterseal.firmware.image import decode_image
from meterseal.hardware.rtc import local_ms_from_datetime
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    ErrorCode,
    Frame,
    FunctionCode,
    address_from_string,
    decode,
    di_to_bytes,
    read_request,
)
from meterseal.protocols.dlt645.session import (
    DI_CLEAR_ALL,
    DI_CLEAR_COVER,
    DI_CLEAR_POWER_DOWN,
    Dlt645Session,
    broadcast_time_data,
    broadcast_time_ms,
)
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import ScenarioError, load_scenario, parse_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import ADDRESS, PASSWORD, SCENARIO, FakeClock

ME = address_from_string(ADDRESS)
OFFSET_H = 8.0


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def twin(scenario):
    """What the twin recorded for the scenario (an independent run of the same scenario)."""
    return result_dict(simulate(scenario, trace=False))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def meter(scenario, clock):
    return LiveMeter.from_scenario(scenario, clock=clock)


@pytest.fixture
def session(meter):
    return Dlt645Session(meter)


def read(session, di):
    reply = session.answer(read_request(ME, di))
    assert reply is not None and reply.address == ME
    return reply


def value(session, di):
    reply = read(session, di)
    assert reply.control == 0x91, reply
    assert reply.data[:4] == di_to_bytes(di)
    return reply.data[4:]


def refused(reply, error):
    assert reply is not None and reply.control == 0xC0 | reply.function_code, reply
    assert reply.data == bytes((error,)), reply


def iso(local_ms):
    return (datetime(2000, 1, 1) + timedelta(milliseconds=local_ms)).isoformat()


def twin_iso(text):
    """The twin's ISO time (ms precision, with offset) to whole seconds, naive local."""
    return datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0).isoformat()


def clear_frame(password=PASSWORD, level=0x02, operator=b"\x12\x34\x56\x78", di=DI_CLEAR_COVER):
    data = bytes((level,)) + bytes.fromhex(password) + operator + di_to_bytes(di)
    return Frame(ME, FunctionCode.EVENT_CLEAR, data)


# --------------------------------------------------------------------------- standard reads


def test_cover_open_count_and_all_ten_records_equal_the_twin(session, twin):
    recs = twin["records"]
    assert recs["cover_open_total"] > 10  # the ring is full
    assert count3_to_int(value(session, 0x03300D00)) == recs["cover_open_total"]
    newest_first = sorted(recs["cover_open"], key=lambda r: -r["seq"])
    assert len(newest_first) == 10
    for n, want in enumerate(newest_first, start=1):
        got = value(session, 0x03300D00 + n)
        assert len(got) == 60
        assert iso(time6_to_ms(got[:6])) == twin_iso(want["opened_at"])
        if want["closed_at"] is None:
            assert got[6:12] == bytes(6) and got[36:44] == bytes(8)
        else:
            assert iso(time6_to_ms(got[6:12])) == twin_iso(want["closed_at"])
            after = want["energy_after_kwh"]
            assert energy4_to_units(got[36:40]) == round(after["import_active"] * 100)
            assert energy4_to_units(got[40:44]) == round(after["export_active"] * 100)
        before = want["energy_before_kwh"]
        assert energy4_to_units(got[12:16]) == round(before["import_active"] * 100)
        assert energy4_to_units(got[16:20]) == round(before["export_active"] * 100)
        assert got[20:36] == bytes(16) and got[44:60] == bytes(16)  # no reactive registers


def test_power_down_count_and_records_equal_the_twin(session, twin):
    pds = sorted(twin["records"]["power_down"], key=lambda p: p["from"], reverse=True)
    assert count3_to_int(value(session, 0x03110000)) == twin["records"]["power_down_total"]
    for n in range(1, 11):
        got = value(session, 0x03110000 + n)
        assert len(got) == 12
        if n > len(pds):
            assert got == bytes(12)  # no such record: zeros, as meters answer
            continue
        assert iso(time6_to_ms(got[:6])) == twin_iso(pds[n - 1]["from"])
        assert iso(time6_to_ms(got[6:])) == twin_iso(pds[n - 1]["to"])


def test_date_time_address_and_energy(session, meter, clock, scenario):
    end = scenario.start + timedelta(microseconds=scenario.duration_us)
    clock.advance(3723.5)  # 1 h 2 min 3.5 s after the run
    want = end + timedelta(seconds=3723.5)
    date = value(session, 0x04000101)
    tod = value(session, 0x04000102)
    ww, dd, mm, yy = (int(f"{b:02x}") for b in date)
    ss, mi, hh = (int(f"{b:02x}") for b in tod)
    got = datetime(2000 + yy, mm, dd, hh, mi, ss)
    # the RTC drifts (rtc.drift_ppm) and runs on from the scenario's end
    assert abs((got - want.replace(tzinfo=None)).total_seconds()) <= 3
    assert ww == (got.weekday() + 1) % 7  # WW: 0 = Sunday
    assert value(session, 0x04000401) == ME
    imp, exp = meter.energy()
    assert energy4_to_units(value(session, 0x00010000)) == imp
    assert energy4_to_units(value(session, 0x00020000)) == exp
    # the registers are at least the energies stamped in the newest record
    newest = meter.image().cover[0]
    assert imp >= newest.import_before and exp >= newest.export_before


def test_unknown_identifiers_and_short_reads_are_refused(session):
    refused(read(session, 0x0330000B), ErrorCode.NO_SUCH_DATA)  # not served
    refused(read(session, 0x03300D0B), ErrorCode.NO_SUCH_DATA)  # 11th record: none
    refused(read(session, 0x12345678), ErrorCode.NO_SUCH_DATA)
    refused(session.answer(Frame(ME, FunctionCode.READ, b"\x00\x0d")), ErrorCode.OTHER)
    # a write of anything but the date and the time: nothing else is writable
    refused(session.answer(Frame(ME, FunctionCode.WRITE, bytes(16))), ErrorCode.NOT_AUTHORISED)
    refused(session.answer(Frame(ME, FunctionCode.WRITE, bytes(8))), ErrorCode.OTHER)  # short
    refused(session.answer(Frame(ME, FunctionCode.FREEZE, bytes(4))), ErrorCode.OTHER)


def test_address_rules(session):
    # read address 13 to AA x 6 (whoever is on the line) and to an abbreviated address
    for addr in (WILDCARD_ADDRESS, ME[:3] + b"\xaa\xaa\xaa"):
        reply = session.answer(Frame(addr, FunctionCode.READ_ADDRESS))
        assert reply.control == 0x93 and reply.data == ME and reply.address == ME
    other = address_from_string("000000000001")
    assert session.answer(read_request(other, 0x03300D00)) is None  # another meter's
    assert session.answer(read_request(BROADCAST_ADDRESS, 0x03300D00)) is None  # never answer
    assert session.answer(Frame(ME, 0x91, di_to_bytes(0x03300D00))) is None  # a reply (echo)
    wild = session.answer(read_request(WILDCARD_ADDRESS, 0x03300D00))
    assert wild.control == 0x91 and wild.address == ME


def test_replies_are_valid_frames_with_preamble(session):
    raw = session.handle(read_request(ME, 0x03300D01))
    assert len(raw) == 1 and raw[0].startswith(b"\xfe" * 4)
    assert decode(raw[0]) == session.answer(read_request(ME, 0x03300D01))


# --------------------------------------------------------------------- manufacturer-specific


def test_time_quality_and_bounds_under_the_manufacturer_identifier(session, twin):
    newest_first = sorted(twin["records"]["cover_open"], key=lambda r: -r["seq"])
    totals = value(session, 0x04800D00)
    assert int(totals[3::-1].hex()) == twin["records"]["cover_open_total"]
    assert totals[4:8] == bytes(4)  # nothing cleared
    qualities = ("exact", "deferred", "bounded", "unsynced")
    seen_bounded = False
    for n, want in enumerate(newest_first, start=1):
        got = value(session, 0x04800D00 + n)
        assert len(got) == 79
        assert int(got[3::-1].hex()) == want["seq"]
        flags, q, cq = got[4], got[5], got[6]
        assert qualities[q] == want["time_quality"]
        assert flags & 1 == 0 and bool(flags & 2) == (want["closed_at"] is not None)
        assert (cq == 0xFF) == (want["closed_at"] is None)
        if want["closed_at"] is not None:
            assert qualities[cq] == want["closed_quality"]
        if want["time_quality"] == "bounded":
            seen_bounded = True
            nb = datetime.fromisoformat(want["not_before"]).replace(tzinfo=None)
            na = datetime.fromisoformat(want["not_after"]).replace(tzinfo=None)
            got_nb = datetime.fromisoformat(iso(time6_to_ms(got[7:13])))
            got_na = datetime.fromisoformat(iso(time6_to_ms(got[13:19])))
            # to whole seconds, widened, never narrowed: the served interval holds the truth
            assert got_nb <= nb < got_nb + timedelta(seconds=1)
            assert na <= got_na < na + timedelta(seconds=1)
        else:
            assert got[7:19] == bytes(12)
        assert got[19:] == value(session, 0x03300D00 + n)  # the standard record, embedded
    assert seen_bounded  # the scenario exercises a bounded record


def test_the_block_of_all_ten_needs_follow_up_frames(session):
    first = read(session, 0x04800DFF)
    assert first.control == 0xB1 and len(first.data) == 200  # 91 + follow-up bit
    data = bytearray(first.data[4:])
    seq = 0
    reply = first
    while reply.has_follow_up:
        seq += 1
        reply = session.answer(
            Frame(ME, FunctionCode.READ_FOLLOW_UP, di_to_bytes(0x04800DFF) + bytes((seq,)))
        )
        assert reply.control in (0x92, 0xB2) and reply.data[-1] == seq
        assert len(reply.data) <= 200
        data.extend(reply.data[4:-1])
    assert seq == 4
    assert bytes(data) == b"".join(value(session, 0x04800D00 + n) for n in range(1, 11))
    # a follow-up out of turn, or for another identifier, is refused
    again = Frame(ME, FunctionCode.READ_FOLLOW_UP, di_to_bytes(0x04800DFF) + b"\x01")
    refused(session.answer(again), ErrorCode.NO_SUCH_DATA)
    read(session, 0x04800DFF)
    wrong = Frame(ME, FunctionCode.READ_FOLLOW_UP, di_to_bytes(0x04800D01) + b"\x01")
    refused(session.answer(wrong), ErrorCode.NO_SUCH_DATA)


def test_power_down_extended_records(session, twin):
    pds = sorted(twin["records"]["power_down"], key=lambda p: p["from"], reverse=True)
    totals = value(session, 0x04801100)
    assert int(totals[3::-1].hex()) == twin["records"]["power_down_total"]
    for n in range(1, 11):
        got = value(session, 0x04801100 + n)
        assert len(got) == 19
        if n > len(pds):
            assert got == bytes(19)
            continue
        assert got[5] == ("exact", "deferred", "bounded", "unsynced").index(
            pds[n - 1]["time_quality"]
        )
        assert got[7:] == value(session, 0x03110000 + n)


# ---------------------------------------------------------------------------- broadcast time


def test_broadcast_time_sets_the_clock_in_the_standard_byte_order(session, meter):
    # the run ends 2026-03-03 08:00:00 local; a broadcast 2 min behind is within the rules
    assert iso(meter.clock()[0]).startswith("2026-03-03T08:00:0")
    data = bytes((0x15, 0x58, 0x07, 0x03, 0x03, 0x26))  # ss mm hh DD MM YY: 07:58:15
    assert broadcast_time_data(time6_to_ms(data)) == data
    assert session.answer(Frame(BROADCAST_ADDRESS, FunctionCode.BROADCAST_TIME, data)) is None
    got = datetime(2000, 1, 1) + timedelta(milliseconds=meter.clock()[0])
    assert abs((got - datetime(2026, 3, 3, 7, 58, 15)).total_seconds()) < 1 and meter.clock()[1]


def test_broadcast_time_ignores_what_is_not_a_time(session, meter):
    before = meter.clock()[0]
    # the PyPI dlt645 client's "natural order" YY MM DD hh mm ss for 2026-07-04 13:14:15 reads,
    # in the standard's order, as month 0x13: not a time, so the meter ignores it
    natural = bytes((0x26, 0x07, 0x04, 0x13, 0x14, 0x15))
    assert broadcast_time_ms(natural) is None
    for bad in (natural, b"\x99" * 6, b"\x00\x00\x00\x00\x00", bytes(7)):
        assert session.answer(Frame(BROADCAST_ADDRESS, FunctionCode.BROADCAST_TIME, bad)) is None
        # to the meter's own address a refusal is answered: b0
        refused(session.answer(Frame(ME, FunctionCode.BROADCAST_TIME, bad)), ErrorCode.OTHER)
    assert abs(meter.clock()[0] - before) < 10
    assert meter.auth().total(1) == 0  # nothing recorded


# ------------------------------------------------------------------------------- event clear


def test_event_clear_is_recorded_and_hides_without_erasing(session, meter, twin):
    before = decode_image(meter.nvm_image())
    reply = session.answer(clear_frame())
    assert reply.control == 0x9B and reply.data == b""
    # the standard view restarts from the clear ...
    assert count3_to_int(value(session, 0x03300D00)) == 0
    assert all(value(session, 0x03300D00 + n) == bytes(60) for n in range(1, 11))
    assert count3_to_int(value(session, 0x03110000)) == twin["records"]["power_down_total"]
    # ... the clear is itself recorded (03 30 03 00/01: time, operator code, DI cleared) ...
    assert count3_to_int(value(session, 0x03300300)) == 1
    rec = value(session, 0x03300301)
    assert rec[6:10] == b"\x12\x34\x56\x78" and rec[10:] == di_to_bytes(DI_CLEAR_COVER)
    assert abs(time6_to_ms(rec[:6]) - meter.clock()[0]) < 2000
    # ... and nothing vanished: all-time totals, every record, flagged as hidden
    after = decode_image(meter.nvm_image())
    assert after.cover_total == before.cover_total  # I4 holds
    assert [r.as_tuple() for r in after.cover] == [r.as_tuple() for r in before.cover]  # I5
    assert after.clears[0].cover_total == before.cover_total == after.cover_base
    totals = value(session, 0x04800D00)
    assert int(totals[3::-1].hex()) == int(totals[7:3:-1].hex()) == before.cover_total
    for n in range(1, 11):
        ext = value(session, 0x04800D00 + n)
        assert ext[4] & 1 and int(ext[3::-1].hex()) == before.cover[n - 1].seq
        assert ext[19:] == before.cover[n - 1].standard_bytes()
    assert meter.writes == 1


def test_clear_of_everything_and_of_power_down(session, twin):
    assert session.answer(clear_frame(di=DI_CLEAR_POWER_DOWN)).control == 0x9B
    assert count3_to_int(value(session, 0x03110000)) == 0
    assert count3_to_int(value(session, 0x03300D00)) == twin["records"]["cover_open_total"]
    assert session.answer(clear_frame(di=DI_CLEAR_ALL)).control == 0x9B
    assert count3_to_int(value(session, 0x03300D00)) == 0
    assert count3_to_int(value(session, 0x03300300)) == 2
    assert value(session, 0x03300301)[10:] == b"\xff" * 4  # newest first
    assert value(session, 0x03300302)[10:] == di_to_bytes(DI_CLEAR_POWER_DOWN)


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (clear_frame(password="654321"), ErrorCode.NOT_AUTHORISED),
        (clear_frame(level=0x04), ErrorCode.NOT_AUTHORISED),  # too low a level
        (clear_frame(level=0x98), ErrorCode.NOT_AUTHORISED),  # 98: no sealed data, no MAC
        (clear_frame(operator=b"\x12\x3a\x00\x00"), ErrorCode.NOT_AUTHORISED),  # not BCD
        (clear_frame(di=0x03300300 | 0xFF), ErrorCode.NOT_AUTHORISED),  # the clear log itself
        (clear_frame(di=0x03300100 | 0xFF), ErrorCode.NOT_AUTHORISED),  # the meter-clear log
        (clear_frame(di=0x03300301), ErrorCode.NOT_AUTHORISED),
        (clear_frame(di=0x03300D01), ErrorCode.NO_SUCH_DATA),  # DI0 must be FF
        (clear_frame(di=0x030101FF), ErrorCode.NO_SUCH_DATA),  # a log this meter lacks
        (Frame(ME, FunctionCode.EVENT_CLEAR, bytes(11)), ErrorCode.OTHER),
    ],
)
def test_event_clear_refusals_change_nothing(session, meter, frame, error):
    before = meter.nvm_image()
    refused(session.answer(frame), error)
    # no record changes; a wrong password is counted in the lockout counter's pages only
    after = meter.nvm_image()
    assert after[: LOCKOUT_PAGE_A * 64] == before[: LOCKOUT_PAGE_A * 64]
    right_password = frame.data[:4] == b"\x02\x12\x34\x56"
    assert meter.writes == (1 if error == ErrorCode.NOT_AUTHORISED and not right_password else 0)


def test_event_clear_needs_the_programming_key(scenario, clock):
    doc = {
        "start": scenario.start.isoformat(), "duration": "1h",
        "cover": [{"open_at": "10min", "close_at": "11min"}],
        # pressed during the run, released 10 s after it
        "programming_key": [{"at": "50min", "for": "10min 10s"}],
    }
    meter = LiveMeter.from_scenario(parse_scenario(doc), clock=clock)
    s = Dlt645Session(meter)
    addr = meter.address
    frame = Frame(addr, FunctionCode.EVENT_CLEAR, clear_frame().data)
    assert meter.programming_key_pressed()
    clock.advance(11)
    assert not meter.programming_key_pressed()
    refused(s.answer(frame), ErrorCode.NOT_AUTHORISED)
    assert meter.writes == 0


def test_wrong_passwords_lock_the_meter_for_a_day_of_its_running(session, meter, clock):
    tries = meter.max_password_tries_per_day
    assert tries == 3
    for _ in range(tries):
        refused(session.answer(clear_frame(password="000000")), ErrorCode.NOT_AUTHORISED)
    # locked: even the right password is refused, for 24 h of the meter's own running time,
    # whatever its date says
    refused(session.answer(clear_frame()), ErrorCode.NOT_AUTHORISED)
    clock.advance(24 * 3600 - 5)
    refused(session.answer(clear_frame()), ErrorCode.NOT_AUTHORISED)
    assert meter.image().clear_total == 0
    clock.advance(10)  # the lock has run out
    assert session.answer(clear_frame()).control == 0x9B


def test_sessions_on_several_links_share_one_meter(meter):
    a, b = Dlt645Session(meter), Dlt645Session(meter)
    for _ in range(meter.max_password_tries_per_day):
        refused(a.answer(clear_frame(password="000000")), ErrorCode.NOT_AUTHORISED)
    refused(b.answer(clear_frame()), ErrorCode.NOT_AUTHORISED)  # the lockout is the meter's
    # follow-up state is per link
    assert a.answer(read_request(ME, 0x04800DFF)).has_follow_up
    refused(
        b.answer(Frame(ME, FunctionCode.READ_FOLLOW_UP, di_to_bytes(0x04800DFF) + b"\x01")),
        ErrorCode.NO_SUCH_DATA,
    )


def test_damaged_frames_get_silence(session):
    from meterseal.protocols.dlt645.frame import BadChecksum

    assert session.handle_error(BadChecksum(b"\x68" + bytes(11))) == []


# ------------------------------------------------------------- the scenario's programming key


def test_programming_key_windows_parse_and_validate(scenario):
    assert [(w.at_us, w.for_us) for w in scenario.programming_key] == [
        (2 * 86_400_000_000, 30 * 86_400_000_000)
    ]
    assert scenario.programming_key_pressed(scenario.duration_us)
    assert not scenario.programming_key_pressed(scenario.duration_us - 1)
    base = {"start": "2026-03-01T08:00:00+08:00", "duration": "1h"}
    for bad, words in [
        ({"programming_key": [{"at": "1h"}]}, "missing 'for'"),
        ({"programming_key": [{"at": "1h", "for": "1min", "when": "now"}]}, "unknown key"),
        ({"programming_key": [{"at": "1h", "for": "0s"}]}, "for > 0"),
        ({"programming_key": [{"at": "1h", "for": "10min"}, {"at": "1h 5min", "for": "1min"}]},
         "overlaps"),
        ({"programming_key": {"at": "1h", "for": "1min"}}, "array of tables"),
        ({"programming_key": [{"at": "2026-03-01T07:00:00+08:00", "for": "1h"}]},
         "before the scenario start"),
    ]:
        with pytest.raises(ScenarioError, match=words):
            parse_scenario({**base, **bad})
    ok = parse_scenario({**base, "programming_key": [{"at": "2026-03-01T09:00:00+08:00",
                                                       "for": "1d"}]})
    assert ok.programming_key_pressed(3_600_000_000) and not ok.programming_key_pressed(0)


def test_live_meter_registers_and_clock_run_on(meter, clock, scenario):
    ms0, valid = meter.clock()
    assert valid
    end_ms = local_ms_from_datetime(
        scenario.start + timedelta(microseconds=scenario.duration_us), OFFSET_H
    )
    assert abs(ms0 - end_ms) < 5_000  # drift over two days, a few ppm
    clock.advance(60)
    assert 59_000 < meter.clock()[0] - ms0 < 61_000
    e = meter.energy()
    clock.advance(3600)
    assert meter.energy() == e  # frozen: no load after the run


def test_the_memo_of_request_bytes_holds_only_record_answers_and_forgets_on_change(session):
    from meterseal.protocols.dlt645.frame import encode

    def through_memo(frame):
        raw = encode(frame, 4)
        hit = session.memo(raw)
        if hit is not None:
            return hit, True
        [reply] = session.handle(frame)
        session.remember(raw, frame)
        return reply, False

    count = read_request(ME, 0x03300D00)
    first, memoised = through_memo(count)
    assert not memoised and through_memo(count) == (first, True)
    clock_read = read_request(ME, 0x04000102)
    through_memo(clock_read)
    assert through_memo(clock_read)[1] is False  # the clock is never memoised
    assert session.answer(clear_frame()).control == 0x9B  # the records change ...
    again, memoised = through_memo(count)
    assert not memoised and again != first  # ... and the memo forgot the old count
    assert count3_to_int(decode(again).data[4:]) == 0
