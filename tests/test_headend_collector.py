"""The collector against real gateways on loopback, into real stores (SQLite and PostgreSQL):
a whole collection, a second run that reads only what is new, a close half and new records
arriving later, clears, the ring's overflow, and meters that fail as problem rows, not crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterseal.headend.harvest import Mark
from meterseal.headend.store import Store
from meterseal.headend.window import advance, window
from meterseal.protocols.dlt645.frame import Frame, FrameError, encode, normal_reply
from meterseal.protocols.dlt645.maker import OURS
from tests.headend_helpers import DATA_TABLES, Counting, bus_of, collect, face, live, snapshot

R1, R2, S1, F1 = "202603010001", "202603010002", "202603010003", "202603010004"


def fleet() -> dict[str, dict[bytes, object]]:
    return {
        "gw-1": bus_of({R1: face(live("rich", R1)), S1: face(live("stage2", S1))}),
        "gw-2": bus_of({R2: face(live("rich", R2)), F1: face(live("rich", F1), "ACME")}),
    }


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    store = Store.open(url)
    try:
        return store.db.query(sql)
    finally:
        store.close()


def test_a_fleet_is_collected_whole(store_url: str) -> None:
    summary = collect(store_url, fleet())  # type: ignore[arg-type]
    assert (summary.meters_read, summary.meters_failed) == (4, 0)
    covers = rows(store_url, "SELECT meter_address, count(*), min(seq), max(seq) FROM cover_open"
                             " GROUP BY meter_address ORDER BY meter_address")
    assert [tuple(r) for r in covers] == [(R1, 10, 4, 13), (R2, 10, 4, 13), (S1, 5, 1, 5),
                                          (F1, 10, 4, 13)]
    qualities = dict(rows(store_url, "SELECT meter_address, min(time_quality) FROM cover_open"
                                     " GROUP BY meter_address"))
    assert qualities[F1] == "unknown" and qualities[R1] in ("bounded", "deferred", "exact")
    bounded = rows(store_url, "SELECT not_before, not_after FROM cover_open"
                              f" WHERE meter_address = '{R1}' AND time_quality = 'bounded'")
    assert bounded and all(nb is not None and na is not None for nb, na in bounded)
    makers = dict(rows(store_url, "SELECT address, manufacturer FROM meter"))
    assert makers == {R1: OURS, R2: OURS, S1: OURS, F1: "ACME"}
    problems = rows(store_url, "SELECT meter_address, problem FROM collection_problem")
    assert sorted(a for a, _ in problems) == [R1, R2, F1]  # 13 records, a ring of 10
    assert all("3 records left the ring unread" in p for _, p in problems)
    assert summary.new_events == sum(
        n for (n,) in rows(store_url, "SELECT count(*) FROM cover_open UNION ALL"
                                      " SELECT count(*) FROM power_down"))
    run = rows(store_url, "SELECT meters_total, meters_read, meters_failed, ended_at"
                          " FROM collection_run")
    assert run[0][:3] == (4, 4, 0) and run[0][3] is not None


def test_a_second_run_reads_only_what_is_new(store_url: str) -> None:
    buses = fleet()
    collect(store_url, buses)  # type: ignore[arg-type]
    before = snapshot(store_url)
    counted = {name: {a: Counting(s) for a, s in b.items()} for name, b in buses.items()}
    summary = collect(store_url, counted)  # type: ignore[arg-type]
    assert summary.new_events == 0 and summary.meters_read == 4
    # Ours: every log's totals (the terminal cover's too) and the newest freeze in one question
    # (04 80 FF 00); another maker's: the clear count, the standard counts of the cover, the
    # terminal cover, the power downs and the time settings, and the newest freeze time
    # (05 06 00 01). And once
    # more the record still open at the last collection (the rich meter's cover stays open at
    # its end).
    assert [c.requests for b in counted.values() for c in b.values()] == [1 + 1, 1, 1 + 1,
                                                                           6 + 1]
    after = snapshot(store_url)
    for table in (*DATA_TABLES, "problems"):  # the gateways' ports changed, nothing else
        assert after[table] == before[table], table


def test_a_close_half_and_new_records_arrive_later(store_url: str, tmp_path: Path) -> None:
    bus = bus_of({S1: face(live("stage1", S1))})
    collect(store_url, {"gw": bus})  # type: ignore[dict-item]
    still_open = rows(store_url, "SELECT seq, closed_at FROM cover_open ORDER BY seq")
    assert [(s, c is None) for s, c in still_open] == [(1, False), (2, False), (3, True)]
    assert rows(store_url, "SELECT seq, open_seq FROM watermark WHERE kind = 'cover_open'") \
        == [(3, 3)]
    bus[next(iter(bus))] = face(live("stage2", S1))  # the same meter, later
    summary = collect(store_url, {"gw": bus})  # type: ignore[dict-item]
    assert summary.new_events >= 2
    clean = f"sqlite:///{tmp_path}/clean.db"
    collect(clean, {"gw": bus_of({S1: face(live("stage2", S1))})})  # type: ignore[dict-item]
    for table in ("cover_open", "power_down", "watermark"):
        assert snapshot(store_url)[table] == snapshot(clean)[table], table


def test_a_clear_flags_records_and_is_stored(store_url: str) -> None:
    meters = {R1: live("rich", R1), F1: live("rich", F1)}
    buses = {"gw": bus_of({R1: face(meters[R1]), F1: face(meters[F1], "ACME")})}
    collect(store_url, buses)  # type: ignore[arg-type]
    for m in meters.values():
        now, _valid = m.clock()
        m.clear_events(now, 0, bytes.fromhex("12345678"), 0x03300DFF, True, False)
    summary = collect(store_url, buses)  # type: ignore[arg-type]
    assert summary.meters_read == 2
    clears = rows(store_url, "SELECT meter_address, seq, operator, di FROM event_clear"
                             " ORDER BY meter_address")
    assert [tuple(r) for r in clears] == [(R1, 1, "12345678", "03300DFF"),
                                          (F1, 1, "12345678", "03300DFF")]
    cleared = dict(rows(store_url, "SELECT meter_address, count(*) FROM cover_open"
                                   " WHERE cleared GROUP BY meter_address"))
    assert cleared == {R1: 10, F1: 10}
    marks = dict(rows(store_url, "SELECT meter_address, base FROM watermark"
                                 " WHERE kind = 'cover_open'"))
    assert marks == {R1: 13, F1: 13}
    assert rows(store_url, "SELECT count(*) FROM collection_problem WHERE problem LIKE"
                           " '%cleared since the last collection%'") == [(1,)]  # the ACME one


class Garbled:
    """A meter that answers every read with the right DI and the wrong bytes."""

    def __init__(self, address: bytes) -> None:
        self.address = address

    def handle(self, frame: Frame) -> list[bytes]:
        return [encode(normal_reply(frame, self.address, frame.data[:4] + b"\x99\x42"))]

    def handle_error(self, error: FrameError) -> list[bytes]:
        return []


def test_meters_that_fail_are_problem_rows_and_the_rest_is_collected(store_url: str) -> None:
    from meterseal.sim.live import address_wire

    bus = bus_of({R1: face(live("rich", R1))})
    bus[address_wire(R2)] = Garbled(address_wire(R2))  # type: ignore[assignment]
    listed = {"gw": [R1, R2, "202603019999"]}  # the last is on no bus
    summary = collect(store_url, {"gw": bus}, listed)  # type: ignore[dict-item]
    assert (summary.meters_read, summary.meters_failed) == (1, 2)
    problems = dict(rows(store_url, "SELECT meter_address, problem FROM collection_problem"
                                    " WHERE problem LIKE 'no reading%'"))
    assert "garbage" in problems[R2]
    assert "did not answer" in problems["202603019999"]
    assert rows(store_url, "SELECT count(*) FROM cover_open") == [(10,)]


def test_a_gateway_that_cannot_be_reached_is_a_problem_row(tmp_path: Path) -> None:
    import asyncio

    from meterseal.headend.collector import Collector
    from meterseal.headend.endpoints import Endpoints, Gateway
    from tests.headend_helpers import FAST

    url = f"sqlite:///{tmp_path}/s.db"
    store = Store.open(url)
    endpoints = Endpoints((Gateway("dead", "tcp://127.0.0.1:9", (R1, R2)),), source="test")
    summary = asyncio.run(Collector(store, endpoints, FAST).run())
    store.close()
    assert summary.gateways_down == ["dead"] and summary.meters_failed == 2
    assert rows(url, "SELECT meter_address, endpoint FROM collection_problem") == \
        [(None, "tcp://127.0.0.1:9")]


@pytest.mark.parametrize("mark, total, first, count, lost", [
    (Mark(), 0, 1, 0, 0),
    (Mark(), 3, 1, 3, 0),
    (Mark(), 13, 1, 10, 3),
    (Mark(3), 13, 4, 10, 0),
    (Mark(2), 14, 3, 10, 2),
    (Mark(5, 5), 5, 5, 1, 0),  # the open one is read again
    (Mark(5), 5, 6, 0, 0),
])
def test_the_window_over_the_ring(mark: Mark, total: int, first: int, count: int,
                                  lost: int) -> None:
    w = window(mark, total)
    assert (w.first, w.count, w.lost) == (first, count, lost)


def test_the_watermark_stops_below_a_record_not_read() -> None:
    w = window(Mark(2), 6)
    assert advance(Mark(2), w, {3: True, 4: True, 6: True}, 0) == Mark(4, None, 0)
    assert advance(Mark(2), w, {3: True, 4: True, 5: True, 6: False}, 0) == Mark(6, 6, 0)
