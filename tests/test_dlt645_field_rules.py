"""DL/T 645 as field meters enforce it (issue 13, items 1 and 2): the broadcast-time rules, the
time-setting and broadcast-time logs, level 98 through the security module, level 02 only in
factory mode, clears only to the meter's own address, and a lockout no clock setting moves and
no restart resets. The meter here is in field mode (the shared scenario's factory switch off)."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta

import pytest

from meterseal.firmware import authlog
from meterseal.firmware.bcd import count3_to_int, time6_to_ms
from meterseal.firmware.caltime import MS_PER_DAY, ms_from_civil
from meterseal.firmware.records import EXACT, UNSYNCED
from meterseal.hardware.esam import Esam
from meterseal.protocols.dlt645.catalog import (
    DI_CLEAR_COVER,
    DI_DATE,
    DI_TIME,
    MeterTime,
    StandardTimeSet,
)
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    ErrorCode,
    Frame,
    FunctionCode,
    address_from_string,
    di_to_bytes,
    read_request,
)
from meterseal.protocols.dlt645.security import seal, secured_frame
from meterseal.protocols.dlt645.session import Dlt645Session, broadcast_time_data
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import parse_scenario
from tests.dlt645_helpers import ADDRESS, PASSWORD, SCENARIO, FakeClock

ME = address_from_string(ADDRESS)
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")  # the profile's default key
OPERATOR = b"\x12\x34\x56\x78"
MIN = 60_000


def _scenario(**meter):
    with open(SCENARIO, "rb") as f:
        doc = tomllib.load(f)
    doc["meter"].update({"security.factory_mode": False, **meter})
    return parse_scenario(doc)


@pytest.fixture(scope="module")
def field_scenario():
    return _scenario()


@pytest.fixture(scope="module")
def factory_scenario():
    return _scenario(**{"security.factory_mode": True})


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def meter(field_scenario, clock):
    return LiveMeter.from_scenario(field_scenario, clock=clock)


@pytest.fixture
def session(meter):
    return Dlt645Session(meter)


def refused(reply, error):
    assert reply is not None and reply.is_abnormal and reply.data == bytes((error,)), reply


def value(session, di):
    reply = session.answer(read_request(ME, di))
    assert reply.control == 0x91, reply
    return reply.data[4:]


def broadcast(session, local_ms, address=BROADCAST_ADDRESS):
    return session.answer(Frame(address, FunctionCode.BROADCAST_TIME,
                                broadcast_time_data(local_ms)))


def level02_clear(password=PASSWORD, address=ME):
    data = b"\x02" + bytes.fromhex(password) + OPERATOR + di_to_bytes(DI_CLEAR_COVER)
    return Frame(address, FunctionCode.EVENT_CLEAR, data)


def level98_clear(meter, *, deadline_ms=None, key=KEY, address=ME, di=DI_CLEAR_COVER):
    deadline = meter.clock()[0] + 10 * MIN if deadline_ms is None else deadline_ms
    return secured_frame(key, address, FunctionCode.EVENT_CLEAR, di, deadline, operator=OPERATOR)


def level98_time(meter, local_ms, *, key=KEY, deadline_ms=None):
    deadline = meter.clock()[0] + 10 * MIN if deadline_ms is None else deadline_ms
    value = MeterTime(local_ms % MS_PER_DAY // 1000 * 1000).to_bytes()
    return secured_frame(key, ME, FunctionCode.WRITE, DI_TIME, deadline, operator=OPERATOR,
                         value=value)


def stage(meter, y, mo, d, h, mi, s=0):
    """Put the meter's clock at a civil time, without a record (test staging)."""
    meter.set_clock(ms_from_civil(y, mo, d, h, mi, s))


# --------------------------------------------------------------------------- broadcast time


def test_a_broadcast_three_days_ahead_is_refused_and_leaves_no_trace(session, meter):
    before = meter.clock()[0]
    assert broadcast(session, before + 3 * MS_PER_DAY) is None
    refused(broadcast(session, before + 3 * MS_PER_DAY, ME), ErrorCode.OTHER)
    assert abs(meter.clock()[0] - before) < 1000
    assert meter.auth().total(authlog.KIND_BROADCAST) == 0


