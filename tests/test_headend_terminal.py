"""The collector takes the terminal cover's log into the store: ours through the extended
records (with time quality), another maker's through the standard ones; its own watermark, its
own clears, and nothing new costs our meter no second exchange (04 80 FF 00 carries its totals).
A store of the previous schema keeps its watermarks through the upgrade."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from meterseal.headend.store import LATEST, Store, upgrade
from meterseal.headend.store.db import open_db
from meterseal.protocols.dlt645.frame import (
    Frame,
    FunctionCode,
    address_from_string,
    decode,
    di_to_bytes,
    read_request,
)
from meterseal.protocols.dlt645.maker import LogTotals
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import PASSWORD, FakeClock
from tests.headend_helpers import Counting, bus_of, collect, face, snapshot

TERMINAL_METER = Path(__file__).resolve().parent / "data" / "terminal_cover_meter.toml"
OURS_ADDR = "202603010042"
ACME_ADDR = "202603010043"
START = datetime.fromisoformat("2026-03-01T08:00:00+08:00")


def meters() -> tuple[LiveMeter, LiveMeter]:
    sc = load_scenario(TERMINAL_METER)
    ours = LiveMeter.from_scenario(sc, clock=FakeClock())
    other = dataclasses.replace(sc, overrides=tuple(
        (k, ACME_ADDR if k == "meter.address" else v) for k, v in sc.overrides))
    return ours, LiveMeter.from_scenario(other, clock=FakeClock())


def terminal_rows(url: str, address: str) -> list[tuple[Any, ...]]:
    store = Store.open(url)
    try:
        return store.db.query(
            "SELECT seq, opened_at, closed_at, time_quality, close_quality, cleared"
            " FROM terminal_cover_open WHERE meter_address = ? ORDER BY seq", (address,))
    finally:
        store.close()


def _at(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def clear_terminal_log(meter: LiveMeter) -> None:
    session = Dlt645Session(meter)
    data = b"\x02" + bytes.fromhex(PASSWORD) + b"\x12\x34\x56\x78" + di_to_bytes(0x03300EFF)
    reply = session.answer(Frame(address_from_string(meter.address_digits),
                                 FunctionCode.EVENT_CLEAR, data))
    assert reply is not None and reply.control == 0x9B, reply


def test_both_makers_terminal_openings_reach_the_store(store_url: str) -> None:
    ours, acme = meters()
    summary = collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours),
                                                ACME_ADDR: face(acme, "ACME")})})
    assert summary.meters_read == 2 and summary.meters_failed == 0
    opened = [START + timedelta(hours=h) for h in (2, 8, 20)]
    closed = [START + timedelta(hours=h) for h in (2 + 5 / 60, 10)] + [None]
    rows = terminal_rows(store_url, OURS_ADDR)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [_at(r[1]) for r in rows] == opened
    assert [_at(r[2]) for r in rows] == closed
    # The one opened in the outage was seen on the backup: its time is exact, like the others.
    assert [r[3] for r in rows] == ["exact"] * 3 and not any(r[5] for r in rows)
    # Another maker's: the same openings through the standard records, quality unknown.
    acme_rows = terminal_rows(store_url, ACME_ADDR)
    assert [(_at(r[1]), _at(r[2]), r[3]) for r in acme_rows] == list(
        zip(opened, closed, ["unknown"] * 3, strict=True))
    # The meter cover's opening stays in its own table, not in the terminal one.
    snap = snapshot(store_url)
    assert len([r for r in snap["cover_open"] if r[0] == OURS_ADDR]) == 1
    marks = {(r[0], r[1]): r[2:] for r in snap["watermark"]}
    assert marks[(OURS_ADDR, "terminal_cover")] == (3, 3, 0)  # seq 3 still open


def test_a_second_collection_reads_the_open_terminal_record_again_and_nothing_else(
        store_url: str) -> None:
    ours, acme = meters()
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    before = snapshot(store_url)
    counted = {OURS_ADDR: Counting(face(ours)), ACME_ADDR: Counting(face(acme, "ACME"))}
    summary = collect(store_url, {"gw": bus_of(counted)})  # type: ignore[arg-type]
    assert summary.new_events == 0
    after = snapshot(store_url)
    kept = [t for t in before if t not in ("problems", "meter")]  # new gateway port each time
    assert {t: after[t] for t in kept} == {t: before[t] for t in kept}
    # Ours: the totals of every log (the terminal cover's among them) in one question, then the
    # terminal record still open (04 80 0E 01). Another maker's: the clear count, the counts of
    # the cover, the terminal cover and the power downs, the newest freeze time, the open record.
    assert counted[OURS_ADDR].requests == 1 + 1
    assert counted[ACME_ADDR].requests == 6 + 1


def test_a_clear_of_the_terminal_log_flags_what_was_collected(store_url: str) -> None:
    ours, acme = meters()
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    clear_terminal_log(ours)
    clear_terminal_log(acme)
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    # Ours: the all-time baseline moved to 3, every record at or below it is flagged.
    assert [bool(r[5]) for r in terminal_rows(store_url, OURS_ADDR)] == [True] * 3
    # Another maker's: the clear named the log, its count restarts on a new base; what it held
    # is flagged and the problem row says what could not be known.
    assert [bool(r[5]) for r in terminal_rows(store_url, ACME_ADDR)] == [True] * 3
    problems = [p for p in snapshot(store_url)["problems"] if p[0] == ACME_ADDR]
    assert any("terminal_cover: the log was cleared" in str(p[2]) for p in problems)
    # The meter cover's records are untouched by a clear of the terminal cover's log.
    assert not any(int(r[-1]) for r in snapshot(store_url)["cover_open"])


def test_our_totals_answer_carries_the_terminal_cover_and_older_meters_still_decode() -> None:
    ours, _ = meters()
    reply = decode(face(ours).handle(read_request(ours.address, 0x0480FF00))[0])
    totals = LogTotals.from_bytes(reply.data[4:])
    assert totals.terminal is not None and totals.terminal.total == 3
    old = totals.to_bytes()[:LogTotals.OLD_LENGTH]  # a meter of ours from before: 24 bytes
    assert LogTotals.from_bytes(old).terminal is None
    with pytest.raises(Exception, match="has 38 bytes, got 25"):
        LogTotals.from_bytes(old + b"\x00")


def test_a_store_of_the_previous_schema_keeps_its_watermarks(store_url: str) -> None:
    db = open_db(store_url)
    assert upgrade(db, LATEST - 1) == LATEST - 1
    db.close()
    old = Store.open(store_url, migrate=False)
    with old.db.transaction():
        old.db.execute("INSERT INTO meter (address, manufacturer, vendor_records, utc_offset_h,"
                       " endpoint, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (OURS_ADDR, "meterseal", True, 8.0, "tcp://x:1",
                        "2026-03-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"))
        old.db.execute("INSERT INTO watermark (meter_address, kind, seq, open_seq, base)"
                       " VALUES (?, ?, ?, ?, ?)", (OURS_ADDR, "cover_open", 7, 7, 2))
    old.close()
    store = Store.open(store_url)
    assert store.rows("watermark") == [(OURS_ADDR, "cover_open", 7, 7, 2)]
    with store.db.transaction():
        store.db.execute("INSERT INTO watermark (meter_address, kind, seq, open_seq, base)"
                         " VALUES (?, ?, ?, ?, ?)", (OURS_ADDR, "terminal_cover", 1, None, 0))
    with pytest.raises(Exception, match=r"(?i)check constraint"), store.db.transaction():
        store.db.execute("INSERT INTO watermark (meter_address, kind, seq, open_seq, base)"
                         " VALUES (?, ?, ?, ?, ?)", (OURS_ADDR, "bogus", 1, None, 0))
    store.close()
