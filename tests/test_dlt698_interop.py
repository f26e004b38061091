"""Interoperability: the independent PyPI `dlt698` client (pinned 1.0.1, a C++ implementation
with Python bindings, not our code) reads a `meterseal serve` subprocess over TCP and over a
pseudo-terminal serial link, and every value it decodes equals what the twin recorded for the
same scenario; a reset without authority is refused, an authorised one leaves its 3015 record
while our manufacturer object keeps the full history; and the peer's own engine, listening as a
master station, receives the meter's active report of a cover opening during an outage and
confirms it, which moves the row's 3300 status.

Quirks of the peer worked around here (docs/dlt698.md): its managed Client takes no security
backend, so the password association goes through its AsyncClient, whose engine overflows its
completion queue on an answer that carries a follow report — the sync client takes the meter's
follow reports first.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from meterseal.sim.scenario import load_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import SCENARIO, pty_link
from tests.dlt698_helpers import PASSWORD, WIRE_ADDRESS, PeerMaster, peer_client, serve698

dlt698 = pytest.importorskip("dlt698")
from dlt698 import _native as n  # noqa: E402
from dlt698.security import SecurityBackend  # noqa: E402

COVER, POWER_DOWN, CLEARS, MFR_COVER = 0x301B, 0x3011, 0x3015, 0xFF1B


@pytest.fixture(scope="module")
def twin():
    return result_dict(simulate(load_scenario(SCENARIO), trace=False))


def oad(oi: int, attribute: int, index: int = 0):  # type: ignore[no-untyped-def]
    return n.Oad(oi=oi, attribute=attribute, index=index)


def octets(t: str | None) -> list[int] | None:
    """The twin's ISO time as the 7 raw octets of a date_time_s."""
    if t is None:
        return None
    dt = datetime.fromisoformat(t)
    return [dt.year >> 8, dt.year & 0xFF, dt.month, dt.day, dt.hour, dt.minute, dt.second]


def cell(value):  # type: ignore[no-untyped-def]
    """A peer Data as plain Python: numbers, date_time_s octets, None for null."""
    kind = value.type.name
    if kind == "null":
        return None
    if kind == "date_time_s":
        return list(value.as_date_time_s())[:7]
    if kind in ("array", "structure"):
        return [cell(v) for v in value.value]
    if kind == "oad":
        o = value.value
        return (o.oi, o.attribute, o.index)
    if kind == "omd":
        m = value.value
        return (m.oi, m.method, m.mode)
    return value.value


def records(client, oi: int, rows):  # type: ignore[no-untyped-def]
    result = client.get_record(n.GetRecord(attribute=oad(oi, 2), columns=[], rows=rows))
    assert not isinstance(result.result, int), f"DAR {result.result}"
    columns = [(c.oi, c.attribute, c.index) for c in result.columns]
    return [dict(zip(columns, (cell(v) for v in row), strict=True)) for row in result.result]


def read_everything(client, twin) -> None:  # type: ignore[no-untyped-def]
    recs = twin["records"]
    newest = sorted(recs["cover_open"], key=lambda r: -r["seq"])
    rows = records(client, COVER, n.SelectAll())
    assert len(rows) == 10 and recs["cover_open_total"] == 13
    for row, want in zip(rows, newest, strict=True):
        assert row[(0x2022, 2, 0)] == want["seq"] - 1
        assert row[(0x201E, 2, 0)] == octets(want["opened_at"])
        assert row[(0x2020, 2, 0)] == octets(want["closed_at"])
        assert row[(0x0010, 0x22, 1)] == round(want["energy_before_kwh"]["import_active"] * 100)
        assert row[(0x0020, 0x22, 1)] == round(want["energy_before_kwh"]["export_active"] * 100)
        after = want["energy_after_kwh"]
        assert row[(0x0010, 0x82, 1)] == (None if after is None else round(
            after["import_active"] * 100))
        assert row[(0x3300, 2, 0)][0][0] == (0xF209, 2, 1)
    assert records(client, COVER, n.Selector9(previous=1)) == rows[:1]
    assert records(client, COVER, n.Selector9(previous=3)) == rows[2:3]
    by_number = n.Selector1(attribute=oad(0x2022, 2), value=n.Data.uint32(6))
    assert records(client, COVER, by_number) == [r for r in rows if r[(0x2022, 2, 0)] == 6]
    lo, hi = rows[5][(0x201E, 2, 0)], rows[1][(0x201E, 2, 0)]
    by_time = n.Selector2(attribute=oad(0x201E, 2), begin=n.Data.date_time_s(lo),
                          end=n.Data.date_time_s(hi), interval=n.Data.null())
    assert records(client, COVER, by_time) == rows[2:6]
    assert client.get(oad(COVER, 4)).require_data().value == 10
    (entry,) = cell(client.get(oad(COVER, 7)).require_data())
    assert entry[0] is None and entry[1][0] == recs["cover_open_total"]
    (status,) = cell(client.get(oad(COVER, 10)).require_data())
    assert status[1] == [octets(newest[0]["opened_at"]), octets(newest[0]["closed_at"])]
    pds = sorted(recs["power_down"], key=lambda p: p["from"], reverse=True)
    assert [(r[(0x201E, 2, 0)], r[(0x2020, 2, 0)]) for r in records(
        client, POWER_DOWN, n.SelectAll())] == [(octets(p["from"]), octets(p["to"])) for p in pds]
    clock = datetime(*_ymdhms(cell(client.get(oad(0x4000, 2)).require_data())))
    end = datetime.fromisoformat(newest[0]["opened_at"]).replace(tzinfo=None)
    assert end < clock < datetime(2026, 3, 3, 8, 0) + timedelta(minutes=10)