def test_a_broadcast_three_minutes_back_is_accepted_once_a_day_and_recorded(session, meter):
    now = meter.clock()[0]
    assert broadcast(session, now - 3 * MIN) is None  # to 99×6: never answered
    assert abs(meter.clock()[0] - (now - 3 * MIN)) < 1000
    [rec] = meter.auth().changes(authlog.KIND_BROADCAST)
    assert (rec.before_ms // 1000, rec.after_ms // 1000) == (now // 1000, (now - 3 * MIN) // 1000)
    # a second one the same calendar day: refused, nothing recorded
    again = meter.clock()[0]
    refused(broadcast(session, again + 2 * MIN, ME), ErrorCode.OTHER)
    assert abs(meter.clock()[0] - again) < 1000
    assert meter.auth().total(authlog.KIND_BROADCAST) == 1
    # served under our vendor DIs (the standard has no 645 DI for it)
    assert count3_to_int(value(session, 0x04800800)) == 1
    served = StandardTimeSet.from_bytes(value(session, 0x04800801))
    assert served.after_ms == (now - 3 * MIN) // 1000 * 1000


def test_a_point_to_point_broadcast_is_answered(session, meter):
    now = meter.clock()[0]
    assert broadcast(session, now - MIN, ME).control == 0x88
    assert broadcast(session, now - MIN, WILDCARD_ADDRESS) is None  # a wildcard: ignored


@pytest.mark.parametrize(
    ("at", "shift_ms", "why"),
    [
        ((2026, 3, 3, 23, 58), -MIN, authlog.BC_NEAR_MIDNIGHT),  # 23:58, a minute back
        ((2026, 3, 4, 0, 3), MIN, authlog.BC_NEAR_MIDNIGHT),
        ((2026, 3, 3, 23, 53), 3 * MIN, authlog.BC_NEAR_MIDNIGHT),  # would land at 23:56
        ((2026, 4, 1, 12, 2), MIN, authlog.BC_NEAR_SETTLEMENT),  # settlement day 1, 12:00
        ((2026, 3, 31, 11, 58), MIN, authlog.BC_ACCEPTED),  # not the settlement day
        ((2026, 3, 3, 12, 0), 5 * MIN, authlog.BC_TOO_FAR),  # 5 min is too far already
        ((2026, 3, 3, 12, 0), -5 * MIN + 1000, authlog.BC_ACCEPTED),
    ],
)
def test_the_broadcast_rules_at_midnight_and_settlement(clock, at, shift_ms, why):
    sc = _scenario(**{"billing.settlement_hour": 12})
    meter = LiveMeter.from_scenario(sc, clock=clock)
    stage(meter, *at)
    now = meter.clock()[0]
    assert meter.broadcast_time(now + shift_ms) == why
    moved = abs(meter.clock()[0] - now - shift_ms) < 1000
    assert moved == (why == authlog.BC_ACCEPTED)


def test_a_clock_that_lost_its_time_takes_no_broadcast_only_an_authorised_set(meter, session):
    meter._rtc.stop(meter.now_us())  # the battery died: the RTC stopped, flagged invalid
    meter._rtc.start(meter.now_us())
    now, valid = meter.clock()
    assert not valid
    assert meter.broadcast_time(now + MIN) == authlog.BC_CLOCK_INVALID
    assert not meter.clock()[1]
    # a level-98 time set fixes it (its deadline cannot be judged by a lost clock)
    target = now + 2 * 3600_000
    assert session.answer(level98_time(meter, target)).control == 0x94
    assert meter.clock()[1] and abs(meter.clock()[0] - target) < 1000
    [rec] = meter.auth().changes(authlog.KIND_TIME_SET)
    assert rec.before_valid == 0


def test_the_verdict_refuses_each_forged_input():
    noon = ms_from_civil(2026, 3, 3, 12, 0, 0)
    ok = authlog.broadcast_verdict(noon, True, noon + MIN, None, 1, 0)
    assert ok == authlog.BC_ACCEPTED
    assert authlog.broadcast_verdict(noon, False, noon + MIN, None, 1, 0) == \
        authlog.BC_CLOCK_INVALID
    assert authlog.broadcast_verdict(noon, True, noon + 3 * MS_PER_DAY, None, 1, 0) == \
        authlog.BC_TOO_FAR
    assert authlog.broadcast_verdict(noon, True, noon - 6 * MIN, None, 1, 0) == authlog.BC_TOO_FAR
    assert authlog.broadcast_verdict(noon, True, noon + MIN, noon - 3600_000, 1, 0) == \
        authlog.BC_ALREADY_TODAY
    assert authlog.broadcast_verdict(noon, True, noon + MIN, noon - MS_PER_DAY, 1, 0) == ok
    # a settlement on the 3rd at 12:00
    assert authlog.broadcast_verdict(noon, True, noon + MIN, None, 3, 12) == \
        authlog.BC_NEAR_SETTLEMENT
    # across a month end: settlement on the 1st at 00:00 seen from the last day's 23:57
    eve = ms_from_civil(2026, 3, 31, 23, 57, 0)
    assert authlog.near_settlement(eve, 1, 0)
    assert not authlog.near_settlement(eve - 10 * MIN, 1, 0)


# ------------------------------------------------------------------ authorised time setting


def test_a_level98_time_set_is_accepted_and_recorded_with_before_and_after(session, meter):
    now = meter.clock()[0]
    target = now - 2 * 3600_000  # two hours back: only an authorised set may do that
    assert session.answer(level98_time(meter, target)).control == 0x94
    assert abs(meter.clock()[0] - target) < 1000
    assert count3_to_int(value(session, 0x03300400)) == 1
    rec = StandardTimeSet.from_bytes(value(session, 0x03300401))
    assert rec.operator == OPERATOR
    assert rec.before_ms == now // 1000 * 1000
    assert rec.after_ms == target // 1000 * 1000
    assert StandardTimeSet.from_bytes(value(session, 0x03300402)).is_empty
    # wire layout: operator (4), before (6, ss first), after (6)
    raw = value(session, 0x03300401)
    assert raw[:4] == OPERATOR and time6_to_ms(raw[4:10]) == rec.before_ms
    assert time6_to_ms(raw[10:16]) == rec.after_ms


def test_a_date_write_keeps_the_time_of_day(session, meter):
    from meterseal.protocols.dlt645.catalog import MeterDate

    now = meter.clock()[0]
    date = MeterDate.of(now - 10 * MS_PER_DAY)
    frame = secured_frame(KEY, ME, FunctionCode.WRITE, DI_DATE, now + MIN, operator=OPERATOR,
                          value=date.to_bytes())
    assert session.answer(frame).control == 0x94
    assert abs(meter.clock()[0] - (now - 10 * MS_PER_DAY)) < 1000
    wrong_weekday = MeterDate(date.date_ms, (date.weekday + 1) % 7).to_bytes()
    frame = secured_frame(KEY, ME, FunctionCode.WRITE, DI_DATE, meter.clock()[0] + MIN,
                          operator=OPERATOR, value=wrong_weekday)
    refused(session.answer(frame), ErrorCode.OTHER)


def test_plain_time_writes_need_factory_mode_and_the_programming_key(session, meter,
                                                                     factory_scenario, clock):
    now = meter.clock()[0]
    value02 = MeterTime((now - 3600_000) % MS_PER_DAY // 1000 * 1000).to_bytes()
    data = di_to_bytes(DI_TIME) + b"\x02" + bytes.fromhex(PASSWORD) + OPERATOR + value02
    refused(session.answer(Frame(ME, FunctionCode.WRITE, data)), ErrorCode.NOT_AUTHORISED)
    assert meter.auth().total(authlog.KIND_TIME_SET) == 0
    factory = LiveMeter.from_scenario(factory_scenario, clock=clock)
    assert factory.programming_key_pressed()
    assert Dlt645Session(factory).answer(Frame(ME, FunctionCode.WRITE, data)).control == 0x94
    assert factory.auth().total(authlog.KIND_TIME_SET) == 1


# ------------------------------------------------------------------ level 98 and level 02


def test_level02_clears_are_refused_outside_factory_mode(session, meter):
    assert meter.programming_key_pressed()  # even with the key pressed
    refused(session.answer(level02_clear()), ErrorCode.NOT_AUTHORISED)
    assert meter.image().clear_total == 0


def test_a_level98_clear_with_a_valid_mac_and_deadline_is_accepted(session, meter):
    reply = session.answer(level98_clear(meter))
    assert reply.control == 0x9B
    img = meter.image()
    assert img.clear_total == 1 and img.cover_count() == 0 and img.cover_total > 0
    assert img.clears[0].time_quality == EXACT
    assert img.clears[0].operator_bytes() == OPERATOR


def test_a_level98_command_cannot_be_played_again(session, meter):
    clear = level98_clear(meter)
    assert session.answer(clear).control == 0x9B
    refused(session.answer(clear), ErrorCode.NOT_AUTHORISED)  # replayed within its deadline
    assert meter.image().clear_total == 1
    back = level98_time(meter, meter.clock()[0] - 3600_000)
    assert session.answer(back).control == 0x94
    refused(session.answer(back), ErrorCode.NOT_AUTHORISED)
    assert meter.auth().total(authlog.KIND_TIME_SET) == 1


def test_a_level98_clear_with_a_stale_deadline_is_refused(session, meter):
    stale = level98_clear(meter, deadline_ms=meter.clock()[0] - 1000)
    refused(session.answer(stale), ErrorCode.NOT_AUTHORISED)
    assert meter.image().clear_total == 0
    assert meter.lockout().total == 1  # a security failure, counted


def test_the_security_module_refuses_every_forgery(session, meter):
    good = level98_clear(meter)
    data = bytearray(good.data)
    forgeries = [
        level98_clear(meter, key=bytes(16)),  # the wrong key
        Frame(ME, good.control, bytes(data[:-1]) + bytes((data[-1] ^ 1,))),  # MAC flipped
        Frame(ME, good.control, bytes(data[:12]) + bytes((data[12] ^ 1,)) + bytes(data[13:])),
        Frame(ME, good.control, bytes(data[:4]) + b"\x99\x99\x99\x99" + bytes(data[8:])),  # op
        Frame(ME, good.control, bytes(data[:-4])),  # no MAC
        # sealed for a write, sent as a clear: the command inside names another function
        Frame(ME, good.control, bytes(level98_time(meter, meter.clock()[0]).data[4:])),
    ]
    for forged in forgeries:
        refused(session.answer(forged), ErrorCode.NOT_AUTHORISED)
    assert meter.image().clear_total == 0


def test_the_esam_and_the_head_end_seal_agree_and_forgeries_fail():
    esam = Esam(KEY)
    header = ME + b"\x1b" + OPERATOR
    for plain in (b"", b"x", bytes(15), bytes(16), bytes(40)):
        sealed = seal(KEY, header, plain)
        assert esam.open(header[:-1] + b"\x00", sealed) is None
        assert esam.open(header, sealed[:-1]) is None
        assert esam.open(header, sealed) == plain
        assert esam.open(header, sealed) is None  # once only
    assert esam.failures == 15


@pytest.mark.parametrize("address", [WILDCARD_ADDRESS, address_from_string("2026AAAAAAAA")])
def test_a_clear_to_a_wildcard_address_is_refused(factory_scenario, clock, address):
    meter = LiveMeter.from_scenario(factory_scenario, clock=clock)
    session = Dlt645Session(meter)
    refused(session.answer(level02_clear(address=address)), ErrorCode.NOT_AUTHORISED)
    refused(session.answer(level98_clear(meter, address=address)), ErrorCode.NOT_AUTHORISED)
    assert session.answer(level02_clear(address=BROADCAST_ADDRESS)) is None
    assert meter.image().clear_total == 0
    assert session.answer(level02_clear()).control == 0x9B  # its own address: fine


# ------------------------------------------------------------------------ honest clear times


def test_a_clear_after_a_broadcast_is_unsynced_until_an_authorised_set(session, meter):
    now = meter.clock()[0]
    assert meter.broadcast_time(now - 2 * MIN) == authlog.BC_ACCEPTED
    assert not meter.clock_trusted()
    assert session.answer(level98_clear(meter)).control == 0x9B
    assert meter.image().clears[0].time_quality == UNSYNCED
    assert session.answer(level98_time(meter, meter.clock()[0])).control == 0x94
    assert meter.clock_trusted()
    later = meter.clock()[0] + 11 * MIN  # another command: another deadline, not a replay
    assert session.answer(level98_clear(meter, deadline_ms=later)).control == 0x9B
    assert meter.image().clears[0].time_quality == EXACT


def test_records_keep_the_times_they_had_across_clock_changes(session, meter):
    before = [(r.seq, r.opened_ms, r.quality) for r in meter.image().cover]
    assert session.answer(level98_time(meter, meter.clock()[0] - 5 * 3600_000)).control == 0x94
    assert [(r.seq, r.opened_ms, r.quality) for r in meter.image().cover] == before


# ------------------------------------------------------------------------------- brute force


def _brute_force_round(session, meter, guesses):
    """Three guesses, then a broadcast a day forward: the loop of the issue."""
    answers = [session.answer(level02_clear(password=g)) for g in guesses]
    broadcast(session, meter.clock()[0] + MS_PER_DAY)
    return answers


def test_the_brute_force_loop_gets_nowhere(factory_scenario, clock, tmp_path):
    meter = LiveMeter.from_scenario(factory_scenario, clock=clock)
    session = Dlt645Session(meter)
    image = tmp_path / "meter.nvm"
    meter.persist_to(image)
    guesses = iter(f"{n:06d}" for n in range(1000))
    for _ in range(10):
        for reply in _brute_force_round(session, meter, [next(guesses) for _ in range(3)]):
            refused(reply, ErrorCode.NOT_AUTHORISED)
        clock.advance(60)
    # the right password is refused too: the meter is locked ...
    refused(session.answer(level02_clear()), ErrorCode.NOT_AUTHORISED)
    # ... also after a restart from its image (a reboot, not a new meter)
    clock.advance(3600)
    rebooted = LiveMeter.from_scenario(factory_scenario, clock=clock)
    rebooted.reboot_from(image)
    assert rebooted.password_locked()
    session = Dlt645Session(rebooted)
    refused(session.answer(level02_clear()), ErrorCode.NOT_AUTHORISED)
    assert rebooted.image().clear_total == 0
    # until the lock really expires, on the meter's own running time
    clock.advance(24 * 3600)
    assert session.answer(level02_clear()).control == 0x9B
    assert rebooted.image().clear_total == 1


def test_a_restart_from_the_image_keeps_clears_time_sets_and_the_clock(meter, session, clock,
                                                                       field_scenario, tmp_path):
    image = tmp_path / "m.nvm"
    meter.persist_to(image, wall=lambda: 1000.0)
    assert session.answer(level98_clear(meter)).control == 0x9B
    assert session.answer(level98_time(meter, meter.clock()[0] - 3600_000)).control == 0x94
    clock_then = meter.clock()[0]
    again = LiveMeter.from_scenario(field_scenario, clock=FakeClock(5.0))
    again.reboot_from(image, wall=lambda: 1060.0)  # off for a minute: its RTC ran on
    assert again.image().clear_total == 1
    assert again.auth().total(authlog.KIND_TIME_SET) == 1
    assert abs(again.clock()[0] - (clock_then + 60_000)) < 1000


def test_a_broken_image_file_is_refused(meter, tmp_path):
    bad = tmp_path / "bad.nvm"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="bytes"):
        meter.reboot_from(bad)


# --------------------------------------------------------------------------- the lockout rules


def test_lockout_rules():
    s = authlog.LockoutState()
    for _ in range(2):
        s = authlog.after_failure(s, 3, 100)
    assert not authlog.is_locked(s, 3) and s.remaining_s == 100
    s = authlog.after_running(s, 99)  # the window nearly over; a third failure locks anew
    s = authlog.after_failure(s, 3, 100)
    assert authlog.is_locked(s, 3) and s.remaining_s == 100
    t = authlog.after_failure(s, 3, 100)  # while locked: counted, nothing extended
    assert (t.failures, t.remaining_s, t.total) == (3, 100, 4)
    assert authlog.is_locked(authlog.after_running(t, 99), 3)
    u = authlog.after_running(t, 100)
    assert not authlog.is_locked(u, 3) and u.failures == 0 and u.total == 4


def test_time_changes_are_dated_by_the_clock_the_meter_had(meter):
    then = datetime(2000, 1, 1) + timedelta(milliseconds=meter.clock()[0])
    meter.set_time(meter.clock()[0] + 3600_000, OPERATOR)
    [rec] = meter.auth().changes(authlog.KIND_TIME_SET)
    assert abs((datetime(2000, 1, 1) + timedelta(milliseconds=rec.before_ms) - then)
               .total_seconds()) < 1


# ------------------------------------------------------------------------------------ codecs

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from meterseal.protocols.dlt645.catalog import VersionString  # noqa: E402
from meterseal.protocols.dlt645.errors import CatalogError  # noqa: E402

_TIMES = st.one_of(st.none(), st.integers(0, 36524 * 86400).map(lambda s: s * 1000))


@given(st.binary(min_size=4, max_size=4), _TIMES, _TIMES)
def test_time_setting_record_round_trip(operator, before, after):
    rec = StandardTimeSet(operator, before, after)
    assert StandardTimeSet.from_bytes(rec.to_bytes()) == rec
    assert len(rec.to_bytes()) == 16


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32))
def test_version_string_round_trip(text):
    assert VersionString.from_bytes(VersionString(text).to_bytes()).text == text


