"""The terminal cover: a second key switch on the same backup, recorded as its own event.

A revenue-protection engineer's questions: is a terminal-cover opening during an outage
recorded as exactly as a meter-cover one; are both covers opened in one outage two events, each
in its own log; does the oracle judge the terminal cover's log by the same invariants (and
refuse a forged terminal record); do the DL/T 645 DIs 03 30 0E 00/01..0A serve it.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import (
    FREE_BASE_PAGE,
    PAGE_SIZE,
    terminal_close_addr,
    terminal_open_addr,
)
from meterseal.firmware.pagecodec import encode_page
from meterseal.firmware.pending import TERMINAL, PendingEntry, decode_pending, encode_pending
from meterseal.firmware.records import (
    DEFERRED,
    EXACT,
    CoverOpen,
    TerminalClose,
    TerminalOpen,
)
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import ScenarioError, load_scenario, parse_scenario
from meterseal.sim.scenario_toml import to_toml
from meterseal.verify.oracle.evidence import NO_SWITCH_CAUSE
from meterseal.verify.result import Outcome, result_dict, simulate

START = "2026-03-01T08:00:00+08:00"
USED = FREE_BASE_PAGE * PAGE_SIZE
HOUR_US = 3_600_000_000


def scenario(terminal: list[dict[str, Any]], cover: list[dict[str, Any]] | None = None, *,
             present: bool = True, outage: tuple[str, str] = ("2h", "10h"),
             duration: str = "1d", **meter: object) -> dict[str, Any]:
    return {
        "name": "terminal cover", "start": START, "duration": duration, "seed": 5,
        "meter": {"terminal_cover.present": present, **meter},
        "outage": [{"at": outage[0], "for": outage[1]}],
        "cover": cover or [],
        "terminal_cover": terminal,
    }


def run(doc: dict[str, Any]) -> Outcome:
    return simulate(parse_scenario(doc), trace=False)


@pytest.fixture(scope="module")
def both_in_one_outage() -> Outcome:
    """Meter cover and terminal cover each opened and closed in the same outage, interleaved:
    terminal opens, cover opens, terminal closes, cover closes."""
    return run(scenario([{"open_at": "4h", "close_at": "5h"}],
                        [{"open_at": "4h 30min", "close_at": "6h"}]))


def test_a_terminal_cover_opening_in_an_outage_is_recorded_exactly() -> None:
    out = run(scenario([{"open_at": "6h", "close_at": "6h 20min"}]))
    j = out.judgment
    assert j.passed, j.problems
    img = decode_image(out.log.final_image)
    assert img.cover_total == 0 and img.terminal_cover_total == 1
    rec = img.terminal_cover[0]
    assert rec.quality == EXACT and rec.closed and rec.close_quality == EXACT
    [v] = j.terminal_verdicts
    assert v.status == "recorded" and v.record == 1 and abs(v.time_error_s or 9) < 0.5
    # seen on the backup and stamped within the debounce of the true instant
    opened_s = (rec.opened_ms - out.log.start_local_ms) / 1000
    assert abs(opened_s - 6 * 3600) < 0.5


def test_both_covers_in_one_outage_are_each_their_own_event(both_in_one_outage: Outcome) -> None:
    out = both_in_one_outage
    j = out.judgment
    assert j.passed, j.problems
    img = decode_image(out.log.final_image)
    assert (img.cover_total, img.terminal_cover_total) == (1, 1)
    cover, terminal = img.cover[0], img.terminal_cover[0]
    t0 = out.log.start_local_ms
    assert abs((terminal.opened_ms - t0) / 1000 - 4 * 3600) < 0.5
    assert abs((terminal.closed_ms - t0) / 1000 - 5 * 3600) < 0.5
    assert abs((cover.opened_ms - t0) / 1000 - 4.5 * 3600) < 0.5
    assert abs((cover.closed_ms - t0) / 1000 - 6 * 3600) < 0.5
    assert [v.status for v in j.verdicts] == ["recorded"]
    assert [v.status for v in j.terminal_verdicts] == ["recorded"]
    # each opening's report names its own log
    kinds = {(kind, seq) for _t, kind, seq, _on in out.log.reports}
    assert kinds == {(1, 1), (2, 1)}


def test_the_run_result_carries_the_terminal_cover(both_in_one_outage: Outcome) -> None:
    r = json.loads(json.dumps(result_dict(both_in_one_outage)))
    assert r["records"]["terminal_cover_open_total"] == 1
    [rec] = r["records"]["terminal_cover_open"]
    assert rec["time_quality"] == "exact" and rec["closed_at"].startswith("2026-03-01T13:00:00")
    assert r["truth"]["terminal_cover"] == [{"opened_at": "2026-03-01T12:00:00.000+08:00",
                                             "closed_at": "2026-03-01T13:00:00.000+08:00"}]
    assert [v["status"] for v in r["terminal_verdicts"]] == ["recorded"]
    assert {x["kind"] for x in r["reports"]} == {"cover_open", "terminal_cover_open"}


def test_a_board_without_the_switch_says_why_nothing_was_recorded() -> None:
    out = run(scenario([{"open_at": "4h", "close_at": "5h"}], present=False))
    j = out.judgment
    assert j.passed, j.problems
    assert decode_image(out.log.final_image).terminal_cover_total == 0
    assert [(v.status, v.cause) for v in j.terminal_verdicts] == [
        ("undetectable", NO_SWITCH_CAUSE)]


def test_a_terminal_cover_opened_while_the_meter_was_dead_is_reconciled_bounded() -> None:
    """A battery+supercap board whose watch (on a small supercapacitor) ends after hours while
    the battery keeps the clock: the terminal cover opened after that is found open at power-up
    and recorded with an interval, not a made-up time."""
    doc = scenario([{"open_at": "1d 20h"}], duration="3d", outage=("1h", "2d"),
                   **{"supply.topology": "battery+supercap", "supercap.capacitance_f": 0.1})
    out = run(doc)
    j = out.judgment
    assert j.passed, j.problems
    [rec] = decode_image(out.log.final_image).terminal_cover
    assert rec.quality == 2  # bounded
    t0 = out.log.start_local_ms
    assert rec.not_before_ms - t0 <= (44 * HOUR_US) // 1000 <= rec.not_after_ms - t0


# ---------------------------------------------------------------------- the oracle refuses


def _forged(log: RunLog, edit: Any, at_us: int) -> RunLog:
    writes = list(log.writes)
    image = bytearray(log.final_image)
    for addr, data in edit:
        writes.append((at_us, addr, data))
        image[addr:addr + len(data)] = data
    return dataclasses.replace(log, writes=writes, final_image=bytes(image),
                               reports=list(log.reports))


def test_the_oracle_refuses_a_forged_terminal_record(both_in_one_outage: Outcome) -> None:
    """A second terminal-cover record, exact at 20 h, written then while it was closed: a
    false record (I1), judged on the terminal cover's own truth."""
    from meterseal.verify.oracle import judge

    log = both_in_one_outage.log
    at_us = 20 * HOUR_US
    rec = TerminalOpen(2, EXACT, log.start_local_ms + at_us // 1000, 0, 0, 150, 0)
    j = judge(both_in_one_outage.scenario,
              _forged(log, [(terminal_open_addr(2), encode_page(rec))], at_us))
    assert j.invariants["I1"] == "fail"
    assert any(p.startswith("terminal cover: record 2") for p in j.problems["I1"])
    assert j.invariants["I2"] == "pass"  # the meter cover's log is untouched


def test_the_oracle_refuses_a_terminal_record_rewritten(both_in_one_outage: Outcome) -> None:
    """The terminal record's close half rewritten a day later (I5 durability)."""
    from meterseal.verify.oracle import judge

    log = both_in_one_outage.log
    close = TerminalClose(1, EXACT, log.start_local_ms + 30 * HOUR_US // 1000, 150, 0)
    j = judge(both_in_one_outage.scenario,
              _forged(log, [(terminal_close_addr(1), encode_page(close))], 23 * HOUR_US))
    assert j.invariants["I5"] == "fail"
    assert any("terminal cover: record 1's closing changed" in p for p in j.problems["I5"])


def test_a_cover_page_copied_into_the_terminal_log_is_not_a_record(
        both_in_one_outage: Outcome) -> None:
    """Each log has page tags of its own: the meter cover's record moved into a terminal slot
    decodes to nothing there."""
    log = both_in_one_outage.log
    cover_page = encode_page(CoverOpen(2, EXACT, log.start_local_ms, 0, 0, 1, 0))
    forged = _forged(log, [(terminal_open_addr(2), cover_page)], 20 * HOUR_US)
    assert decode_image(forged.final_image).terminal_cover_total == 1


# ---------------------------------------------------------------------- the scenario section


def test_terminal_cover_operations_are_validated_like_the_covers() -> None:
    with pytest.raises(ScenarioError, match="terminal_cover 1: close_at is not after open_at"):
        parse_scenario(scenario([{"open_at": "5h", "close_at": "4h"}]))
    with pytest.raises(ScenarioError, match="terminal_cover 2: opened again while still open"):
        parse_scenario(scenario([{"open_at": "4h"}, {"open_at": "5h"}]))
    with pytest.raises(ScenarioError, match=r"\[\[terminal_cover\]\] 1.*'opened'"):
        parse_scenario(scenario([{"opened": "4h"}]))


def test_terminal_cover_operations_write_back_to_the_same_scenario() -> None:
    sc = parse_scenario(scenario([{"open_at": "4h", "close_at": "5h"}, {"open_at": "9h",
                                                                       "held": True}]))
    assert parse_scenario(tomllib.loads(to_toml(sc))) == sc


def test_meterseal_run_refuses_a_bad_terminal_cover_section(tmp_path, capsys) -> None:
    from meterseal.commands import main

    path = tmp_path / "bad.toml"
    path.write_text(f'name = "x"\nstart = "{START}"\nduration = "1d"\n\n'
                    '[[terminal_cover]]\nopen_at = "2d"\n')
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "terminal_cover" in err[0] and "Traceback" not in err[0]


# ---------------------------------------------------------------------- codecs


@given(hs.lists(hs.tuples(hs.integers(0, 1), hs.integers(0, 2**48 - 1), hs.booleans(),
                          hs.integers(1, 2**32 - 1), hs.integers(0, 1)), max_size=10))
def test_pending_entries_keep_their_channel(raw: list[tuple[int, int, bool, int, int]]) -> None:
    entries = [PendingEntry(kind, t, valid, 1, 2, seq, channel)
               for kind, t, valid, seq, channel in raw]
    got = decode_pending(encode_pending(entries, 5, 1, 8))
    assert got is not None and got[0] == entries and got[3] == 8
    assert [e.channel == TERMINAL for e in got[0]] == [c == 1 for *_x, c in raw]


# ---------------------------------------------------------------------- timelines


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hs.lists(hs.tuples(hs.integers(10, 600), hs.integers(1, 120), hs.booleans()),
                min_size=1, max_size=4),
       hs.lists(hs.tuples(hs.integers(10, 600), hs.integers(1, 120)), max_size=3),
       hs.sampled_from(["battery-first", "supercap-only"]))
def test_random_timelines_of_both_covers_keep_every_invariant(
        terminal: list[tuple[int, int, bool]], cover: list[tuple[int, int]],
        topology: str) -> None:
    """Openings of both covers at random minutes of a 12-hour day with a 6-hour outage from
    the second hour: every invariant holds on both logs, and every terminal opening the
    hardware could see is recorded."""
    def ops(raw: list[tuple[int, int]] | list[tuple[int, int, bool]]) -> list[dict[str, str]]:
        out, t = [], 0
        for gap, length, *rest in raw:
            t += gap
            close = f"{t + length}min" if not (rest and rest[0]) or t + length >= 700 else None
            out.append({"open_at": f"{t}min", **({"close_at": close} if close else {})})
            if close is None:
                break
            t += length
        return [o for o in out if int(o["open_at"][:-3]) < 700 and (
            "close_at" not in o or int(o["close_at"][:-3]) <= 720)]

    doc = scenario(ops(terminal), ops(cover), duration="12h", outage=("2h", "6h"),
                   **{"supply.topology": topology})
    out = run(doc)
    assert out.judgment.passed, out.judgment.problems
    assert all(v.status != "missed" for v in out.judgment.terminal_verdicts)


def test_a_deferred_terminal_record_waits_in_retained_ram_with_its_channel() -> None:
    """Undervoltage battery, KW part: an opening past the supercapacitor's budget waits in
    retained RAM as the terminal cover's entry, and is committed (deferred) at restore."""
    doc = scenario([{"open_at": "3d", "close_at": "3d 1h"}], duration="5d", outage=("1h", "4d"),
                   **{"battery.state": "undervoltage", "supercap.part": "eaton-kw-1f"})
    out = run(doc)
    j = out.judgment
    assert j.passed, j.problems
    [rec] = decode_image(out.log.final_image).terminal_cover
    assert rec.quality == DEFERRED
    assert decode_image(out.log.final_image).cover_total == 0


def test_the_nvm_holds_nothing_of_the_terminal_cover_below_its_pages(
        both_in_one_outage: Outcome) -> None:
    addrs = {a for _t, a, _d in both_in_one_outage.log.writes}
    terminal = {a for a in addrs if 68 * PAGE_SIZE <= a < 101 * PAGE_SIZE}
    assert terminal and all(a < USED for a in addrs)


# ---------------------------------------------------------------------- DL/T 645


TERMINAL_METER = Path(__file__).resolve().parent / "data" / "terminal_cover_meter.toml"


@pytest.fixture(scope="module")
def terminal_twin() -> dict[str, Any]:
    return result_dict(simulate(load_scenario(TERMINAL_METER), trace=False))


def _time6(t: str | None) -> str:
    return datetime.fromisoformat(t).strftime("%y%m%d%H%M%S") if t else "0" * 12


def test_the_pypi_client_reads_the_terminal_cover_records(terminal_twin: dict[str, Any]) -> None:
    """The independent `dlt645` client reads 03 30 0E 00 and 03 30 0E 01..03 from a served
    meter: the count and each 60-byte record (14 fields) equal what the twin recorded, and
    03 30 0D 01 still answers the meter cover's own record."""
    dlt645 = pytest.importorskip("dlt645")
    from dlt645.service.clientsvc.client_service import MeterClientService

    from tests.dlt645_helpers import serve
    from tests.test_dlt645_interop import event

    assert dlt645 is not None
    recs = terminal_twin["records"]
    newest_first = sorted(recs["terminal_cover_open"], key=lambda r: -r["seq"])
    assert len(newest_first) == 3
    with serve(TERMINAL_METER) as served:
        client = MeterClientService.new_tcp_client("127.0.0.1", served.port, timeout=3)
        try:
            assert client.read_address() is not None  # the client addresses what it learns
            assert event(client, 0x03300E00) == ["000003"]
            for n, want in enumerate(newest_first, start=1):
                got = event(client, 0x03300E00 + n)
                assert len(got) == 14
                assert got[0] == _time6(want["opened_at"])
                assert got[1] == _time6(want["closed_at"])
                assert got[2] == f"{round(want['energy_before_kwh']['import_active'] * 100):08d}"
            assert event(client, 0x03300E04)[0] == "0" * 12  # no fourth record (yet)
            cover = event(client, 0x03300D01)
            assert cover[0] == _time6(recs["cover_open"][0]["opened_at"])
        finally:
            client.disconnect()


def _session_value(session: Any, di: int) -> bytes:
    from meterseal.protocols.dlt645.frame import address_from_string, di_to_bytes, read_request

    reply = session.answer(read_request(address_from_string("202603010042"), di))
    assert reply is not None and reply.control == 0x91, reply
    assert reply.data[:4] == di_to_bytes(di)
    return reply.data[4:]


def test_the_vendor_block_serves_the_terminal_records_with_their_quality(
        terminal_twin: dict[str, Any]) -> None:
    from meterseal.protocols.dlt645.session import Dlt645Session
    from meterseal.sim.live import LiveMeter
    from tests.dlt645_helpers import FakeClock

    session = Dlt645Session(LiveMeter.from_scenario(load_scenario(TERMINAL_METER),
                                                    clock=FakeClock()))
    totals = _session_value(session, 0x04800E00)
    assert int(totals[3::-1].hex()) == 3 and totals[4:8] == bytes(4)
    newest = _session_value(session, 0x04800E01)
    assert int(newest[3::-1].hex()) == 3 and newest[5] == 0  # seq 3, exact
    assert newest[19:] == _session_value(session, 0x03300E01)  # the standard record embedded
    # the block of all ten comes in follow-up frames (B1: more follows); the first starts with
    # the newest record
    from meterseal.protocols.dlt645.frame import address_from_string, read_request

    first = session.answer(read_request(address_from_string("202603010042"), 0x04800EFF))
    assert first is not None and first.control == 0xB1
    assert first.data[4:4 + len(newest)] == newest


def test_meterseal_read_lists_the_terminal_cover_records(terminal_twin: dict[str, Any]) -> None:
    import subprocess
    import sys

    from tests.dlt645_helpers import serve

    with serve(TERMINAL_METER) as served:
        res = subprocess.run([sys.executable, "-m", "meterseal", "read", "--dlt645",
                              f"tcp://127.0.0.1:{served.port}", "--json"],
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    want = sorted(terminal_twin["records"]["terminal_cover_open"], key=lambda r: -r["seq"])
    assert got["terminal_cover_total"] == 3 and got["terminal_cover_count"] == 3
    assert [(r["seq"], r["time_quality"]) for r in got["terminal_cover"]] == [
        (r["seq"], r["time_quality"]) for r in want]
    assert got["cover_open_total"] == 1  # the meter cover's log is its own


def test_a_clear_of_the_terminal_cover_log_hides_it_and_keeps_everything() -> None:
    """1B with 03 30 0E FF: the standard count and records restart, the meter cover's log is
    untouched, the all-time total stays (vendor block) and the clear is itself recorded; a
    later clear of the meter cover's log keeps the terminal baseline."""
    from meterseal.protocols.dlt645.frame import (
        Frame,
        FunctionCode,
        address_from_string,
        di_to_bytes,
    )
    from meterseal.protocols.dlt645.session import Dlt645Session
    from meterseal.sim.live import LiveMeter
    from tests.dlt645_helpers import PASSWORD, FakeClock

    meter = LiveMeter.from_scenario(load_scenario(TERMINAL_METER), clock=FakeClock())
    session = Dlt645Session(meter)

    def clear(di: int) -> None:
        data = b"\x02" + bytes.fromhex(PASSWORD) + b"\x12\x34\x56\x78" + di_to_bytes(di)
        reply = session.answer(Frame(address_from_string("202603010042"),
                                     FunctionCode.EVENT_CLEAR, data))
        assert reply is not None and reply.control == 0x9B, reply

    before = decode_image(meter.nvm_image())
    clear(0x03300EFF)
    assert _session_value(session, 0x03300E00) == bytes(3)
    assert _session_value(session, 0x03300E01) == bytes(60)
    assert _session_value(session, 0x03300D00) == bytes((1, 0, 0))  # the cover's log stays
    totals = _session_value(session, 0x04800E00)
    assert totals == bytes((3, 0, 0, 0, 3, 0, 0, 0))  # all-time 3, 3 hidden by the clear
    img = decode_image(meter.nvm_image())
    assert img.terminal_cover == before.terminal_cover and img.terminal_cover_base == 3
    assert _session_value(session, 0x03300301)[10:] == di_to_bytes(0x03300EFF)
    clear(0x03300DFF)
    img = decode_image(meter.nvm_image())
    assert (img.cover_base, img.terminal_cover_base) == (1, 3)


def test_the_dlt698_face_serves_the_terminal_cover_as_301c(
        terminal_twin: dict[str, Any]) -> None:
    """The terminal-cover event object 301C: its rows equal the twin's terminal records, each
    with the report status the firmware recorded."""
    from meterseal.protocols.dlt698.apdu import GetRecord
    from meterseal.protocols.dlt698.axdr import Structure
    from meterseal.protocols.dlt698.events import CoverOpenRow
    from meterseal.protocols.dlt698.refs import Oad, SelectAll
    from meterseal.protocols.dlt698.reports import ReportDesk, ReportSettings
    from meterseal.protocols.dlt698.session import Dlt698Session
    from meterseal.protocols.dlt698.values import START_REPORTED
    from meterseal.sim.live import LiveMeter
    from tests.dlt645_helpers import FakeClock
    from tests.dlt698_helpers import memory_client

    meter = LiveMeter.from_scenario(load_scenario(TERMINAL_METER), clock=FakeClock())
    client = memory_client(Dlt698Session(meter, desk=ReportDesk(ReportSettings(
        allow_follow=False))))
    result = client.get_record(GetRecord(Oad(0x301C, 2), SelectAll(), ()))
    got = [CoverOpenRow.from_data(Structure(r)) for r in result.rows]
    want = sorted(terminal_twin["records"]["terminal_cover_open"], key=lambda r: -r["seq"])
    assert [row.number for row in got] == [r["seq"] - 1 for r in want]
    assert [row.end_ms is None for row in got] == [r["closed_at"] is None for r in want]
    assert all(row.report.bits == START_REPORTED for row in got)
