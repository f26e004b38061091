"""The standard active-report path and the live cover state (issue 13, items 3 and 4): the mode
word 04 00 11 04, the status word 04 00 15 01 and its reset 04 00 15 03 (authorised), run-status
word 7 (04 00 05 07) and our cumulative cover-open time; the report page in NVM refuses forgeries;
the PyPI `dlt645` client reads them as an independent peer."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.firmware import reportword as rw
from meterseal.firmware.records import EXACT, CoverOpen, PowerDown, PowerDownEnd
from meterseal.protocols.dlt645.catalog import (
    DI_MFR_COVER_OPEN_TIME,
    DI_REPORT_MODE,
    DI_REPORT_RESET,
    DI_REPORT_STATUS,
    DI_RUN_STATUS7,
    CoverOpenTime,
    ReportMode,
    ReportReset,
    ReportStatus,
    RunStatus7,
)
from meterseal.protocols.dlt645.frame import (
    ErrorCode,
    Frame,
    FunctionCode,
    address_from_string,
    di_to_bytes,
    read_request,
)
from meterseal.protocols.dlt645.security import secured_frame
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import ADDRESS, PASSWORD, ROOT, SCENARIO, FakeClock, serve

OPEN_SCENARIO = ROOT / "tests" / "data" / "dlt645_cover_left_open.toml"
ME = address_from_string(ADDRESS)
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
OPERATOR = b"\x12\x34\x56\x78"
COVER_BIT = 1 << 10  # the cover-open bit of both words
PD_BIT = 1 << 69  # the status word's power-down bit (settled: docs/dlt645.md)
HOUR_MS = 3_600_000


@pytest.fixture
def open_meter():
    return LiveMeter.from_scenario(load_scenario(OPEN_SCENARIO), clock=FakeClock())


@pytest.fixture
def closed_meter(tmp_path):
    field = tmp_path / "field.toml"
    doc = SCENARIO.read_text().replace('"security.factory_mode" = true',
                                       '"security.factory_mode" = false')
    field.write_text(doc.replace('open_at = "46h"\n', 'open_at = "46h"\nclose_at = "46h 10min"\n'))
    assert "46h 10min" in field.read_text()  # its last opening closed: every cover closed
    return LiveMeter.from_scenario(load_scenario(field), clock=FakeClock())


def read(session, di):
    reply = session.answer(read_request(ME, di))
    assert reply.control == 0x91, reply
    return reply.data[4:]


def secured_write(meter, di, value, *, key=KEY, deadline_ms=None):
    deadline = meter.clock()[0] + 600_000 if deadline_ms is None else deadline_ms
    return secured_frame(key, ME, FunctionCode.WRITE, di, deadline, operator=OPERATOR,
                         value=value)


def refused(reply, error=ErrorCode.NOT_AUTHORISED):
    assert reply is not None and reply.is_abnormal and reply.data == bytes((error,)), reply


# ----------------------------------------------------------------------- run-status word 7


def test_the_run_status_word_shows_the_cover_open_while_it_is(open_meter, closed_meter):
    word = RunStatus7.from_bytes(read(Dlt645Session(open_meter), DI_RUN_STATUS7))
    assert word.bit(rw.RUN7_COVER_OPEN) and not word.bit(rw.RUN7_TERMINAL_COVER_OPEN)
    closed = RunStatus7.from_bytes(read(Dlt645Session(closed_meter), DI_RUN_STATUS7))
    assert closed.bits == 0


def test_the_run_status_word_shows_the_terminal_cover_open_while_it_is(tmp_path):
    doc = OPEN_SCENARIO.read_text()
    assert "[meter]\n" in doc
    doc = doc.replace("[meter]\n", '[meter]\n"terminal_cover.present" = true\n', 1)
    both = tmp_path / "both.toml"
    both.write_text(doc + '\n[[terminal_cover]]\nopen_at = "1h"\n')
    word = RunStatus7.from_bytes(read(Dlt645Session(LiveMeter.from_scenario(
        load_scenario(both), clock=FakeClock())), DI_RUN_STATUS7))
    assert word.bit(rw.RUN7_COVER_OPEN) and word.bit(rw.RUN7_TERMINAL_COVER_OPEN)
    closed = tmp_path / "closed.toml"
    closed.write_text(doc + '\n[[terminal_cover]]\nopen_at = "1h"\nclose_at = "2h"\n')
    word = RunStatus7.from_bytes(read(Dlt645Session(LiveMeter.from_scenario(
        load_scenario(closed), clock=FakeClock())), DI_RUN_STATUS7))
    assert word.bit(rw.RUN7_COVER_OPEN) and not word.bit(rw.RUN7_TERMINAL_COVER_OPEN)


def test_on_backup_the_run_status_word_says_what_the_watch_last_journalled(tmp_path):
    """The run ends inside an outage: the cover bit is the meter's own knowledge (its newest
    record still open), not the switch the twin knows."""
    doc = OPEN_SCENARIO.read_text() + '\n[[outage]]\nat = "2h 30min"\nfor = "2h"\n'
    path = tmp_path / "backup.toml"
    path.write_text(doc)
    meter = LiveMeter.from_scenario(load_scenario(path), clock=FakeClock())
    img = meter.image()
    assert img.cover and not img.cover[0].closed
    assert RunStatus7.from_bytes(read(Dlt645Session(meter), DI_RUN_STATUS7)).bit(
        rw.RUN7_COVER_OPEN)


# ------------------------------------------------------------------ mode word, status word


def test_the_report_bit_is_set_by_the_opening_and_stays_until_an_authorised_reset(open_meter):
    session = Dlt645Session(open_meter)
    status = ReportStatus.from_bytes(read(session, DI_REPORT_STATUS))
    assert status.bit(rw.BIT_COVER_OPEN) and status.bit(rw.STATUS_BIT_POWER_DOWN)
    # a plain level-02 write in the field, and a level-98 one under a wrong key: refused (b2)
    plain = Frame(ME, FunctionCode.WRITE, di_to_bytes(DI_REPORT_RESET) + b"\x02"
                  + bytes.fromhex(PASSWORD) + OPERATOR + ReportReset(COVER_BIT).to_bytes())
    refused(session.answer(plain))
    refused(session.answer(secured_write(open_meter, DI_REPORT_RESET,
                                         ReportReset(COVER_BIT).to_bytes(), key=bytes(16))))
    stale = secured_write(open_meter, DI_REPORT_RESET, ReportReset(COVER_BIT).to_bytes(),
                          deadline_ms=open_meter.clock()[0] - 60_000)
    refused(session.answer(stale))
    assert ReportStatus.from_bytes(read(session, DI_REPORT_STATUS)).bit(rw.BIT_COVER_OPEN)
    reply = session.answer(secured_write(open_meter, DI_REPORT_RESET,
                                         ReportReset(COVER_BIT).to_bytes()))
    assert reply.control == 0x94, reply
    after = ReportStatus.from_bytes(read(session, DI_REPORT_STATUS))
    assert not after.bit(rw.BIT_COVER_OPEN) and after.bit(rw.STATUS_BIT_POWER_DOWN)
    # the cover is still open: the live bit stays, only the report was acknowledged
    assert RunStatus7.from_bytes(read(session, DI_RUN_STATUS7)).bit(rw.RUN7_COVER_OPEN)


def test_a_reset_survives_a_restart_from_the_image(open_meter, tmp_path):
    path = tmp_path / "meter.bin"
    open_meter.persist_to(path, wall=lambda: 0.0)
    session = Dlt645Session(open_meter)
    assert session.answer(secured_write(open_meter, DI_REPORT_RESET,
                                        ReportReset(COVER_BIT | PD_BIT).to_bytes())).control == 0x94
    again = LiveMeter.from_scenario(load_scenario(OPEN_SCENARIO), clock=FakeClock())
    assert ReportStatus.from_bytes(read(Dlt645Session(again), DI_REPORT_STATUS)).bits != 0
    again.reboot_from(path, wall=lambda: 0.0)
    assert ReportStatus.from_bytes(read(Dlt645Session(again), DI_REPORT_STATUS)).bits == 0


def test_the_mode_word_is_readable_writable_with_authority_and_gates_the_status(open_meter):
    session = Dlt645Session(open_meter)
    assert ReportMode.from_bytes(read(session, DI_REPORT_MODE)).bits == rw.DEFAULT_MODE
    # The mode word numbers the power-down 37, the status word 69 (reportword.py).
    only_pd = ReportMode(1 << rw.MODE_BIT_POWER_DOWN).to_bytes()
    plain = Frame(ME, FunctionCode.WRITE, di_to_bytes(DI_REPORT_MODE) + b"\x02"
                  + bytes.fromhex(PASSWORD) + OPERATOR + only_pd)
    refused(session.answer(plain))
    assert session.answer(secured_write(open_meter, DI_REPORT_MODE, only_pd)).control == 0x94
    assert ReportMode.from_bytes(read(session, DI_REPORT_MODE)).bits == 1 << 37
    assert ReportStatus.from_bytes(read(session, DI_REPORT_STATUS)).bits == PD_BIT
    short = secured_write(open_meter, DI_REPORT_MODE, only_pd[:7])
    refused(session.answer(short), ErrorCode.OTHER)


def test_the_reset_is_not_readable_and_other_parameters_are_not_writable(open_meter):
    session = Dlt645Session(open_meter)
    refused(session.answer(read_request(ME, DI_REPORT_RESET)), ErrorCode.NO_SUCH_DATA)
    write = secured_write(open_meter, DI_RUN_STATUS7, b"\x00\x00")
    refused(session.answer(write))


# ------------------------------------------------------------------ the rules, pure


def _pd(seq, start_ms, end_ms=None):
    rec = PowerDown(seq, start_ms, EXACT)
    return rec if end_ms is None else rec.with_end(PowerDownEnd(seq, end_ms, EXACT))


def test_a_power_down_after_less_than_an_hour_of_supply_is_not_reported():
    first = _pd(1, 10 * HOUR_MS, 11 * HOUR_MS)
    soon = _pd(2, 11 * HOUR_MS + HOUR_MS - 1000, 13 * HOUR_MS)
    later = _pd(3, 14 * HOUR_MS, 15 * HOUR_MS)
    word = rw.ReportWord(pd_acked=1)
    assert rw.status_bits(word, 0, [soon, first], 2) == 0
    assert rw.status_bits(word, 0, [later, soon, first], 3) == PD_BIT
    assert rw.pd_reportable([first], 1)  # no earlier record: the supply before is not on record
    assert not rw.pd_reportable([first], 7)  # a record the meter does not hold


def test_the_cover_bit_follows_the_all_time_total_not_the_ring():
    word = rw.ReportWord(cover_acked=12)
    assert rw.status_bits(word, 12, [], 0) == 0
    assert rw.status_bits(word, 13, [], 0) == COVER_BIT
    assert rw.after_reset(word, COVER_BIT, 13, 0).cover_acked == 13
    assert rw.after_reset(word, PD_BIT, 13, 4).as_tuple() == (0, rw.DEFAULT_MODE, 12, 4)


# ------------------------------------------------------------------ cumulative open time


def test_the_cumulative_open_time_sums_the_held_records(open_meter, closed_meter):
    value = CoverOpenTime.from_bytes(read(Dlt645Session(closed_meter), DI_MFR_COVER_OPEN_TIME))
    img = closed_meter.image()
    want = sum(r.closed_ms - r.opened_ms for r in img.cover)
    assert value == CoverOpenTime(len(img.cover), want // 60_000) and value.openings == 10
    still_open = CoverOpenTime.from_bytes(read(Dlt645Session(open_meter), DI_MFR_COVER_OPEN_TIME))
    assert still_open.openings == 1 and 59 <= still_open.minutes <= 61  # opened an hour ago


def test_open_time_counts_an_open_record_up_to_now():
    closed = CoverOpen(1, EXACT, 1000)
    closed.closed, closed.closed_ms = True, 61_000
    assert rw.open_time_ms([CoverOpen(2, EXACT, 100_000), closed], 160_000) == (2, 120_000)


# ------------------------------------------------------------------ the report page


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1))
def test_report_pages_round_trip(gen, mode, cover, pd):
    word = rw.ReportWord(gen, mode, cover, pd)
    assert rw.decode_page(rw.encode_page(word)) == word


@given(st.integers(0, rw.PAGE_LEN - 1), st.integers(1, 255))
def test_a_forged_report_page_decodes_to_nothing(at, flip):
    page = bytearray(rw.encode_page(rw.ReportWord(3, rw.DEFAULT_MODE, 7, 2)))
    page[at] ^= flip
    assert rw.decode_page(bytes(page)) is None


def test_a_forged_copy_falls_back_to_the_other_and_a_bad_value_is_refused():
    nvm = bytearray(b"\xff" * 40000)

    def read_nvm(addr, n):
        return bytes(nvm[addr:addr + n])

    j = rw.ReportJournal(read_nvm)
    j.recover()
    for acked in (5, 6):
        addr, data = j.save(rw.ReportWord(0, rw.DEFAULT_MODE, acked, 0))
        nvm[addr:addr + len(data)] = data
        j.committed(addr, data)
    k = rw.ReportJournal(read_nvm)
    k.recover()
    assert k.word.cover_acked == 6
    nvm[rw.report_addr(1) + 2] ^= 0x40  # the newer copy, forged
    k.recover()
    assert k.word.cover_acked == 5
    with pytest.raises(ValueError):
        rw.encode_page(rw.ReportWord(0, 1 << 64))
    with pytest.raises(ValueError):
        j.committed(rw.report_addr(0), b"\x00" * rw.PAGE_LEN)


def test_bit_words_refuse_a_wrong_length_and_a_value_too_wide():
    with pytest.raises(ValueError):
        ReportStatus(1 << 96)
    with pytest.raises(ValueError):
        RunStatus7.from_bytes(b"\x00")


# ------------------------------------------------------------------ the independent peer


def test_the_pypi_client_reads_the_status_words_and_sees_the_reset(tmp_path):
    pytest.importorskip("dlt645")
    from dlt645.model.data.define import DIMap
    from dlt645.service.clientsvc.client_service import MeterClientService

    from meterseal.firmware.caltime import ms_from_civil
    from meterseal.protocols.dlt645.frame import decode, encode

    def raw_read(client, di):
        reply = decode(bytes(client.client.send_request(encode(read_request(ME, di)))))
        assert reply.control == 0x91, reply
        return reply.data[4:]

    with serve(Path(OPEN_SCENARIO)) as served:
        client = MeterClientService.new_tcp_client("127.0.0.1", served.port, timeout=3)
        try:
            assert client.read_address() is not None
            client.data_map[DI_RUN_STATUS7] = deepcopy(DIMap[DI_RUN_STATUS7])
            word = client.read_04(DI_RUN_STATUS7)
            assert word is not None
            # the client prints an XXXX field as its digits, high byte first: bit 8 is 0100
            assert word.value == "0100"
            status = ReportStatus.from_bytes(raw_read(client, DI_REPORT_STATUS))
            assert status.bit(rw.BIT_COVER_OPEN)
            date = client.read_04(0x04000101).value
            tod = client.read_04(0x04000102).value
            now_ms = ms_from_civil(2000 + int(date[:2]), int(date[2:4]), int(date[4:6]),
                                   int(tod[:2]), int(tod[2:4]), int(tod[4:6]))
            frame = secured_frame(KEY, ME, FunctionCode.WRITE, DI_REPORT_RESET,
                                  now_ms + 600_000, operator=OPERATOR,
                                  value=ReportReset(COVER_BIT).to_bytes())
            reply = decode(bytes(client.client.send_request(encode(frame))))
            assert reply.control == 0x94, reply
            status = ReportStatus.from_bytes(raw_read(client, DI_REPORT_STATUS))
            assert not status.bit(rw.BIT_COVER_OPEN)
            client.data_map[DI_RUN_STATUS7] = deepcopy(DIMap[DI_RUN_STATUS7])
            assert client.read_04(DI_RUN_STATUS7).value == "0100"  # still open
        finally:
            client.disconnect()