def test_version_strings_are_served_and_bad_ones_refused(session):
    assert VersionString.from_bytes(value(session, 0x04800003)).text == "meterseal"
    assert VersionString.from_bytes(value(session, 0x04800001)).text.startswith("meterseal")
    assert VersionString.from_bytes(value(session, 0x04800002)).text
    with pytest.raises(CatalogError):
        VersionString.from_bytes(bytes(31) + b"\xff")
    with pytest.raises(CatalogError):
        StandardTimeSet.from_bytes(bytes(15))


@given(st.sampled_from([authlog.KIND_TIME_SET, authlog.KIND_BROADCAST]),
       st.integers(1, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**48 - 1),
       st.integers(0, 2**48 - 1), st.integers(0, 1), st.integers(0, 2**32 - 1))
def test_authority_pages_round_trip_and_a_flipped_byte_decodes_to_nothing(kind, seq, op, b, a,
                                                                          v, n):
    rec = authlog.ClockChange(kind, seq, op, b, a, v, n)
    page = authlog.encode_page(rec)
    assert authlog.decode_page(page) == rec
    for i in range(len(page)):
        torn = page[:i] + bytes((page[i] ^ 0x5A,)) + page[i + 1:]
        assert authlog.decode_page(torn) != rec


@given(st.integers(0, 2**32 - 1), st.integers(0, 255), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1))
def test_lockout_pages_round_trip(gen, failures, remaining, total):
    s = authlog.LockoutState(gen, failures, remaining, total)
    assert authlog.decode_page(authlog.encode_page(s)) == s
    assert authlog.decode_page(b"\xff" * 64) is None and authlog.decode_page(b"") is None


