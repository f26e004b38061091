"""The collector takes the meter's clock changes into the store (clock_change): time settings
from every maker's meter (03 30 04), broadcast times from ours (04 80 08); the analytics then
see a clock change near an opening, and --explain lists it. Nothing new costs our meter no
second exchange: 04 80 FF 00 carries both counts."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from meterseal.firmware.caltime import MS_PER_DAY
from meterseal.headend.analytics.features import build
from meterseal.headend.analytics.load import load
from meterseal.headend.store import Store
from meterseal.protocols.dlt645.catalog import DI_TIME, MeterTime
from meterseal.protocols.dlt645.frame import Frame, FunctionCode
from meterseal.protocols.dlt645.security import secured_frame
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import SCENARIO, FakeClock
from tests.headend_helpers import Counting, bus_of, collect, face, snapshot
from tests.test_dlt645_field_rules import KEY, MIN, OPERATOR, broadcast

OURS_ADDR = "202603010042"
ACME_ADDR = "202603010043"


def field_meter(address: str) -> LiveMeter:
    sc = load_scenario(SCENARIO)
    overrides = {**dict(sc.overrides), "security.factory_mode": False, "meter.address": address}
    return LiveMeter.from_scenario(dataclasses.replace(sc, overrides=tuple(overrides.items())),
                                   clock=FakeClock())


def time_set(meter: LiveMeter, local_ms: int) -> Frame:
    """A level-98 (secured) setting of the time of day, addressed to this meter."""
    value = MeterTime(local_ms % MS_PER_DAY // 1000 * 1000).to_bytes()
    return secured_frame(KEY, meter.address, FunctionCode.WRITE, DI_TIME,
                         meter.clock()[0] + 10 * MIN, operator=OPERATOR, value=value)


def change_clocks(meter: LiveMeter) -> tuple[int, int]:
    """A broadcast three minutes back, then a level-98 time setting two minutes ahead: the
    meter's clock before each (local ms)."""
    session = Dlt645Session(meter)
    before_broadcast = meter.clock()[0]
    assert broadcast(session, before_broadcast - 3 * MIN) is None  # to 99×6: never answered
    before_set = meter.clock()[0]
    reply = session.answer(time_set(meter, before_set + 2 * MIN))
    assert reply is not None and reply.control == 0x94, reply
    return before_broadcast, before_set


def rows(url: str) -> list[tuple[Any, ...]]:
    store = Store.open(url)
    try:
        return store.db.query("SELECT meter_address, kind, seq, changed_at, clock_before,"
                              " clock_after, operator FROM clock_change ORDER BY 1, 2, 3")
    finally:
        store.close()


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_both_makers_clock_changes_reach_the_store(store_url: str) -> None:
    ours, acme = field_meter(OURS_ADDR), field_meter(ACME_ADDR)
    (b_ours, s_ours), _ = change_clocks(ours), change_clocks(acme)
    summary = collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours),
                                                ACME_ADDR: face(acme, "ACME")})})
    assert summary.meters_failed == 0
    got = rows(store_url)
    # Another maker's meter: its time setting only (the broadcast log is ours).
    assert [(r[0], r[1], r[2], r[6]) for r in got] == [
        (OURS_ADDR, "broadcast_time", 1, None),
        (OURS_ADDR, "time_set", 1, OPERATOR.hex().upper()),
        (ACME_ADDR, "time_set", 1, OPERATOR.hex().upper()),
    ]
    start = datetime.fromisoformat("2000-01-01T00:00:00+08:00")
    broadcast_row, set_row = got[0], got[1]
    # Times to the second, as the standard's records hold them; changed_at is the time before.
    assert _at(broadcast_row[3]) == _at(broadcast_row[4]) == start + timedelta(
        milliseconds=b_ours // 1000 * 1000)
    assert _at(broadcast_row[5]) - _at(broadcast_row[4]) == timedelta(minutes=-3)
    assert _at(set_row[4]) == start + timedelta(milliseconds=s_ours // 1000 * 1000)
    assert _at(set_row[5]) - _at(set_row[4]) == timedelta(minutes=2)
    marks = {(r[0], r[1]): r[2:] for r in snapshot(store_url)["watermark"]}
    assert marks[(OURS_ADDR, "time_set")] == marks[(OURS_ADDR, "broadcast_time")] == (1, None, 0)


def test_nothing_new_costs_our_meter_one_exchange_and_changes_nothing(store_url: str) -> None:
    ours, acme = field_meter(OURS_ADDR), field_meter(ACME_ADDR)
    change_clocks(ours), change_clocks(acme)
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    before = rows(store_url)
    counted = {OURS_ADDR: Counting(face(ours)), ACME_ADDR: Counting(face(acme, "ACME"))}
    summary = collect(store_url, {"gw": bus_of(counted)})  # type: ignore[arg-type]
    assert summary.new_events == 0 and rows(store_url) == before
    # Ours: 04 80 FF 00 alone, plus the cover record that stays open at the scenario's end.
    ours_open = counted[OURS_ADDR].requests
    assert ours_open == 1 + 1
    # A second time setting is collected as the next one.
    session = Dlt645Session(ours)
    reply = session.answer(time_set(ours, ours.clock()[0] + 4 * MIN))
    assert reply is not None and reply.control == 0x94, reply
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours), ACME_ADDR: face(acme, "ACME")})})
    assert [r[2] for r in rows(store_url) if r[:2] == (OURS_ADDR, "time_set")] == [1, 2]


def test_the_analytics_see_a_clock_change_near_an_opening(store_url: str) -> None:
    ours = field_meter(OURS_ADDR)
    change_clocks(ours)
    collect(store_url, {"gw": bus_of({OURS_ADDR: face(ours)})})
    store = Store.open(store_url)
    with store.db.transaction():  # the utility's register: one customer, its model
        store.db.execute("INSERT INTO customer VALUES (?, ?, ?, ?, ?, ?)",
                         (OURS_ADDR, "c-1", "household", "feeder-1", "gw", "ours"))
        store.db.execute("INSERT INTO meter_model VALUES (?, ?, ?, ?, ?, ?, ?)",
                         ("ours", "battery-first", "eaton-kw-1f", "er14250", "interrupt", True,
                          72.0))
    store.close()
    con = load(store_url)
    try:
        build(con)
        near = con.execute("SELECT clock_changes_near_open FROM meter_evidence"
                           " WHERE address = ?", [OURS_ADDR]).fetchone()
        openings = con.execute("SELECT count(*) FROM opening WHERE address = ?",
                               [OURS_ADDR]).fetchone()
    finally:
        con.close()
    # Both changes lie within a week of each of the meter's openings (two days of them, none
    # covered by a work order): each opening counts both.
    assert openings is not None and openings[0] >= 1
    assert near is not None and near[0] == 2 * openings[0]