def _ymdhms(octets7: list[int]) -> tuple[int, ...]:
    return (octets7[0] << 8 | octets7[1], *octets7[2:7])


def test_the_peer_reads_the_meter_over_tcp(twin):
    with serve698() as served:
        client = peer_client(served.ports["DL/T 698.45"])
        try:
            read_everything(client, twin)
        finally:
            client.close()


def test_the_peer_reads_the_meter_over_a_pty(twin):
    with pty_link() as (meter_end, head_end), serve698(serial=meter_end, dlt698=False):
        client = peer_client(serial=head_end)
        try:
            read_everything(client, twin)
        finally:
            client.close()


def test_the_peer_takes_long_answers_in_link_segments(twin):
    with serve698() as served:
        client = peer_client(served.ports["DL/T 698.45"], receive_frame=128)
        try:
            rows = records(client, COVER, n.SelectAll())
            assert len(rows) == 10
        finally:
            client.close()


class _Password(SecurityBackend):
    """The peer's connect with the meter's password (no ciphering: the mechanism is plain)."""

    def __init__(self, password: str) -> None:
        super().__init__()
        self.password = password

    def begin_connect(self):  # type: ignore[no-untyped-def]
        return n.PasswordSecurity(password=self.password)

    def verify_connect(self, request, response) -> None:  # type: ignore[no-untyped-def]
        return None

    def accept_connect(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError  # a client never accepts

    def protect_request(self, application):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def open_request(self, message):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def protect_response(self, application):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def open_response(self, message):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def reset(self) -> None:
        return None


async def _authorised_reset(port: int, password: str) -> int:
    options = dlt698.ClientOptions(login_timeout=5.0, protocol=dlt698.SessionOptions(
        server=n.ServerAddress(bytes=WIRE_ADDRESS, type=n.AddressType.single),
        security_backend_factory=lambda: _Password(password), protect_application=False,
    ))
    client = dlt698.AsyncClient(options)
    try:
        await client.connect_tcp("127.0.0.1", port, dlt698.ConnectionProfile.local_public)
        result = await client.action(n.Omd(oi=COVER, method=1, mode=0), n.Data.int8(0))
        return int(result.dar)
    finally:
        await client.aclose()


def test_a_reset_needs_authority_and_hides_no_evidence(twin):
    with serve698() as served:
        port = served.ports["DL/T 698.45"]
        client = peer_client(port)
        try:
            for _ in range(3):  # take the follow reports the meter has for a first reader
                client.get(oad(0x4000, 2))
            refused = client.action(n.Omd(oi=COVER, method=1, mode=0), n.Data.int8(0))
            assert refused.dar == 15  # password error / unauthorised
            assert len(records(client, COVER, n.SelectAll())) == 10
            with pytest.raises(dlt698.Dlt698Error):
                asyncio.run(_authorised_reset(port, "000000"))
            assert asyncio.run(_authorised_reset(port, PASSWORD)) == 0
            assert records(client, COVER, n.SelectAll()) == []
            (clear,) = records(client, CLEARS, n.SelectAll())
            assert clear[(0x330C, 2, 6)] == [(COVER, 1, 0)]  # the method that cleared
            assert cell(client.get(oad(CLEARS, 7)).require_data())[0][1][0] == 1
            history = cell(client.get(oad(MFR_COVER, 2)).require_data())
            assert len(history) == 10 and all(row[1] is True for row in history)  # cleared
            assert [row[0] for row in history] == list(range(13, 3, -1))  # all-time seq
        finally:
            client.close()


def test_an_active_report_reaches_the_master_and_its_confirmation_shows_in_3300(twin):
    truth = twin["truth"]
    outages = [(datetime.fromisoformat(o["from"]), datetime.fromisoformat(o["to"]))
               for o in truth["outages"]]
    recs = twin["records"]
    held = [r for r in recs["cover_open"] if r["seq"] > recs["cover_open_total"] - 10]
    in_outage = [r for r in held if any(a <= datetime.fromisoformat(r["opened_at"]) < b
                                        for a, b in outages)]
    assert in_outage, "the scenario opens the cover during an outage"
    with PeerMaster() as master, serve698(report_to=master.port) as served:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(master.rows(COVER)) < 10:
            time.sleep(0.1)
        rows = master.rows(COVER)
        starts = {tuple(list(r[1].as_date_time_s())[:7]) for r in rows}
        for want in in_outage:
            assert tuple(octets(want["opened_at"])) in starts
        client = peer_client(served.ports["DL/T 698.45"])
        try:
            deadline = time.monotonic() + 20
            while True:
                statuses = [r[(0x3300, 2, 0)][0][1] for r in records(client, COVER,
                                                                     n.SelectAll())]
                if all(s == 0b11 for s in statuses) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert statuses == [0b11] * 10  # reported, and confirmed by the master
        finally:
            client.close()