def test_the_lockout_survives_a_cut_in_its_write(meter):
    """The counter alternates between two pages: a torn write leaves the previous state."""
    meter.note_security_failure()
    nvm = bytearray(meter.nvm_image())
    meter.note_security_failure()
    written = bytearray(meter.nvm_image())
    changed = [i for i in range(len(nvm)) if nvm[i] != written[i]]
    page = changed[0] // 64
    torn = bytes(written[: page * 64 + 5]) + bytes(nvm[page * 64 + 5:])
    assert authlog.decode_auth(torn).lockout().failures == 1
    assert authlog.decode_auth(bytes(written)).lockout().failures == 2


# ------------------------------------------------------------------------------ vendor block


def test_the_vendor_block_moves_with_the_profile_and_the_standard_rows_stay(clock):
    from meterseal.protocols.dlt645.maker import MakerFace
    from meterseal.protocols.dlt645.values import AllTimeTotals

    meter = LiveMeter.from_scenario(_scenario(**{"dlt645.vendor_prefix": "04FE"}), clock=clock)
    assert meter.vendor_prefix == 0x04FE
    face = MakerFace(Dlt645Session(meter, vendor_prefix=meter.vendor_prefix), meter.address)

    def ask(di):
        from meterseal.protocols.dlt645.frame import decode

        [raw] = face.handle(read_request(ME, di))
        return decode(raw)

    moved = ask(0x04FE0D00)
    assert moved.control == 0x91 and moved.data[:4] == di_to_bytes(0x04FE0D00)
    assert AllTimeTotals.from_bytes(moved.data[4:]).total == meter.image().cover_total
    refused(ask(0x04800D00), ErrorCode.NO_SUCH_DATA)  # not in the old block any more
    assert ask(0x04FEFF00).control == 0x91  # the maker face's own, moved too
    refused(ask(0x0480FF00), ErrorCode.NO_SUCH_DATA)
    # the block of ten needs follow-up frames under the moved DI too
    first = ask(0x04FE0DFF)
    assert first.has_follow_up
    [raw] = face.handle(Frame(ME, FunctionCode.READ_FOLLOW_UP, di_to_bytes(0x04FE0DFF) + b"\x01"))
    from meterseal.protocols.dlt645.frame import decode

    assert decode(raw).control in (0x92, 0xB2)
    # the standard's 04 80 00 01..03 stay where the standard puts them
    assert VersionString.from_bytes(ask(0x04800003).data[4:]).text == "meterseal"
    assert ask(0x04800001).control == 0x91
    with pytest.raises(ValueError, match="04 xx"):
        Dlt645Session(meter, vendor_prefix=0x1234)


def test_a_clock_change_is_in_the_record_chain_and_a_forged_one_is_named(
        session, meter, field_scenario):
    """The clock-change logs are evidence of time quality: they take their place in the record
    chain, so rewriting one (its CRC recomputed) is named by the reader's chain check."""
    from meterseal.firmware.crc import crc32
    from meterseal.firmware.image import decode_image
    from meterseal.firmware.layout import PAGE_SIZE
    from meterseal.protocols.chainproof import verify_chain

    key = bytes.fromhex(str(field_scenario.profile["security.key"]))
    now = meter.clock()[0]
    assert broadcast(session, now - 3 * MIN) is None
    image = meter.nvm_image()
    v = verify_chain(decode_image(image).chain, key)
    assert v.clean and "broadcast-time record 1" in v.verified
    # Move the recorded clock change by a day and make its CRC right again.
    page = authlog.broadcast_addr(1) // PAGE_SIZE
    data = bytearray(image[page * PAGE_SIZE:(page + 1) * PAGE_SIZE])
    n = authlog.page_len(authlog.TAG_BROADCAST) + 23  # the page with its chain trailer
    at = 1 + 4 + 4 + 6  # after_ms
    data[at:at + 6] = (int.from_bytes(data[at:at + 6], "little") + MS_PER_DAY).to_bytes(
        6, "little")
    data[n - 4:n] = crc32(bytes(data[:n - 4])).to_bytes(4, "little")
    forged = image[:page * PAGE_SIZE] + bytes(data) + image[(page + 1) * PAGE_SIZE:]
    assert authlog.decode_auth(forged).change(authlog.KIND_BROADCAST, 1) is not None
    bad = verify_chain(decode_image(forged).chain, key)
    assert not bad.clean
    assert any("broadcast-time record 1" in f.line() for f in bad.failures), bad.failures
